"""The production settings plus the benchmark's own endpoints and query counter.

Used only by `bench/run.py` (DJANGO_SETTINGS_MODULE=bench.settings); every value
still comes from the environment through config/settings.py.
"""

from config.settings import *  # noqa: F403
from config.settings import MIDDLEWARE

ROOT_URLCONF = "bench.urls"
# First, so it counts the queries of every other middleware and the view.
MIDDLEWARE = ["bench.middleware.QueryCountMiddleware", *MIDDLEWARE]
