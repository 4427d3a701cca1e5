"""Hostile and malformed inputs, and the endpoints `test_bad_input` sends them to.

Every input goes to every endpoint: query strings with the endpoint's main method,
bodies with the method that takes one (POST to a GET-only endpoint, which must say
405 in JSON), headers with the main method.
"""

import base64
import json
from dataclasses import dataclass
from urllib.parse import quote

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
XML = "application/xml"


@dataclass(frozen=True)
class Endpoint:
    """One URL, how it is called, and how it must answer bad input.

    `kind`: "api" (DRF JSON errors), "oauth" (RFC 6749 §5.2 JSON errors) or "page"
    (a browser page: an error page or a redirect, never a 5xx). `path` is
    formatted with the ids of the test data; `auth` names the credentials sent;
    `params` are where a bad value goes in a query string or form body, and
    `payload` is a valid JSON body whose `slot` field gets the bad value.
    """

    name: str
    kind: str
    path: str
    method: str = "GET"
    write: str = "POST"
    auth: str = "bearer"
    params: tuple[str, ...] = ()
    payload: str = ""
    slot: str = ""


API_QUERY = ("search", "ordering", "cursor", "page", "page_size", "year", "min_price")
OAUTH_PARAMS = ("client_id", "token", "scope", "grant_type", "token_type_hint")
AUTHORIZE_PARAMS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "claims",
    "prompt",
    "id_token_hint",
)
LOGOUT_PARAMS = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state")

ENDPOINTS = [
    Endpoint("api root", "api", "/api/v1/"),
    Endpoint("books", "api", "/api/v1/books/", params=API_QUERY, payload="book", slot="title"),
    Endpoint("books v2", "api", "/api/v2/books/", params=API_QUERY, payload="book_v2", slot="title"),
    Endpoint("book", "api", "/api/v1/books/{book}/", write="PATCH", payload="title", slot="title"),
    Endpoint("book v2", "api", "/api/v2/books/{book}/", write="PUT", payload="book_v2", slot="summary"),
    Endpoint("reviews", "api", "/api/v1/books/{book}/reviews/", params=("rating", "min_rating", "cursor"), payload="review", slot="text"),
    Endpoint("review", "api", "/api/v1/books/{book}/reviews/{review}/", write="PATCH", payload="review", slot="text"),
    Endpoint("authors", "api", "/api/v1/authors/", params=("name", "born_after", "page", "page_size"), payload="author", slot="name"),
    Endpoint("author", "api", "/api/v1/authors/{author}/", write="PATCH", payload="author", slot="biography"),
    Endpoint("author books", "api", "/api/v1/authors/{author}/books/", params=API_QUERY, payload="author_book", slot="isbn"),
    Endpoint("author stats", "api", "/api/v1/authors/stats/", params=("ordering", "page")),
    Endpoint("stats", "api", "/api/v1/stats/"),
    Endpoint("personal tokens", "api", "/api/v1/personal-tokens/", auth="session", payload="personal_token", slot="name"),
    Endpoint("schema", "api", "/api/schema/", auth="none", params=("format", "lang", "version")),
    Endpoint("token", "oauth", "/o/token/", method="POST", auth="basic", params=OAUTH_PARAMS),
    Endpoint("revoke", "oauth", "/o/revoke/", method="POST", auth="basic", params=OAUTH_PARAMS),
    Endpoint("introspect", "oauth", "/o/introspect/", method="POST", auth="introspector", params=OAUTH_PARAMS),
    Endpoint("device authorization", "oauth", "/o/device-authorization/", method="POST", auth="none", params=("client_id", "scope")),
    Endpoint("registration", "oauth", "/o/register/", method="POST", auth="none", payload="registration", slot="client_name"),
    Endpoint("userinfo", "oauth", "/o/userinfo/", auth="bearer", params=("access_token", "claims")),
    Endpoint("jwks", "oauth", "/o/jwks/", auth="none"),
    Endpoint("oidc discovery", "oauth", "/.well-known/openid-configuration", auth="none"),
    Endpoint("server metadata", "oauth", "/.well-known/oauth-authorization-server", auth="none"),
    Endpoint("resource metadata", "oauth", "/.well-known/oauth-protected-resource", auth="none"),
    Endpoint("authorize", "page", "/o/authorize/", auth="session", params=AUTHORIZE_PARAMS),
    Endpoint("logout", "page", "/o/logout/", auth="session", params=LOGOUT_PARAMS),
    Endpoint("device page", "page", "/o/device/", auth="session", params=("user_code",)),
]  # fmt: skip


