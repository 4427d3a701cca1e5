"""No token, code, secret, verifier, device or user code, or ID token hint reaches a
log line (RFC 6819 §5.1.4.1.4, RFC 9700 §4.3.2; OWASP logging cheat sheet).

The flows run with every logger at DEBUG (and SQL logging on), and what the
configured handlers print is read back: the filter's wiring is under test, not
only the filter.
"""

import io
import logging
import re
from collections.abc import Iterator
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from django.core.cache import cache
from django.core.servers.basehttp import WSGIRequestHandler
from django.urls import reverse

from oauth_server.log_filters import REDACTED, RedactSecrets, redact
from tests.conftest import basic_auth
from tests.factories import AccessTokenFactory, ApplicationFactory
from tests.oauth_server.flows import (
    CodeRequest,
    authorize,
    exchange_code,
    form_post,
    json_of,
    token_request,
)
from tests.security.concurrency import PROXY_HEADERS, TIMEOUT

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
CLIENT = "https://client.example"


def configured_handlers() -> list[logging.Handler]:
    """Every handler our LOGGING attached to any logger (pytest's own left out)."""
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    handlers = []
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            if not type(handler).__module__.startswith("_pytest") and not isinstance(
                handler, logging.NullHandler
            ):
                handlers.append(handler)
    return list(dict.fromkeys(handlers))


@pytest.fixture
def log_output(settings) -> Iterator[io.StringIO]:
    """What the configured handlers print, with every logger at DEBUG."""
    settings.DEBUG = True  # Django logs SQL (with its parameters) only then
    output = io.StringIO()
    handlers = [
        h for h in configured_handlers() if isinstance(h, logging.StreamHandler)
    ]
    streams = [h.setStream(output) for h in handlers]
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    levels = {}
    for logger in loggers:
        if isinstance(logger, logging.Logger):
            levels[logger] = logger.level
            logger.setLevel(logging.DEBUG)
    yield output
    for logger, level in levels.items():
        logger.setLevel(level)
    for handler, stream in zip(handlers, streams, strict=True):
        handler.setStream(stream)


def assert_kept_out(output: str, secrets: dict[str, str]) -> None:
    leaked = [name for name, value in secrets.items() if value and value in output]
    assert leaked == [], [line for line in output.splitlines() if REDACTED not in line][
        :5
    ]


# --- The filter ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "kept"),
    [
        (
            '"GET /o/logout/?id_token_hint=eyJh.eyJz.sig&state=s HTTP/1.1" 302 0',
            "state=s",
        ),
        (
            '"GET /o/device/?user_code=ABCD-EFGH HTTP/1.1" 200 900',
            "/o/device/?user_code=",
        ),
        ("grant_type=authorization_code&code=c0de&code_verifier=v3r", "grant_type="),
        ("client_id=web&client_secret=s3cret&refresh_token=r3fresh", "client_id=web"),
        ("/accounts/login/?next=/o/authorize/%3Fclient_id%3Dweb%26code%3Dc0de", "web"),
        ("/callback?code=c0de&state=xyz&iss=https%3A%2F%2Fauth", "state=xyz"),
        ("{'code': 'c0de', 'state': 'xyz'}", "'state': 'xyz'"),
        ('{"access_token": "t0ken", "token_type": "Bearer"}', '"token_type"'),
        ("{'HTTP_AUTHORIZATION': 'Basic d2ViOnNlY3JldA=='}", "HTTP_AUTHORIZATION"),
        ("Authorization: Bearer t0ken", "Authorization"),
        ("{'HTTP_COOKIE': 'authserver_sessionid=s3cret'}", "HTTP_COOKIE"),
        ("{'csrf_token': <SimpleLazyObject: 's3cret'>}", "csrf_token"),
        ('WWW-Authenticate: Bearer error="invalid_token"', 'error="invalid_token"'),
        ("/o/device/web-client/ABCD1234/status/", "/o/device/web-client/"),
        ("created pat_abcdefghijklmnopqrstuvwxyz", "created"),
    ],
)
def test_filter_redacts_credentials(message, kept):
    """Values go, names and everything else stay."""
    redacted = redact(message)

    assert kept in redacted
    for secret in (
        "eyJh",
        "ABCD-EFGH",
        "c0de",
        "v3r",
        "s3cret",
        "r3fresh",
        "t0ken",
        "d2ViOnNlY3JldA",
        "ABCD1234",
        "pat_abc",
    ):
        assert secret not in redacted


