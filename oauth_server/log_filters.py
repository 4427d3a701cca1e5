"""A logging filter that keeps credentials out of every log line.

`LOGGING` in config/settings.py puts `RedactSecrets` on every handler, so it sees
each record whatever logger it came from: Django's access log (`django.server`
prints request lines with their query strings: `/o/logout/?id_token_hint=...`,
`/o/device/?user_code=...`), `django.request`, SQL at DEBUG, DOT (`Success url for
the request: ...?code=...`), oauthlib (at DEBUG it logs grants, issued token
dictionaries and refresh tokens it validates) and our own loggers.

The filter formats the record's message once, replaces what looks like a credential
with `[redacted]`, and leaves the record holding only the redacted text:

- values of sensitive parameters, in query strings and form bodies (also
  percent-encoded inside another URL, as in `?next=/o/authorize/%3Fcode%3D...`) and
  as keys of dict or JSON text;
- `Authorization` and `Cookie` header values (the session is a credential too), and
  `Bearer`/`Basic` credentials anywhere;
- arguments that a message names as a credential (`"refresh token %s"`);
- JWTs (ID tokens), personal access tokens, and the user code in the device
  confirmation path (`/o/device/<client_id>/<user_code>/`);
- every string literal of SQL statements (codes are stored in cleartext).
"""

import logging
import re

REDACTED = "[redacted]"

SENSITIVE_PARAMETERS = (
    "access_token",
    "refresh_token",
    "id_token",
    "id_token_hint",
    "token",
    "code",
    "client_secret",
    "code_verifier",
    "device_code",
    "user_code",
    "password",
    "client_assertion",
    "assertion",
    "subject_token",
    "actor_token",
    # Django's CSRF token: template debug logs dump the whole context.
    "csrfmiddlewaretoken",
    "csrf_token",
)
_NAMES = "|".join(sorted(SENSITIVE_PARAMETERS, key=len, reverse=True))
# Start of a parameter: not inside a longer name (`postcode=`), but after `?`/`&`
# also when those are percent-encoded once or twice.
_START = r"(?:^|(?<=[^A-Za-z0-9_%])|(?<=%3F)|(?<=%26)|(?<=%253F)|(?<=%2526))"
_PARAMETER = re.compile(
    rf"{_START}((?:{_NAMES})(?:=|%3D|%253D))((?:(?!%26|%2526)[^&\s\"'#;,<>)\]}}])+)",
    re.IGNORECASE,
)
_KEY_VALUE = re.compile(
    rf"""(["'](?:{_NAMES})["']\s*:\s*(?:<SimpleLazyObject:\s*)?b?)(?:'[^']*'|"[^"]*")""",
    re.IGNORECASE,
)
_AUTHORIZATION = re.compile(
    r"""((?:HTTP_)?(?:AUTHORIZATION|COOKIE)["']?\s*[:=]\s*["']?)[^"'\r\n,}]+""",
    re.IGNORECASE,
)
# A credential after its scheme, but not a challenge's parameters (`error="..."`).
_SCHEME_CREDENTIALS = re.compile(
    r"\b(Bearer|Basic|DPoP)\s+(?![A-Za-z_]+\s*=\s*\")[A-Za-z0-9\-._~+/]+=*",
    re.IGNORECASE,
)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_PERSONAL_TOKEN = re.compile(r"\bpat_[A-Za-z0-9_-]{8,}")
_DEVICE_CONFIRM_PATH = re.compile(r"(/device/[^/\s?#\"']+/)[^/\s?#\"']+")
_SQL_LITERAL = re.compile(r"'(?:[^']|'')*'")
# "Validating refresh token %s for client %r": the argument right after a name.
_NAMED_PLACEHOLDER = re.compile(
    r"(?:token|code|secret|verifier|hint|password|assertion)\W{0,3}$", re.IGNORECASE
)
_PLACEHOLDER = re.compile(
    r"%(?:\([^)]*\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?([diouxXeEfFgGcrsa%])"
)


def redact(text: str) -> str:
    """`text` with every credential it holds replaced by `[redacted]`."""
    text = _PARAMETER.sub(rf"\1{REDACTED}", text)
    text = _KEY_VALUE.sub(rf"\1'{REDACTED}'", text)
    text = _AUTHORIZATION.sub(rf"\1{REDACTED}", text)
    text = _SCHEME_CREDENTIALS.sub(rf"\1 {REDACTED}", text)
    text = _JWT.sub(REDACTED, text)
    text = _PERSONAL_TOKEN.sub(REDACTED, text)
    return _DEVICE_CONFIRM_PATH.sub(rf"\1{REDACTED}", text)


def _redact_named_arguments(msg: str, args: tuple) -> tuple:
    """`args` with those that `msg` introduces as a credential replaced."""
    args = list(args)
    index = 0
    for match in _PLACEHOLDER.finditer(msg):
        if match.group(1) == "%":
            continue
        if index < len(args) and _NAMED_PLACEHOLDER.search(msg[: match.start()]):
            args[index] = REDACTED
        index += 1
    return tuple(args)


def _message(record: logging.LogRecord) -> str:
    if record.name.startswith("django.db.backends") and hasattr(record, "sql"):
        # SQL with its parameters interpolated: keep the statement, not the values.
        sql = _SQL_LITERAL.sub(f"'{REDACTED}'", str(record.sql))
        return f"({getattr(record, 'duration', 0):.3f}) {sql}"
    msg = str(record.msg)
    args = record.args
    if isinstance(args, tuple) and args:
        record.args = _redact_named_arguments(msg, args)
    return record.getMessage()


class RedactSecrets(logging.Filter):
    """Rewrite each record to its message with credentials redacted (never drops)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = _message(record)
        except (TypeError, ValueError, KeyError):
            message = f"{record.msg} {record.args!r}"  # what logging would show
        record.msg = redact(message)
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
