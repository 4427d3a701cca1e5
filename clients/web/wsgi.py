"""WSGI entry point of the sample web client."""

import os

from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "clients.web.settings"
application = get_wsgi_application()
