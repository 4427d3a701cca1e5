"""The API's one exception handler and its RFC 6750 errors."""

import logging

from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http.multipartparser import MultiPartParserError
from oauth2_provider.www_authenticate import build_bearer_challenge
from rest_framework.exceptions import ParseError, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

logger = logging.getLogger(__name__)


class InsufficientScope(PermissionDenied):
    """A valid token without the scope this request needs (RFC 6750 §3.1)."""

    default_code = "insufficient_scope"

    def __init__(self, scopes: list[str]) -> None:
        self.scopes = list(scopes)
        super().__init__(
            detail=f"This request needs the scope(s): {' '.join(self.scopes)}.",
            code=self.default_code,
        )


class TokenOutsideHeader(ParseError):
    """An access token sent in the URL or the body (RFC 6750 §2.1, §5.3; RFC 9700
    §4.3.2): refused as `invalid_request` (a 400, RFC 6750 §3.1), even if valid."""

    default_detail = (
        "Send the access token in the Authorization header (Bearer), not in the "
        "URL or the request body."
    )
    default_code = "invalid_request"

    def __init__(self, challenge: str) -> None:
        super().__init__()
        self.auth_header = challenge  # DRF's handler sends it as WWW-Authenticate


class PayloadTooLarge(ParseError):
    """A request body over `DATA_UPLOAD_MAX_MEMORY_SIZE` (a 400, like other bad input)."""

    default_detail = "The request body is too large."
    default_code = "payload_too_large"


# What Django (too many fields, a broken multipart body) and DOT (a malformed
# %-escape in the query string) raise for requests they will not parse; DRF passes
# them on, so Django would answer with its HTML 400 page.
UNPARSEABLE_REQUEST = (SuspiciousOperation, MultiPartParserError, BadRequest)


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler, plus Django `ValidationError` from services, oversized and
    unparseable requests as a 400, and `WWW-Authenticate: Bearer
    error="insufficient_scope"` on scope failures.
    """
    # Imported here: rest_framework.views loads our authentication class (which
    # uses PayloadTooLarge) through its settings, so a module import would cycle.
    from rest_framework.views import exception_handler

    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(detail=as_serializer_error(exc))
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, UNPARSEABLE_REQUEST):
        # Django would have logged these as security events; keep a trace.
        logger.warning("unparseable request refused: %s", type(exc).__name__)
        exc = ParseError(f"The request cannot be parsed: {exc}")
    in_transaction = getattr(context.get("view"), "in_transaction", True)
    if not in_transaction and transaction.get_connection().in_atomic_block:
        # DRF marks the innermost transaction for rollback when ATOMIC_REQUESTS is
        # on. A read that runs outside any transaction of its own must not mark
        # its caller's (a test's): the mark goes to a savepoint.
        with transaction.atomic():
            response = exception_handler(exc, context)
    else:
        response = exception_handler(exc, context)
    if isinstance(exc, InsufficientScope) and response is not None:
        request = context["request"]
        response["WWW-Authenticate"] = build_bearer_challenge(
            request,
            oauth2_error={
                "error": "insufficient_scope",
                "error_description": "The access token lacks a required scope.",
                "scope": " ".join(exc.scopes),
            },
            realm="api",
        )
    return response
