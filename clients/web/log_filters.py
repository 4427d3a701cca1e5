"""Keeps credentials out of the web client's logs.

runserver's access log prints the callback's request line, `?code=...&state=...`;
the authorization code (and any token that might reach a message) is redacted.
"""

import logging
import re

_PARAMETER = re.compile(
    r"(?<![A-Za-z0-9_])((?:code|code_verifier|access_token|refresh_token|id_token"
    r"|id_token_hint|client_secret)=)[^&\s\"']+"
)
_CREDENTIALS = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]+=*", re.IGNORECASE)


class RedactCredentials(logging.Filter):
    """Rewrites each record to its message with credentials redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = f"{record.msg} {record.args!r}"
        message = _PARAMETER.sub(r"\1[redacted]", message)
        record.msg, record.args = _CREDENTIALS.sub(r"\1 [redacted]", message), ()
        return True