def deep_json(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def deep_xml(levels: int) -> bytes:
    return b"<root>" + b"<a>" * levels + b"</a>" * levels + b"</root>"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


# Bad values, as they travel in a query string or form body (percent-encoded
# bytes) and in JSON (Python values; a lone surrogate is an escape in JSON).
BAD_VALUES = {
    "nul": ("a%00b", "a\x00b"),
    "control character": ("a%01b", "a\x01b"),
    "del": ("a%7Fb", "a\x7fb"),
    "lone surrogate": ("%ED%A0%80", "\ud800"),
    "invalid utf-8": ("%FF%FE%C3%28", None),
    "100,000 characters": ("a" * 100_000, "a" * 100_000),
    "array": (None, ["a"]),
    "object": (None, {"a": "b"}),
    "number": (None, 10**30),
    "null": (None, None),
}


def bad_queries(endpoint: Endpoint) -> dict[str, str]:
    """Query strings for `endpoint`: each bad value in each of its parameters,
    plus inputs that are bad whatever the endpoint."""
    queries = {
        f"{name} in {param}": f"{param}={encoded}"
        for name, (encoded, _) in BAD_VALUES.items()
        if encoded is not None
        for param in endpoint.params or ("q",)
    }
    queries.update(
        {
            "10,000 parameters": "&".join(f"f{i}=1" for i in range(10_000)),
            "repeated parameters": "&".join(
                f"{p}=a&{p}=b" for p in endpoint.params or ("q",)
            ),
            "array syntax": "&".join(f"{p}[]=a" for p in endpoint.params or ("q",)),
            "huge page size": "page_size=99999999999999999999999&page=99999999999999999999",
            "negative page size": "page_size=-1&page=-1",
            "year out of range": "year=2147483648",
            "price out of range": "min_price=99999999999999999999999",
            "rating out of range": "rating=99999999999999999999&min_rating=1e999",
            "cursor garbage": "cursor=%%%",
            "cursor with nul": "ordering=title&cursor=" + quote(b64(b"p=a\x00b")),
            "cursor past a decimal": "ordering=price&cursor="
            + quote(b64(b"p=1e99999")),
            "cursor offset huge": "cursor=" + quote(b64(b"o=99999999999999999999&p=1")),
            "unknown format": "format=bogus",
            "claims not json": "claims=not-json&scope=openid",
        }
    )
    return queries


def bad_bodies(
    endpoint: Endpoint, payload: dict | None
) -> dict[str, tuple[bytes, str]]:
    """Bodies (bytes, content type) for `endpoint`: each bad value in its slot (a
    JSON field, or every form parameter), plus bodies bad whatever the endpoint."""
    bodies = {}
    for name, (encoded, value) in BAD_VALUES.items():
        if payload is not None and endpoint.slot:
            if name == "invalid utf-8":
                body = json.dumps({**payload, endpoint.slot: "@BAD@"}).encode()
                body = body.replace(b"@BAD@", b"\xff\xfe")
            else:
                body = json.dumps({**payload, endpoint.slot: value}).encode()
            bodies[f"{name} in json"] = (body, JSON)
        if encoded is not None:
            params = endpoint.params or ("q",)
            form = "&".join(f"{p}={encoded}" for p in params)
            bodies[f"{name} in form"] = (form.encode(), FORM)
    bodies.update(
        {
            "lone surrogate in a key": (b'{"\\udfff": 1}', JSON),
            "markup in a key": (b'{"a><b>x</b><c": 1}', JSON),
            "json nested 100,000 deep": (deep_json(100_000), JSON),
            "json nested 40 deep": (deep_json(40), JSON),
            "xml nested 100,000 deep": (deep_xml(100_000), XML),
            "xml with a dtd": (b'<!DOCTYPE r [<!ENTITY x "y">]><root>&x;</root>', XML),
            "malformed json": (b'{"a": ', JSON),
            "malformed xml": (b"<root><a>", XML),
            "json not an object": (b"[1, 2]", JSON),
            "json nan": (b'{"a": NaN}', JSON),
            "invalid utf-8 json": (b'{"a": "\xff\xfe"}', JSON),
            "json in utf-16": ('{"a": 1}'.encode("utf-16"), JSON + "; charset=utf-16"),
            "multipart broken": (
                b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nbroken',
                "multipart/form-data; boundary=x",
            ),
            "multipart without boundary": (b"abc", "multipart/form-data"),
            "multipart boundary too long": (b"abc", "multipart/form-data; boundary=" + "x" * 300),
            "10,000 form fields": (b"&".join(b"f%d=1" % i for i in range(10_000)), FORM),
            "form in latin-1": (b"a=caf%E9", FORM + "; charset=iso-8859-1"),
            "2 MB form": (b"a=" + b"x" * (2 * 1024 * 1024), FORM),
            "unknown content type": (b"abc", "application/x-bogus"),
            "no content type": (b"a=b", ""),
        }
    )  # fmt: skip
    return bodies


BAD_HEADERS = {
    "unknown accept": {"HTTP_ACCEPT": "application/x-bogus"},
    "garbage accept": {"HTTP_ACCEPT": ";;;q=abc, */*;q=x, \x00"},
    "accept with unknown version": {"HTTP_ACCEPT": "application/json; version=v9"},
    "garbage if-match": {"HTTP_IF_MATCH": 'W/"x", "\x00, garbage'},
    "garbage if-none-match": {"HTTP_IF_NONE_MATCH": '"unterminated, W/, ***'},
    "garbage if-modified-since": {"HTTP_IF_MODIFIED_SINCE": "not a date 99999"},
    "content-length not a number": {"CONTENT_LENGTH": "abc"},
    "content-length negative": {"CONTENT_LENGTH": "-5"},
    "content-length huge": {"CONTENT_LENGTH": str(10**12)},
    "content-length zero with a body": {"CONTENT_LENGTH": "0"},
    "bearer with nul": {"HTTP_AUTHORIZATION": "Bearer a\x00b"},
    "bearer of 100,000 characters": {"HTTP_AUTHORIZATION": "Bearer " + "a" * 100_000},
    "bearer not ascii": {"HTTP_AUTHORIZATION": "Bearer \xe9\xff"},
    "bearer empty": {"HTTP_AUTHORIZATION": "Bearer"},
    "basic with nul": {"HTTP_AUTHORIZATION": "Basic " + b64(b"abc\x00:s")},
    "basic with encoded nul": {"HTTP_AUTHORIZATION": "Basic " + b64(b"abc%00:s")},
    "basic not base64": {"HTTP_AUTHORIZATION": "Basic %%%"},
    "basic without colon": {"HTTP_AUTHORIZATION": "Basic " + b64(b"abc")},
    "basic not utf-8": {"HTTP_AUTHORIZATION": "Basic " + b64(b"\xff\xfe:x")},
    "basic with bad percent-encoding": {
        "HTTP_AUTHORIZATION": "Basic " + b64(b"%zz%ff:%")
    },
    "two schemes": {"HTTP_AUTHORIZATION": "Bearer a, Basic b"},
    "garbage cookie": {"HTTP_COOKIE": "authserver_sessionid=\x00\xff; a"},
}
