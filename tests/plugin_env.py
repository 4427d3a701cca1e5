"""Loaded by pytest before Django: development defaults for a test run.

Tests run like `make run`: DEBUG on (generated dev secret and OIDC key, http on
loopback). pytest-django still runs each test with settings.DEBUG False.
"""

import os

os.environ.setdefault("DEBUG", "true")