def test_filter_redacts_arguments_named_as_credentials():
    """oauthlib's "Validating refresh token %s for client %r." loses the token only."""
    record = logging.LogRecord(
        "oauthlib",
        logging.DEBUG,
        __file__,
        1,
        "Validating refresh token %s for client %r.",
        ("r3fresh", "web"),
        None,
    )

    RedactSecrets().filter(record)

    assert (
        record.getMessage() == f"Validating refresh token {REDACTED} for client 'web'."
    )


def test_filter_redacts_sql_literals_and_exceptions():
    """SQL keeps its statement, not its values; tracebacks are redacted too."""
    sql = logging.LogRecord(
        "django.db.backends",
        logging.DEBUG,
        __file__,
        1,
        "(%.3f) %s; args=%s; alias=%s",
        (0.001, "SELECT 1 WHERE code = 'c0de'", ("c0de",), "default"),
        None,
    )
    sql.sql, sql.duration = "SELECT 1 WHERE code = 'c0de'", 0.001
    try:
        raise ValueError("bad refresh_token=r3fresh")
    except ValueError:
        import sys

        error = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )

    RedactSecrets().filter(sql)
    RedactSecrets().filter(error)

    assert sql.getMessage() == f"(0.001) SELECT 1 WHERE code = '{REDACTED}'"
    assert "r3fresh" not in error.exc_text
    assert "refresh_token=" in error.exc_text


def test_every_handler_redacts():
    """No logger keeps a handler without the filter (Django's defaults included)."""
    handlers = configured_handlers()

    assert handlers
    for handler in handlers:
        assert any(isinstance(f, RedactSecrets) for f in handler.filters), handler


# --- The flows -------------------------------------------------------------------------


@pytest.fixture
def device_app(db):
    return ApplicationFactory(
        client_type="public",
        authorization_grant_type=DEVICE_GRANT,
        redirect_uris="",
        post_logout_redirect_uris="",
        allowed_scopes="openid books:read",
    )


