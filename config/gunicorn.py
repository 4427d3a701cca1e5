"""gunicorn settings for `make serve` (`gunicorn -c config/gunicorn.py config.wsgi`).

Read from the environment like config/settings.py; docs/production.md lists the
variables. Django writes the per-request log line itself (ops/middleware.py), so
gunicorn's own access log stays off; its error log (start-up, worker restarts and
timeouts) uses the same JSON format when LOG_FORMAT is json.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# A worker silent this long is killed and replaced (seconds).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# Behind a proxy that reuses upstream connections, keep them longer than it does.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then, so a slow leak cannot grow without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = max_requests // 10
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# gunicorn trusts X-Forwarded-* only for wsgi.url_scheme; Django decides with
# TRUSTED_PROXY_COUNT (config/settings.py), so gunicorn trusts no one.
forwarded_allow_ips = ""
proc_name = "bookshelf"
# gunicorn 27's control socket is one path per user ($HOME/.gunicorn/gunicorn.ctl):
# several instances on one host would fight over it, and nothing here uses it.
control_socket_disable = True

_debug = os.environ.get("DEBUG", "false").lower() in ("1", "true", "yes", "on")
_format = os.environ.get("LOG_FORMAT", "text" if _debug else "json")
# gunicorn's error log names the request line (`Error handling request
# /o/authorize/?code=...`): it gets the same redaction as Django's handlers.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "ops.log.RequestIdFilter"},
        "redact": {"()": "oauth_server.log_filters.RedactSecrets"},
    },
    "formatters": {
        "json": {"()": "ops.log.JsonFormatter"},
        "text": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s"
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if _format == "json" else "text",
            "filters": ["request_id", "redact"],
            "stream": "ext://sys.stderr",
        }
    },
    "loggers": {
        "gunicorn.error": {
            "handlers": ["console"],
            "level": loglevel.upper(),
            "propagate": False,
        },
    },
}
