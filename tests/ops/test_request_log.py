"""One JSON line per request, with an id that every log line and the response share."""

import io
import json
import logging
import re

import pytest
from django.urls import reverse

from oauth_server.log_filters import RedactSecrets
from oauth_server.views import HomeView
from ops.log import JsonFormatter, RequestIdFilter


@pytest.fixture
def json_lines():
    """The JSON log lines written while the test runs, through the production chain."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactSecrets())
    handler.setFormatter(JsonFormatter())
    # As in LOGGING: the root logger, and `django`, which does not propagate.
    loggers = [logging.getLogger(), logging.getLogger("django")]
    for logger in loggers:
        logger.addHandler(handler)
    previous = logging.getLogger("ops.requests").level
    logging.getLogger("ops.requests").setLevel(logging.INFO)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    for logger in loggers:
        logger.removeHandler(handler)
    logging.getLogger("ops.requests").setLevel(previous)


def request_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["logger"] == "ops.requests"]


@pytest.mark.django_db
def test_each_request_gets_one_line(client, json_lines):
    """Method, path without its query string, status, duration, address, request id."""
    response = client.get("/?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz")

    [line] = request_lines(json_lines())
    assert line["request_id"] == response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", line["request_id"])
    assert line["method"] == "GET"
    assert line["path"] == "/"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["client_address"] == "127.0.0.1"
    assert "user_id" not in line  # the page never looked the user up
    assert "SplxlOBeZQQYbYS6WxSbIA" not in json.dumps(json_lines())


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("edge-7f3a9c", True),
        ("A" * 64, True),
        ("A" * 65, False),
        ("abc def", False),
        ("abc\u00e9", False),
        ("</script>", False),
        ("", False),
    ],
)
@pytest.mark.django_db
def test_incoming_request_id_is_kept_only_when_sane(client, incoming, kept):
    """A proxy's X-Request-ID is reused if it is a plain token, else replaced."""
    response = client.get("/", HTTP_X_REQUEST_ID=incoming)

    assert (response["X-Request-ID"] == incoming) is kept
    assert re.fullmatch(r"[A-Za-z0-9-]{1,64}", response["X-Request-ID"])


@pytest.mark.django_db
def test_client_and_user_of_a_bearer_request_are_logged(
    api_client_for, token_for, reader, json_lines
):
    """An API call names its OAuth client and user, never the token."""
    access_token = token_for(reader, "books:read")

    response = api_client_for(access_token).get(reverse("api:book-list", args=["v1"]))

    [line] = request_lines(json_lines())
    assert response.status_code == 200
    assert line["client_id"] == access_token.application.client_id
    assert line["user_id"] == access_token.user.pk
    assert access_token.cleartext not in json.dumps(json_lines())


def test_client_address_follows_trusted_proxies(db, client, settings, json_lines):
    """Behind one trusted proxy the logged address is the one that proxy saw."""
    settings.OAUTH_SERVER = {**settings.OAUTH_SERVER, "trusted_proxy_count": 1}

    client.get(
        "/", HTTP_X_FORWARDED_FOR="198.51.100.9, 203.0.113.7", REMOTE_ADDR="10.0.0.2"
    )

    [line] = request_lines(json_lines())
    assert line["client_address"] == "203.0.113.7"


@pytest.mark.django_db
def test_user_codes_in_paths_are_redacted(client, json_lines):
    """The device confirmation path's user code never reaches the log."""
    client.get("/o/device/some-client/WDJB-MJHT/")

    [line] = request_lines(json_lines())
    assert "WDJB-MJHT" not in json.dumps(json_lines())
    assert line["path"] == "/o/device/some-client/[redacted]/"


@pytest.mark.django_db
def test_server_error_is_logged_once_with_the_request_id(
    client, json_lines, monkeypatch
):
    """A 500 gives one traceback line and one request line, both with the id."""

    def boom(self, request, *args, **kwargs):
        logging.getLogger("oauth_server.views").warning("about to fail")
        raise RuntimeError("failed on ?code=SplxlOBeZQQYbYS6WxSbIA")

    monkeypatch.setattr(HomeView, "get", boom)
    client.raise_request_exception = False

    response = client.get("/?token=abc")

    lines = json_lines()
    assert response.status_code == 500
    assert [line["logger"] for line in lines] == [
        "oauth_server.views",
        "django.request",
        "ops.requests",
    ]
    assert {line["request_id"] for line in lines} == {response["X-Request-ID"]}
    assert [bool(line.get("exc_info")) for line in lines] == [False, True, False]
    assert "SplxlOBeZQQYbYS6WxSbIA" not in json.dumps(lines)
    assert "token=abc" not in json.dumps(lines)  # nor the request's query string
    assert set(lines[1]) == {
        "time",
        "level",
        "logger",
        "message",
        "request_id",
        "exc_info",
    }


def test_lines_outside_requests_have_no_request_id(json_lines):
    """Start-up and command lines carry "-" as their request id."""
    logging.getLogger("oauth_server").warning("outside")

    [line] = json_lines()
    assert line["request_id"] == "-"
    assert line["message"] == "outside"
