"""Log records that name their request, and one JSON object per line.

Imports no Django, so gunicorn's master process can use the formatter too
(config/gunicorn.py).
"""

import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

# The id of the request this thread or task is serving; "-" outside requests.
request_id: ContextVar[str] = ContextVar("request_id", default="-")

# What a record may add to the JSON object, beyond time, level, logger and
# message: the request line's fields (ops/middleware.py). Anything else a library
# passes in `extra` stays out: Django's `django.request` records carry the request
# object, whose repr holds the query string.
REQUEST_FIELDS = (
    "method",
    "path",
    "status",
    "duration_ms",
    "client_address",
    "client_id",
    "user_id",
)


class RequestIdFilter(logging.Filter):
    """Stamp each record with the current request id (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(_JsonFormatter):
    """One JSON object per record, from a fixed set of fields.

    Put it after `RedactSecrets` (oauth_server/log_filters.py), which leaves the
    record holding only its redacted message and traceback.
    """

    def add_fields(
        self,
        log_data: dict[str, Any],
        record: logging.LogRecord,
        message_dict: dict[str, Any],
    ) -> None:
        log_data["time"] = datetime.fromtimestamp(record.created, tz=UTC).isoformat(
            timespec="milliseconds"
        )
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = record.message
        log_data["request_id"] = getattr(record, "request_id", request_id.get())
        for field in REQUEST_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                log_data[field] = value
        # RedactSecrets leaves the redacted traceback in exc_text; the library's
        # own rendering of exc_info would be the unredacted one.
        if exc_text := record.exc_text or message_dict.get("exc_info"):
            log_data["exc_info"] = exc_text
        if stack_info := message_dict.get("stack_info"):
            log_data["stack_info"] = stack_info
