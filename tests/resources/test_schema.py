"""OpenAPI schema and the offline Swagger UI / ReDoc pages."""

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse


@pytest.fixture
def schema(db, api_client):
    response = api_client.get(reverse("api-schema"), {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_schema_declares_our_oauth2_flow(schema):
    """The security scheme is authorization code at our authorize/token URLs."""
    flow = schema["components"]["securitySchemes"]["oauth2"]["flows"][
        "authorizationCode"
    ]

    assert flow["authorizationUrl"] == "/o/authorize/"
    assert flow["tokenUrl"] == "/o/token/"
    assert set(flow["scopes"]) == {"books:read", "books:write"}


@pytest.mark.parametrize(
    ("path", "method", "scope"),
    [
        ("/api/v1/books/", "get", "books:read"),
        ("/api/v1/books/", "post", "books:write"),
        ("/api/v1/books/{id}/", "delete", "books:write"),
        ("/api/v1/books/{book_pk}/reviews/", "post", "books:write"),
        ("/api/v1/stats/", "get", "books:read"),
        ("/api/v1/authors/stats/", "get", "books:read"),
    ],
)
def test_each_operation_names_its_scope(schema, path, method, scope):
    """Every operation's security requirement names the scope it needs."""
    security = schema["paths"][path][method]["security"]

    assert {"oauth2": [scope]} in security


def test_schema_is_also_yaml(db, api_client):
    """The default schema rendering is OpenAPI 3 YAML."""
    response = api_client.get(reverse("api-schema"))

    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert response.content.startswith(b"openapi: 3.")


@pytest.mark.parametrize(
    ("name", "script", "asset"),
    [
        (
            "api-docs",
            "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
            "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        ),
        (
            # The sidecar's bundle, served without its Redocly CDN logo.
            "api-redoc",
            "/api/redoc/redoc.standalone.js",
            "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js",
        ),
    ],
)
def test_docs_pages_use_local_static_files(db, api_client, name, script, asset):
    """The docs pages load their scripts from our static files, not a CDN."""
    response = api_client.get(reverse(name))

    assert response.status_code == 200
    html = response.content.decode()
    assert f'src="{script}"' in html
    assert "cdn.jsdelivr.net" not in html
    assert finders.find(asset) is not None


def test_swagger_ui_authorizes_with_pkce_as_api_docs(db, api_client):
    """Swagger UI's Authorize uses the public `api-docs` client with PKCE."""
    html = api_client.get(reverse("api-docs")).content.decode()

    assert '"clientId": "api-docs"' in html
    assert '"usePkceWithAuthorizationCodeGrant": true' in html


def test_oauth2_redirect_page_is_next_to_swagger_ui(db, api_client):
    """/api/docs/oauth2-redirect.html is served by Django with the site's opener
    policy, its script loaded from the sidecar's static files."""
    response = api_client.get("/api/docs/oauth2-redirect.html", {"code": "c"})

    assert response.status_code == 200
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    html = response.content.decode()
    assert (
        'src="/static/drf_spectacular_sidecar/swagger-ui-dist/oauth2-redirect.js"'
        in html
    )


def test_swagger_page_keeps_the_site_opener_policy(db, api_client):
    """The Swagger UI page does not loosen the opener policy (its popup must match)."""
    response = api_client.get(reverse("api-docs"))

    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_schema_documents_bearer_tokens_only(schema):
    """Session cookies are for the browsable API and are not offered in the docs."""
    assert set(schema["components"]["securitySchemes"]) == {"oauth2"}