def test_flows_leave_no_secret_in_the_logs(
    client, user, web_app, introspector, device_app, log_output
):
    """Code + PKCE, refresh, userinfo, introspection, revocation, the device flow
    and RP-initiated logout: no value sent or issued appears in the logs."""
    secrets = {"client_secret": web_app.cleartext_secret}
    secrets["introspector_secret"] = introspector.cleartext_secret
    auth = (web_app.client_id, web_app.cleartext_secret)
    secrets["basic"] = basic_auth(*auth).split()[1]
    client.force_login(user)
    request = CodeRequest(
        client_id=web_app.client_id, redirect_uri=f"{CLIENT}/callback"
    )
    secrets["code_verifier"] = request.verifier
    code = authorize(client, request)["code"]
    secrets["code"] = code
    issued = json_of(exchange_code(client, request, code, auth=auth))
    refreshed = json_of(
        token_request(
            client,
            {"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]},
            auth=auth,
        )
    )
    for name in ("access_token", "refresh_token", "id_token"):
        secrets[name] = issued[name]
        secrets[f"refreshed_{name}"] = refreshed[name]
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {refreshed['access_token']}"}
    assert client.get(reverse("oauth2_provider:user-info"), **bearer).status_code == 200
    assert (
        client.get(
            reverse("oauth2_provider:user-info"),
            {"access_token": refreshed["access_token"]},
        ).status_code
        == 400
    )
    introspected = form_post(
        client,
        reverse("oauth2_provider:introspect"),
        {"token": refreshed["access_token"]},
        auth=(introspector.client_id, introspector.cleartext_secret),
    )
    assert introspected.json()["active"] is True
    revoked = form_post(
        client,
        reverse("oauth2_provider:revoke-token"),
        {"token": refreshed["refresh_token"], "token_type_hint": "refresh_token"},
        auth=auth,
    )
    assert revoked.status_code == 200
    # The device flow, with the code in the verification URI.
    started = json_of(
        form_post(
            client,
            reverse("oauth2_provider:device-authorization"),
            {"client_id": device_app.client_id, "scope": "books:read"},
        )
    )
    secrets["device_code"] = started["device_code"]
    secrets["user_code"] = started["user_code"]
    assert (
        client.get(
            urlsplit(started["verification_uri_complete"]).path,
            {"user_code": started["user_code"]},
        ).status_code
        == 200
    )
    confirm = client.post(
        reverse("oauth2_provider:device"), {"user_code": started["user_code"]}
    )
    client.post(confirm["Location"], {"action": "accept"})
    cache.clear()
    device_tokens = json_of(
        token_request(
            client,
            {
                "grant_type": DEVICE_GRANT,
                "device_code": started["device_code"],
                "client_id": device_app.client_id,
            },
        )
    )
    secrets["device_access_token"] = device_tokens["access_token"]
    # A personal access token, shown once.
    personal = client.post(
        "/api/v1/personal-tokens/",
        {"name": "laptop", "scope": "books:read"},
        content_type="application/json",
    )
    secrets["personal_token"] = personal.json()["token"]
    # RP-initiated logout with the ID token as hint.
    logout = f"{reverse('oauth2_provider:rp-initiated-logout')}?" + urlencode(
        {
            "id_token_hint": issued["id_token"],
            "post_logout_redirect_uri": f"{CLIENT}/",
            "client_id": web_app.client_id,
        }
    )
    assert client.get(logout).status_code == 200
    assert (
        client.post(
            logout,
            {
                "allow": "Logout",
                "id_token_hint": issued["id_token"],
                "client_id": web_app.client_id,
                "post_logout_redirect_uri": f"{CLIENT}/",
            },
        ).status_code
        == 302
    )

    # A replayed code: refused, and the tokens it produced are revoked (warnings).
    assert exchange_code(client, request, code, auth=auth).status_code == 400

    output = log_output.getvalue()
    assert "oauthlib" in output  # DEBUG lines were written
    assert "django.db.backends" in output
    assert REDACTED in output
    assert_kept_out(output, secrets)


@pytest.mark.django_db(transaction=True)
def test_access_log_leaves_no_secret(live_server, user, web_app, log_output):
    """runserver's access log (`django.server`) prints request lines with their
    query strings; none of the credentials in them is printed."""
    handler = live_server.thread.httpd.RequestHandlerClass
    live_server.thread.httpd.RequestHandlerClass = WSGIRequestHandler
    token = AccessTokenFactory(user=user, application=web_app, scope="openid")
    secrets = {
        "access_token": token.cleartext,
        "id_token_hint": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
        "user_code": "WXYZ-2345",
        "code": "c0deFromTheCallback",
    }
    urls = [
        f"/o/userinfo/?access_token={secrets['access_token']}",
        f"/o/logout/?id_token_hint={secrets['id_token_hint']}&state=s",
        f"/o/device/?user_code={secrets['user_code']}",
        f"/o/device/{web_app.client_id}/{secrets['user_code']}/",
        f"/accounts/login/?next=/o/authorize/%3Fcode%3D{secrets['code']}",
    ]
    try:
        for url in urls:
            requests.get(
                live_server.url + url,
                headers=PROXY_HEADERS,
                timeout=TIMEOUT,
                allow_redirects=False,
            )
    finally:
        live_server.thread.httpd.RequestHandlerClass = handler

    output = log_output.getvalue()
    assert re.search(
        r'"GET /o/logout/\?id_token_hint=\[redacted\]&state=s HTTP/1.1"', output
    ), output
    assert_kept_out(output, secrets)
