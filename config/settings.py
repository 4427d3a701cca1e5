"""Django settings: the only module that reads the environment.

Every variable is listed in the configuration table of docs/operating.md. Without
DATABASE_URL and REDIS_URL the server runs on an SQLite file and a local-memory cache; with DEBUG off,
SECRET_KEY, ALLOWED_HOSTS and an OIDC signing key are required.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from oauth_server import capabilities, keys, resource_servers, scopes, user_codes

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A `.env` file (KEY=value lines; ENV_FILE names another) fills in what the
# environment does not set, so `manage.py` commands run as `make run` does.
_env_file = Path(env.str("ENV_FILE", default=str(BASE_DIR / ".env")))
if _env_file.is_file():
    environ.Env.read_env(_env_file, overwrite=False)
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)

# Importing settings writes nothing to disk with DEBUG off: a deployment creates its
# directories and keys itself. In development, VAR_DIR holds the SQLite file and the
# generated SECRET_KEY and OIDC key.
if DEBUG:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    SECRET_KEY = env.str("SECRET_KEY", default="") or keys.dev_secret_key(VAR_DIR)
    ALLOWED_HOSTS = env.list(
        "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"]
    )
else:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
    if not SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS is required when DEBUG is off.")
# Earlier keys, still accepted for signed values (sessions, password reset links)
# while SECRET_KEY is rotated (docs/production.md).
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

# The one public origin of this server (`https://auth.example.com`): the OAuth and
# OIDC issuer, and the origin of every absolute URL the server writes, whatever Host
# header a request carries. Required in production; in development, unset means
# "the origin each request arrived at", so `make run` works on any loopback port.
OAUTH_ISSUER = env.str("OAUTH_ISSUER", default="").rstrip("/")
if OAUTH_ISSUER:
    _parts = urlsplit(OAUTH_ISSUER)
    if (
        _parts.scheme not in ("https", "http")
        or not _parts.netloc
        or _parts.path
        or _parts.query
        or _parts.fragment
    ):
        raise ImproperlyConfigured(
            f"OAUTH_ISSUER must be an origin such as https://auth.example.com, "
            f"not {OAUTH_ISSUER!r}."
        )
    if _parts.scheme != "https" and not DEBUG:
        raise ImproperlyConfigured(
            "OAUTH_ISSUER must be an https URL when DEBUG is off."
        )
elif not DEBUG:
    raise ImproperlyConfigured(
        "OAUTH_ISSUER is required when DEBUG is off (https://auth.example.com)."
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    # Failed sign-in counting and lockout (oauth_server/sign_in.py).
    "axes",
    # Before oauth2_provider, so our templates override DOT's.
    "oauth_server",
    "oauth2_provider",
    # Resource API
    "django_filters",
    "csp",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "resources",
]

MIDDLEWARE = [
    # First: every response carries X-Request-ID and gets one log line (ops/).
    "ops.middleware.RequestLogMiddleware",
    # Before any host, https or session handling: load balancers probe over plain
    # http, by address, often with a Host header outside ALLOWED_HOSTS.
    "ops.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (collected by `make serve`), compressed, before sessions and CSRF.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "oauth_server.middleware.ContentLengthMiddleware",
    "oauth_server.middleware.CanonicalOriginMiddleware",
    "oauth_server.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before CommonMiddleware (Django's order); OIDC `ui_locales`
    # first, then Accept-Language (oauth_server/i18n.py).
    "oauth_server.middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns axes' refusal into the lockout page, before CSRF middleware
    # (outside it) sets the cookie the page's form needs.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
}
# Pages and OAuth flows run each request in one transaction (the sign-in lock and
# consent rely on it). The hot JSON endpoints opt out (`non_atomic_requests`): the
# resource API, whose writes are atomic services, and the read-only introspection
# and userinfo; the token endpoint opens its own transaction where a grant needs one.
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default under parallel requests: a transaction takes the write
    # lock when it begins (no "database is locked" when two upgrade at once), WAL
    # lets readers run beside the writer, and a waiting writer waits, not fails.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests on a file too, not in memory: live-server tests then race real
    # connections with the same locking as a deployment has.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
# Persistent connections: a new connection per request costs more than most of
# our requests. A kept connection is tested before a request reuses it, so a
# database restart costs the requests in flight (a 503, ops/unavailable.py), not
# every later one.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool(
    "CONN_HEALTH_CHECKS", default=True
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Redis down: served without the cache, logged once (ops/cache.py).
            "BACKEND": "ops.cache.TolerantRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="bookshelf"),
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            # Bearer entries (about 2 KB each), applications and list pages of one
            # process: Django's default of 300 entries would evict live tokens early.
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    }
# Whether every server process sees the same default cache (Redis). Without it each
# process keeps its own ("local mode"): the bearer and catalogue caches still serve
# from it, but learn of other processes' writes from a counter row in the database,
# one primary-key read per request (oauth_server/token_cache.py,
# resources/list_cache.py).
CACHE_SHARED = bool(REDIS_URL)

# User passwords keep Django's PBKDF2; client secrets use the fast hasher for
# 256-bit generated secrets (see oauth_server/hashers.py and the README).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "oauth_server.hashers.GeneratedSecretHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The languages of the browser pages, also advertised as `ui_locales_supported`.
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
# Compiled catalogues are committed (locale/*/LC_MESSAGES/django.mo): no gettext
# needed at run time; `make messages` updates them (docs/contributing.md).
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
# WhiteNoise serves STATIC_ROOT (`collectstatic`, which `make serve` runs) with gzip
# variants; in development it reads the apps' static folders directly.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Request size limits: oversized OAuth requests get a 400, never a 500.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int(
    "DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024
)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

# Reverse proxies in front of the server (README, production notes). 0: clients
# connect directly. N: every request passes N proxies, each appending the address it
# saw to X-Forwarded-For, the outermost terminating TLS and setting X-Forwarded-Proto;
# the client address is the N-th from the right (oauth_server/net.py).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")
if env.str("SECURE_PROXY_SSL_HEADER", default=""):
    raise ImproperlyConfigured(
        "SECURE_PROXY_SSL_HEADER is replaced by TRUSTED_PROXY_COUNT: set it to the "
        "number of proxies in front of the server (1 for one TLS proxy)."
    )
if TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# /healthz and /readyz answer before SecurityMiddleware (ops.middleware), so probes
# over plain http are never redirected; listed here too for anyone reordering it.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG
)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_NAME = "authserver_sessionid"
CSRF_COOKIE_NAME = "authserver_csrftoken"
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp 4 format). Scripts and styles come from this
# origin or carry the per-response nonce (`request.csp_nonce`); no inline handlers,
# no plugins, no <base>, never framed. Pages that send the browser on to a client
# add that client's origin to form-action (oauth_server/csp.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

# --- OAuth 2.0 / OpenID Connect (django-oauth-toolkit) ---------------------------------

OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth_server.Application"
# DOT's own models, named so migrations can depend on them (personal access tokens,
# the sign-in time of codes and ID tokens).
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"

OIDC_KEY_DIR = Path(env.str("OIDC_KEY_DIR", default=str(VAR_DIR / "oidc")))
_oidc_pem = env.str("OIDC_RSA_PRIVATE_KEY", default="", multiline=True)
if _oidc_pem:
    OIDC_KEYS = keys.SigningKeys(
        active=_oidc_pem,
        retired=tuple(
            Path(p).read_text()
            for p in env.list("OIDC_RSA_RETIRED_KEY_FILES", default=[])
        ),
    )
else:
    OIDC_KEYS = keys.load_key_dir(OIDC_KEY_DIR, create=DEBUG)
    if OIDC_KEYS is None:
        raise ImproperlyConfigured(
            f"No OIDC signing key: set OIDC_RSA_PRIVATE_KEY or put active.pem in "
            f"{OIDC_KEY_DIR} (python manage.py rotateoidckey creates one)."
        )

ACCESS_TOKEN_EXPIRE_SECONDS = env.int("ACCESS_TOKEN_EXPIRE_SECONDS", default=3600)
REFRESH_TOKEN_EXPIRE_SECONDS = env.int(
    "REFRESH_TOKEN_EXPIRE_SECONDS", default=30 * 86400
)
ID_TOKEN_EXPIRE_SECONDS = env.int("ID_TOKEN_EXPIRE_SECONDS", default=3600)
# http redirect URIs are accepted for loopback hosts only, and only when this is on.
OAUTH_ALLOW_HTTP_LOOPBACK_REDIRECTS = env.bool(
    "OAUTH_ALLOW_HTTP_LOOPBACK_REDIRECTS", default=DEBUG
)

OAUTH2_PROVIDER = {
    "SCOPES": scopes.SCOPES,
    "SCOPES_BACKEND_CLASS": "oauth_server.scopes_backend.ApplicationScopes",
    "OAUTH2_SERVER_CLASS": "oauth_server.server.Server",
    "OAUTH2_VALIDATOR_CLASS": "oauth_server.validators.OAuth2Validator",
    "APPLICATION_ADMIN_CLASS": "oauth_server.application_admin.ApplicationAdmin",
    "ACCESS_TOKEN_ADMIN_CLASS": "oauth_server.token_admin.AccessTokenAdmin",
    "REFRESH_TOKEN_ADMIN_CLASS": "oauth_server.token_admin.RefreshTokenAdmin",
    "GRANT_ADMIN_CLASS": "oauth_server.token_admin.GrantAdmin",
    "CLIENT_SECRET_HASHER": "generated_secret_sha256",
    "CLIENT_SECRET_GENERATOR_LENGTH": 64,  # 64 chars of 62 symbols: 381 bits
    # Access and refresh tokens: 256 bits, one call to the OS (oauth_server/tokens.py).
    "ACCESS_TOKEN_GENERATOR": "oauth_server.tokens.generate",
    # Lifetimes
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ACCESS_TOKEN_EXPIRE_SECONDS": ACCESS_TOKEN_EXPIRE_SECONDS,
    "REFRESH_TOKEN_EXPIRE_SECONDS": REFRESH_TOKEN_EXPIRE_SECONDS,
    "ID_TOKEN_EXPIRE_SECONDS": ID_TOKEN_EXPIRE_SECONDS,
    # Hardening, spelled out even where it is DOT's default.
    "PKCE_REQUIRED": True,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,  # required by hashed token storage
    "ALLOW_URI_WILDCARDS": False,
    "ALLOWED_REDIRECT_URI_SCHEMES": (
        ["https", "http"] if OAUTH_ALLOW_HTTP_LOOPBACK_REDIRECTS else ["https"]
    ),
    "REQUEST_APPROVAL_PROMPT": "force",
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": not OAUTH_ALLOW_HTTP_LOOPBACK_REDIRECTS,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    # What we offer, and so what discovery advertises (oauth_server/capabilities.py).
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": list(capabilities.RESPONSE_TYPES),
    "OIDC_RESPONSE_TYPES_SUPPORTED": list(capabilities.RESPONSE_TYPES),
    "OAUTH2_GRANT_TYPES_SUPPORTED": list(capabilities.GRANT_TYPES),
    "OAUTH2_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": list(
        capabilities.CLIENT_AUTH_METHODS
    ),
    "OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": list(
        capabilities.CLIENT_AUTH_METHODS
    ),
    # OpenID Connect
    "OIDC_ENABLED": True,
    "OIDC_ISS_ENDPOINT": OAUTH_ISSUER,
    "OIDC_RSA_PRIVATE_KEY": OIDC_KEYS.active,
    "OIDC_RSA_PRIVATE_KEYS_INACTIVE": list(OIDC_KEYS.retired),
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": True,
    "OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS": True,
    # Device authorization (RFC 8628); a relative URI is made absolute per request.
    "OAUTH_DEVICE_VERIFICATION_URI": "/o/device/",
    "OAUTH_DEVICE_USER_CODE_GENERATOR": user_codes.generate,
    # DOT's hook finds the grant by the raw device code; ours (oauth_server/device.py)
    # runs inside the grant, by the code's hash and for the client that asked.
    "OAUTH_PRE_TOKEN_VALIDATION": [],
    "DEVICE_FLOW_INTERVAL": 5,
    # Clients that register themselves, under the policy set in the admin
    # (oauth_server/registration.py, oauth_server/cimd.py). Our registration view
    # applies that policy; DOT's permission list is empty so its own view, were it
    # ever mounted, would refuse everyone.
    "DCR_ENABLED": True,
    "DCR_REGISTRATION_PERMISSION_CLASSES": (),
    "CIMD_ENABLED": True,
    "CIMD_METADATA_FETCHER": "oauth_server.cimd.MetadataFetcher",
    "CIMD_REGISTRATION_PERMISSION_CLASSES": ("oauth_server.cimd.PolicyPermission",),
    # RFC 9728 protected resource metadata
    "OAUTH2_PROTECTED_RESOURCE_NAME": "Bookshelf catalogue API",
    # RFC 8707: which audience a bearer request needs (oauth_server/audience.py).
    "RESOURCE_SERVER_TOKEN_RESOURCE_VALIDATOR": "oauth_server.audience.allows_request",
}

# --- Resource API (resources/): DRF, throttling, OpenAPI ----------------------------

# Rates per OAuth application, per user, and for writes (DRF rate strings such as
# "100/minute"); counted in the default cache, so Redis shares them between processes.
API_THROTTLE_RATES = {
    "application": env.str("API_RATE_PER_APPLICATION", default="5000/hour"),
    "user": env.str("API_RATE_PER_USER", default="1000/hour"),
    "catalogue_writes": env.str("API_RATE_CATALOGUE_WRITES", default="200/hour"),
    "review_writes": env.str("API_RATE_REVIEW_WRITES", default="30/hour"),
}

# Seconds a catalogue list page may be served from the default cache; any save or
# delete of a book, author or review forgets every page at once, in every process
# (resources/list_cache.py; without Redis, for one query per list request).
CATALOGUE_CACHE_SECONDS = env.int("CATALOGUE_CACHE_SECONDS", default=60)

# The resource servers tokens are minted for (RFC 8707 resource indicators), each
# named by its canonical URI. The REST API's is the API root on the issuer's origin
# (tokens name it as their `aud`); the catalogue MCP server's is its endpoint. The
# MCP server's own confidential client may exchange the tokens it receives for
# tokens for the REST API (RFC 8693).
API_RESOURCE_URL = env.str(
    "API_RESOURCE_URL", default=f"{OAUTH_ISSUER or 'http://127.0.0.1:8000'}/api/"
)
MCP_SERVER_URL = env.str("MCP_SERVER_URL", default="http://127.0.0.1:8002/mcp")
MCP_CLIENT_ID = env.str("MCP_CLIENT_ID", default="bookshelf-mcp")
for _name, _url in (
    ("API_RESOURCE_URL", API_RESOURCE_URL),
    ("MCP_SERVER_URL", MCP_SERVER_URL),
):
    if resource_servers.normalise(_url) is None:
        raise ImproperlyConfigured(
            f"{_name} must be an absolute http(s) URL without query or fragment, "
            f"not {_url!r}."
        )

# The authorization server's own settings (oauth_server/conf.py has the defaults).
OAUTH_SERVER = {
    "trusted_proxy_count": TRUSTED_PROXY_COUNT,
    "login_failures_per_address": env.int("LOGIN_FAILURES_PER_ADDRESS", default=50),
    "user_code_failures_per_user": env.int("USER_CODE_FAILURES_PER_USER", default=5),
    "user_code_failures_per_address": env.int(
        "USER_CODE_FAILURES_PER_ADDRESS", default=50
    ),
    "user_code_lockout_seconds": env.int("USER_CODE_LOCKOUT_SECONDS", default=900),
    # Bearer-token lookups kept in the default cache (0: off); revocation and
    # deactivation forget them at once in every process (oauth_server/token_cache.py;
    # without Redis, for one query per lookup).
    "bearer_cache_seconds": env.int("BEARER_CACHE_SECONDS", default=300),
    "audit_retention_days": env.int("AUDIT_RETENTION_DAYS", default=365),
    # PostgreSQL: client-credentials tokens commit without waiting for the WAL flush
    # (oauth_server/conf.py says what a database crash may then lose).
    "client_credentials_async_commit": env.bool(
        "CLIENT_CREDENTIALS_ASYNC_COMMIT", default=True
    ),
    "oidc_key_dir": OIDC_KEY_DIR,
    "demo_credentials_file": VAR_DIR / "demo.json",
    "resource_servers": resource_servers.registry(
        api_url=API_RESOURCE_URL,
        mcp_url=MCP_SERVER_URL,
        mcp_client_ids=(MCP_CLIENT_ID,),
    ),
}

# --- Sign-in protection (django-axes; our hooks in oauth_server/sign_in.py) -------------

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out account or address before any password is checked
    # (axes' backend, one try at a time per account).
    "oauth_server.sign_in.SignInBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "oauth_server.sign_in.SignInHandler"
# Counted per account whatever the address, and per address whatever the username
# (its own limit, LOGIN_FAILURES_PER_ADDRESS above), never per pair.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURES_PER_ACCOUNT", default=5)
_lockout_seconds = env.int("LOGIN_LOCKOUT_SECONDS", default=900)
if _lockout_seconds < 1 or AXES_FAILURE_LIMIT < 1:
    raise ImproperlyConfigured(
        "LOGIN_LOCKOUT_SECONDS and LOGIN_FAILURES_PER_ACCOUNT must be 1 or more."
    )
AXES_COOLOFF_TIME = timedelta(seconds=_lockout_seconds)
AXES_USERNAME_CALLABLE = "oauth_server.sign_in.username_key"
AXES_CLIENT_IP_CALLABLE = "oauth_server.sign_in.address_key"
AXES_LOCKOUT_CALLABLE = "oauth_server.sign_in.lockout_response"
# A success does not clear the address count (an attacker with an account of their
# own could reset it between sprays), and tries during a lockout neither extend it
# nor grow the attempt rows.
AXES_RESET_ON_SUCCESS = False
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Failed attempts only; successful sign-ins are not recorded in the database.
AXES_DISABLE_ACCESS_LOG = True
# Masked in axes' logs and in the form data it stores.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "csrfmiddlewaretoken"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so a 401 carries its `WWW-Authenticate: Bearer` challenge.
        "resources.authentication.BearerTokenAuthentication",
        # The browsable API (HTML) for signed-in users; JSON and XML need a token.
        "resources.authentication.BrowsableAPISessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # The browsable API before XML: DRF picks the first renderer matching any type of
    # equal precedence in Accept, and browsers list application/xml after text/html.
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "resources.renderers.BrowsableAPIRenderer",
        "resources.renderers.XMLRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "resources.parsers.JSONParser",
        "resources.parsers.XMLParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "resources.filters.QueryFilterBackend",
        "resources.filters.StrictSearchFilter",
        "resources.filters.StrictOrderingFilter",
    ],
    # One class for the application, user and write rates: one cache round trip.
    "DEFAULT_THROTTLE_CLASSES": ["resources.throttling.ApiRateThrottle"],
    "DEFAULT_THROTTLE_RATES": API_THROTTLE_RATES,
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.URLPathVersioning",
    "DEFAULT_VERSION": "v1",
    "ALLOWED_VERSIONS": ["v1", "v2"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "resources.exceptions.api_exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

_issuer = OAUTH2_PROVIDER["OIDC_ISS_ENDPOINT"]  # empty: URLs relative to this origin
SPECTACULAR_SETTINGS = {
    "TITLE": "Bookshelf catalogue API",
    "DESCRIPTION": (
        "Books, authors and reader reviews. Call it with an OAuth 2 access token "
        "from this server (or a personal access token): reading needs "
        f"`{scopes.BOOKS_READ}`, writing `{scopes.BOOKS_WRITE}`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "COMPONENT_SPLIT_REQUEST": True,
    # Document bearer tokens only; the session is for the browsable API.
    "AUTHENTICATION_WHITELIST": ["resources.authentication.BearerTokenAuthentication"],
    # Swagger UI and ReDoc from drf-spectacular-sidecar's static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "OAUTH2_FLOWS": ["authorizationCode"],
    "OAUTH2_AUTHORIZATION_URL": f"{_issuer}/o/authorize/",
    "OAUTH2_TOKEN_URL": f"{_issuer}/o/token/",
    "OAUTH2_REFRESH_URL": f"{_issuer}/o/token/",
    "OAUTH2_SCOPES": {
        name: scopes.SCOPES[name] for name in (scopes.BOOKS_READ, scopes.BOOKS_WRITE)
    },
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "persistAuthorization": False},
    # "Authorize" runs authorization code + PKCE with the public client `api-docs`.
    "SWAGGER_UI_OAUTH2_CONFIG": {
        "clientId": "api-docs",
        "usePkceWithAuthorizationCodeGrant": True,
        "scopes": [scopes.BOOKS_READ],
    },
}

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# "json": one JSON object per line (production); "text": for people (development).
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}.")
# Every handler redacts credentials (oauth_server/log_filters.py) and stamps the
# request id (ops/log.py). Django's own `django` and `django.server` loggers are
# configured here too, so that none keeps a handler of Django's default LOGGING,
# which would print without the filters. Each request gets one line from
# `ops.requests` (ops/middleware.py); a server error is logged once, by
# `django.request`, with its traceback.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact": {"()": "oauth_server.log_filters.RedactSecrets"},
        "request_id": {"()": "ops.log.RequestIdFilter"},
    },
    "formatters": {
        "text": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
        },
        "json": {"()": "ops.log.JsonFormatter"},
        "access": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id", "redact"],
        },
        "access": {
            "class": "logging.StreamHandler",
            "formatter": "access",
            "filters": ["redact"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        # runserver's access log: request lines with their query strings.
        "django.server": {"handlers": ["access"], "level": "INFO", "propagate": False},
        "django.request": {"level": "ERROR"},
        "oauth2_provider": {"level": "WARNING"},
        # Failures and lockouts are warnings; each request's clean-up is not news.
        "axes": {"level": "WARNING"},
    },
}
