"""Settings of the sample web client; its configuration comes from `clients.config`.

It has no database: sessions (holding the tokens, server-side) are files under
`CLIENT_VAR_DIR`. Its cookie names differ from the server's because browsers share
cookies across the ports of one host.
"""

from urllib.parse import urlsplit

from clients.config import dev_secret_key, web_config

BOOKSHELF_CLIENT = web_config()

SECRET_KEY = BOOKSHELF_CLIENT.secret_key or dev_secret_key(BOOKSHELF_CLIENT.var_dir)
DEBUG = BOOKSHELF_CLIENT.debug
_redirect = urlsplit(BOOKSHELF_CLIENT.redirect_uri)
ALLOWED_HOSTS = list(
    dict.fromkeys([_redirect.hostname or "", "127.0.0.1", "localhost"])
)

INSTALLED_APPS = ["clients.web"]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "clients.web.middleware.ErrorPageMiddleware",
]
ROOT_URLCONF = "clients.web.urls"
WSGI_APPLICATION = "clients.web.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": ["django.template.context_processors.request"]
        },
    }
]
DATABASES: dict[str, dict[str, str]] = {}

SESSION_ENGINE = "django.contrib.sessions.backends.file"
SESSION_FILE_PATH = str(BOOKSHELF_CLIENT.var_dir / "sessions")
(BOOKSHELF_CLIENT.var_dir / "sessions").mkdir(parents=True, exist_ok=True)
SESSION_COOKIE_NAME = "marginalia_sessionid"
SESSION_COOKIE_AGE = 8 * 3600
CSRF_COOKIE_NAME = "marginalia_csrftoken"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _redirect.scheme == "https"
SECURE_REFERRER_POLICY = "same-origin"  # never leak ?code= to other sites
X_FRAME_OPTIONS = "DENY"

USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = False

# Every log line goes through one handler that redacts credentials: runserver's
# access log would otherwise print the callback's `?code=...`.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "clients.web.log_filters.RedactCredentials"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact"],
        }
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
