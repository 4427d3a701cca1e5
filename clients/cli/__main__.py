"""`python -m clients.cli ...`."""

import sys

from clients.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
