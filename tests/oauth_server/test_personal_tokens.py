"""Personal access tokens: made in a session or by command, used as bearer tokens."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from oauth_server import personal_tokens
from oauth_server.models import PersonalAccessToken
from tests.factories import expire_access_tokens

AccessToken = get_access_token_model()
LIST = reverse("api:personal-token-list", kwargs={"version": "v1"})
BOOKS = reverse("api:book-list", kwargs={"version": "v1"})


@pytest.fixture
def session(api_client, reader):
    api_client.force_login(reader)
    return api_client


def test_create_shows_the_token_once(session, reader):
    """Creating returns the token; listing never shows it again."""
    response = session.post(
        LIST,
        {"name": "laptop", "scope": "books:read", "expires_in_days": 7},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["token"].startswith("pat_")
    assert body["scope"] == "books:read"
    assert body["expired"] is False
    expires = AccessToken.objects.get().expires
    assert timedelta(days=7) - timedelta(minutes=1) < expires - timezone.now()
    listed = session.get(LIST).json()
    assert [t["name"] for t in listed] == ["laptop"]
    assert listed[0]["token"] is None
    assert listed[0]["hint"] == body["token"][:8]


def test_token_is_stored_hashed(session):
    """Only a checksum of the token is stored."""
    token = session.post(
        LIST, {"name": "x", "scope": "books:read"}, format="json"
    ).json()["token"]

    stored = AccessToken.objects.get()
    assert stored.token == ""
    assert token not in str(stored.token_checksum)


def test_default_expiry_is_30_days(session):
    """Without expires_in_days the token lives 30 days."""
    session.post(LIST, {"name": "x", "scope": "books:read"}, format="json")

    left = AccessToken.objects.get().expires - timezone.now()
    assert timedelta(days=29, hours=23) < left <= timedelta(days=30)


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        (
            {"name": "x", "scope": "books:read", "expires_in_days": 366},
            {"expires_in_days": ["Ensure this value is less than or equal to 365."]},
        ),
        (
            {"name": "x", "scope": "books:read", "expires_in_days": 0},
            {"expires_in_days": ["Ensure this value is greater than or equal to 1."]},
        ),
        (
            {"name": "x", "scope": "openid"},
            {
                "scope": [
                    "Not available for personal tokens: openid. Choose from: books:read, books:write."
                ]
            },
        ),
        (
            {"name": "x", "scope": "introspection books:read"},
            {
                "scope": [
                    "Not available for personal tokens: introspection. Choose from: books:read, books:write."
                ]
            },
        ),
        ({"name": "x", "scope": ""}, {"scope": ["This field may not be blank."]}),
        (
            {"name": "x", "scope": "books:read", "token": "mine"},
            {"token": ["Unknown or read-only field."]},
        ),
    ],
)
def test_invalid_requests_are_400(session, payload, errors):
    """Scopes outside the catalogue, lifetimes past a year, unknown fields: 400."""
    response = session.post(LIST, payload, format="json")

    assert response.status_code == 400
    assert response.json() == errors
    assert not AccessToken.objects.exists()


def test_names_are_unique_per_user(session):
    """A second token with the same name is refused."""
    session.post(LIST, {"name": "ci", "scope": "books:read"}, format="json")

    response = session.post(LIST, {"name": "ci", "scope": "books:read"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"name": ["You already have a token with this name."]}


def test_personal_token_is_a_bearer_token(session, api_client_for):
    """The token works on the API with the scopes chosen, and no others."""
    token = session.post(
        LIST, {"name": "x", "scope": "books:read"}, format="json"
    ).json()["token"]
    client = api_client_for(token)

    assert client.get(BOOKS).status_code == 200
    refused = client.post(BOOKS, {}, format="json")
    assert refused.status_code == 403
    assert 'error="insufficient_scope"' in refused["WWW-Authenticate"]


def test_expired_personal_token_is_rejected(reader, api_client_for):
    """An expired personal token gets 401 invalid_token."""
    issued = personal_tokens.personal_token_create(
        user=reader, name="old", scope="books:read", expires_in_days=1
    )
    expire_access_tokens()

    response = api_client_for(issued.token).get(BOOKS)

    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_revoked_token_stops_working(session, api_client_for):
    """DELETE revokes at once."""
    body = session.post(
        LIST, {"name": "x", "scope": "books:read"}, format="json"
    ).json()
    url = reverse(
        "api:personal-token-detail", kwargs={"version": "v1", "pk": body["id"]}
    )

    assert session.delete(url).status_code == 204
    assert api_client_for(body["token"]).get(BOOKS).status_code == 401
    assert not PersonalAccessToken.objects.exists()


def test_users_see_only_their_own_tokens(session, editor, api_client):
    """Another user's token is invisible and cannot be revoked."""
    other = personal_tokens.personal_token_create(
        user=editor, name="theirs", scope="books:read"
    )
    url = reverse(
        "api:personal-token-detail", kwargs={"version": "v1", "pk": other.personal.pk}
    )

    assert session.get(LIST).json() == []
    assert session.delete(url).status_code == 404


def test_bearer_tokens_cannot_manage_personal_tokens(reader, client_for, api_client):
    """An OAuth token may not mint personal tokens: 403; no credentials: 401."""
    response = client_for(reader).post(
        LIST, {"name": "x", "scope": "books:write"}, format="json"
    )

    assert response.status_code == 403
    assert api_client.get(LIST).status_code == 401
    assert not PersonalAccessToken.objects.exists()


def test_command_creates_a_token(reader, api_client_for):
    """`createpersonaltoken` prints a working token."""
    out = StringIO()
    call_command(
        "createpersonaltoken",
        "reader",
        "--name",
        "cli",
        "--scope",
        "books:read",
        stdout=out,
        stderr=StringIO(),
    )

    token = out.getvalue().strip()
    assert api_client_for(token).get(BOOKS).status_code == 200


def test_command_refuses_bad_input(reader):
    """Unknown users and lifetimes past a year are command errors."""
    with pytest.raises(CommandError, match="No user 'ghost'"):
        call_command("createpersonaltoken", "ghost", "--name", "x")
    with pytest.raises(CommandError, match="between 1 and 365"):
        call_command("createpersonaltoken", "reader", "--name", "x", "--days", "400")


@pytest.mark.parametrize("name", ["a\x01b", "tab\tname", "\x7f", "zero\u200bwidth"])
def test_name_must_be_printable(session, name):
    """A token name is a one-line label: control and invisible characters are refused."""
    response = session.post(LIST, {"name": name, "scope": "books:read"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"name": ["Use printable characters only."]}
    assert not PersonalAccessToken.objects.exists()
