"""`python -m clients.web runserver 127.0.0.1:8001`: Django's manage.py for the client."""

import os
import sys

from django.core.management import execute_from_command_line

if __name__ == "__main__":
    # Forced, not defaulted: a shell (or pytest) may have the server's settings set.
    os.environ["DJANGO_SETTINGS_MODULE"] = "clients.web.settings"
    execute_from_command_line(sys.argv)
