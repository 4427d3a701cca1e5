#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A missing or wrong setting: one line saying which, not a traceback.
        sys.exit(
            f"ImproperlyConfigured: {exc} Set it in the environment or in .env "
            "(README, Configuration); for development: echo DEBUG=true >> .env"
        )


if __name__ == "__main__":
    main()
