"""OpenAPI for each API version, checked against what the API really answers."""

import re
from datetime import date
from decimal import Decimal

import jsonschema
import pytest
from django.urls import reverse

from tests.factories import AuthorFactory, BookFactory, ReviewFactory

VERSIONS = ["v1", "v2"]


def openapi_to_json_schema(node: object) -> object:
    """An OpenAPI 3.0 schema object as JSON Schema: `nullable` becomes a null type."""
    if isinstance(node, list):
        return [openapi_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: openapi_to_json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        if "type" in node:
            node["type"] = [node["type"], "null"]
        else:
            node = {"anyOf": [node, {"type": "null"}]}
    return node


def schema_of(api_client, version: str) -> dict:
    response = api_client.get(
        reverse("api-schema"), {"format": "json", "version": version}
    )
    assert response.status_code == 200
    return response.json()


def assert_matches_schema(document: dict, path: str, body: object) -> None:
    """`body` is valid against the 200 JSON response `document` gives for GET `path`."""
    operation = document["paths"][path]["get"]
    response_schema = operation["responses"]["200"]["content"]["application/json"]
    validator = jsonschema.Draft7Validator(
        {
            **openapi_to_json_schema(response_schema["schema"]),
            "components": openapi_to_json_schema(document["components"]),
        }
    )
    errors = [error.message for error in validator.iter_errors(body)]
    assert not errors, errors


@pytest.fixture
def shelf(db):
    author = AuthorFactory(name="Le Guin", birth_date=date(1929, 10, 21))
    AuthorFactory(name="Nobody yet")  # no books: null averages
    for year, price, ratings in [(1969, "8.99", [5, 4]), (1974, "10.50", [])]:
        book = BookFactory(
            author=author, publication_date=date(year, 3, 1), price=Decimal(price)
        )
        for rating in ratings:
            ReviewFactory(book=book, rating=rating)


@pytest.mark.parametrize("version", VERSIONS)
def test_each_version_has_its_own_schema(db, api_client, version):
    """?version= selects the version; its paths are that version's only."""
    document = schema_of(api_client, version)
    paths = set(document["paths"])
    assert f"/api/{version}/books/" in paths
    assert all(path.startswith(f"/api/{version}/") for path in paths), paths


def test_v2_books_document_the_embedded_author(db, api_client):
    v1 = schema_of(api_client, "v1")["components"]["schemas"]
    v2 = schema_of(api_client, "v2")["components"]["schemas"]
    assert v1["Book"]["properties"]["author"]["type"] == "integer"
    assert "BookV2" in v2


def test_unknown_version_is_404(db, api_client):
    response = api_client.get(reverse("api-schema"), {"version": "v9"})
    assert response.status_code == 404
    assert "v9" in response.json()["detail"]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("endpoint", ["stats/", "authors/stats/", "books/", "authors/"])
def test_real_responses_match_the_schema(
    api_client, client_for, reader, shelf, version, endpoint
):
    """What the API answers is what its schema documents, for each version."""
    document = schema_of(api_client, version)
    path = f"/api/{version}/{endpoint}"
    response = client_for(reader).get(path, HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    assert_matches_schema(document, path, response.json())


def test_statistics_of_an_empty_catalogue_match_the_schema(
    db, api_client, client_for, reader
):
    """Nulls where there is nothing to average are documented as nullable."""
    document = schema_of(api_client, "v2")
    response = client_for(reader).get("/api/v2/stats/")
    assert response.json()["average_price"] is None
    assert_matches_schema(document, "/api/v2/stats/", response.json())


def test_a_wrong_shape_fails_validation(db, api_client):
    """The check can fail: a list where the schema says one object."""
    document = schema_of(api_client, "v2")
    with pytest.raises(AssertionError):
        assert_matches_schema(document, "/api/v2/stats/", [{"book_count": 1}])


@pytest.mark.parametrize("name", ["api-docs", "api-redoc"])
@pytest.mark.parametrize("version", VERSIONS)
def test_docs_pages_load_the_chosen_version(db, api_client, name, version):
    """Swagger UI and ReDoc show the schema of ?version=, with links to the others."""
    html = api_client.get(reverse(name), {"version": version}).content.decode()
    schema_url = re.search(r'"(/api/schema/[^"]*)"', html.replace("\\u0026", "&"))
    assert schema_url is not None, html
    assert f"version\\u003D{version}" in schema_url.group(1) or (
        f"version={version}" in schema_url.group(1)
    )
    assert f"<strong>{version}</strong>" in html
    for other in set(VERSIONS) - {version}:
        assert f'href="?version={other}"' in html


def test_redoc_loads_nothing_from_other_hosts(db, api_client):
    """ReDoc's page and bundle name no font host or CDN: it works offline."""
    html = api_client.get(reverse("api-redoc")).content.decode()
    bundle = b"".join(api_client.get(reverse("api-redoc-bundle"))).decode()
    for text in (html, bundle):
        assert "fonts.googleapis.com" not in text
        assert "fonts.gstatic.com" not in text
        assert "cdn.redoc.ly" not in text
    assert not re.search(r'(src|href)="(https?:)?//', html)
