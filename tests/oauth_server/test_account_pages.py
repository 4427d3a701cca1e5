"""The account area: profile, personal tokens in the browser, and the sign-in page
naming the application that asks."""

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from oauth_server import personal_tokens
from oauth_server.models import PersonalAccessToken
from tests.conftest import REQUEST_DEFAULTS
from tests.factories import ApplicationFactory, UserFactory

AccessToken = get_access_token_model()
ACCOUNT = reverse("oauth2_provider:account")
TOKENS = reverse("oauth2_provider:personal-tokens")
CONNECTED = reverse("oauth2_provider:connected-apps")
LOGIN = reverse("login")
BOOKS = reverse("api:book-list", kwargs={"version": "v1"})
ISSUED = re.compile(r'id="new-token"[^>]*value="(pat_[^"]+)"')


def revoke_url(personal: PersonalAccessToken) -> str:
    return reverse("oauth2_provider:personal-token-revoke", args=[personal.pk])


@pytest.fixture
def session(client, reader):
    client.force_login(reader)
    return client


def create(session: Client, **fields):
    data = {"name": "laptop", "scope": ["books:read"], "expires_in_days": 7, **fields}
    return session.post(TOKENS, data)


def issue(user, name: str = "script") -> PersonalAccessToken:
    return personal_tokens.personal_token_create(
        user=user, name=name, scope="books:read"
    ).personal


@pytest.mark.parametrize(
    "url", [ACCOUNT, TOKENS, "/account/tokens/1/revoke/", CONNECTED]
)
def test_account_pages_need_sign_in(client, db, url):
    """Signed out, every account page sends the browser to sign in, and back."""
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next={url}"


def test_revoking_needs_sign_in(client, reader):
    """A signed-out POST revokes nothing."""
    personal = issue(reader)

    response = client.post(revoke_url(personal))

    assert response.status_code == 302
    assert PersonalAccessToken.objects.filter(pk=personal.pk).exists()


def test_profile_says_who_is_signed_in(session, reader):
    page = session.get(ACCOUNT).content.decode()

    assert "<dd>reader</dd>" in page
    assert "<dd>Ada Lovelace</dd>" in page
    assert "<dd>reader@example.com</dd>" in page


def test_account_lists_recent_security_events(
    client, reader, django_assert_max_num_queries
):
    """Sign-ins and personal tokens, newest first, with the address; only one's own."""
    client.post(
        LOGIN, {"username": "reader", "password": "wrong"}, REMOTE_ADDR="203.0.113.7"
    )
    client.force_login(reader)
    issue(reader, "backup")
    issue(UserFactory(username="someone-else"), "theirs")

    # savepoint, session, user, events, developers group (the nav), release
    with django_assert_max_num_queries(6):
        page = client.get(ACCOUNT).content.decode()

    events = page.split('id="security-events"')[1].split("</ul>")[0]
    assert events.index('data-event="personal_token.created"') < events.index(
        'data-event="sign_in.failed"'
    )
    assert "203.0.113.7" in events  # where the wrong password came from
    assert 'data-event="sign_in.succeeded"' in events
    assert events.count("<li") == 3  # not the other user's token


def test_profile_says_when_name_and_email_are_missing(client, db):
    user = UserFactory(username="bare", first_name="", last_name="", email="")
    client.force_login(user)

    page = client.get(ACCOUNT).content.decode()

    assert "No name given." in page
    assert "No email address given." in page


@pytest.mark.parametrize("url", [ACCOUNT, TOKENS, CONNECTED, "/"])
def test_every_page_has_the_account_nav(session, url):
    """Signed in, each page links the account area and signs out with a POST."""
    page = session.get(url).content.decode()
    nav = page[page.index('<nav aria-label="Account">') : page.index("</nav>")]

    for link in (ACCOUNT, CONNECTED, TOKENS):
        assert f'href="{link}"' in nav
    assert f'action="{reverse("logout")}"' in nav
    assert "csrfmiddlewaretoken" in nav


def test_nav_is_hidden_when_signed_out(client, db):
    assert "<nav" not in client.get(LOGIN).content.decode()


def test_token_page_offers_the_available_scopes_in_words(session):
    page = session.get(TOKENS).content.decode()

    for name in personal_tokens.AVAILABLE_SCOPES:
        assert f'type="checkbox" name="scope" value="{name}"' in page
    assert "Read the book catalogue and reviews" in page
    assert "Add and change books and write reviews in your name" in page
    assert 'value="openid"' not in page


def test_created_token_is_shown_once_and_not_stored_by_caches(session, reader):
    """The POST's response shows the token, is `no-store`, and the token works."""
    response = create(session, scope=["books:read", "books:write"])

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = ISSUED.search(response.content.decode()).group(1)
    personal = PersonalAccessToken.objects.get(user=reader)
    assert personal.name == "laptop"
    assert personal.access_token.scope == "books:read books:write"
    left = personal.access_token.expires - timezone.now()
    assert timedelta(days=6, hours=23) < left <= timedelta(days=7)
    listing = session.get(TOKENS).content.decode()
    assert token not in listing
    assert 'id="new-token"' not in listing
    assert f"<code>{personal.hint}…</code>" in listing
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}", **REQUEST_DEFAULTS)
    assert api.get(BOOKS).status_code == 200


def test_list_shows_name_scopes_dates_and_hint(session, reader):
    personal = issue(reader, name="backup job")
    expired = issue(reader, name="old one")
    AccessToken.objects.filter(pk=expired.access_token_id).update(
        expires=timezone.now() - timedelta(days=1)
    )

    page = session.get(TOKENS).content.decode()

    assert "<h3>backup job</h3>" in page
    assert f"<code>{personal.hint}…</code>" in page
    assert (
        '<li data-scope="books:read">Read the book catalogue and reviews</li>' in page
    )
    assert f'datetime="{personal.created.isoformat()}"' in page
    assert "Expires <time" in page
    assert "Expired</strong>" in page


def test_listing_has_a_flat_query_count(session, reader, django_assert_max_num_queries):
    for n in range(5):
        issue(reader, name=f"token {n}")

    # Measured: session, user, tokens with their access tokens, whether the user is
    # a developer (the nav), and the savepoint pair of ATOMIC_REQUESTS.
    with django_assert_max_num_queries(6):
        response = session.get(TOKENS)

    assert response.content.decode().count('class="token-entry"') == 5


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": "  "}, "name", "Name the token."),
        ({"name": "a\u200bb"}, "name", "Use printable characters only."),
        ({"name": "x" * 101}, "name", "at most 100 characters"),
        ({"scope": []}, "scope", "Choose at least one scope."),
        ({"scope": ["openid"]}, "scope", "Not available for personal tokens: openid."),
        ({"expires_in_days": 0}, "expires_in_days", "Choose between 1 and 365 days."),
        ({"expires_in_days": 366}, "expires_in_days", "Choose between 1 and 365 days."),
        ({"expires_in_days": "soon"}, "expires_in_days", "Enter a whole number."),
        ({"expires_in_days": ""}, "expires_in_days", "This field is required."),
    ],
)
def test_bad_input_is_explained_next_to_its_field(session, fields, field, message):
    """Errors come back inline on the same page, the typed values kept."""
    response = create(session, **fields)

    assert response.status_code == 200
    assert message in str(response.context["form"].errors[field])
    page = response.content.decode()
    assert message.replace("'", "&#x27;") in page
    assert 'aria-invalid="true"' in page or field == "scope"
    assert 'id="new-token"' not in page
    assert not PersonalAccessToken.objects.exists()


def test_duplicate_name_is_explained(session, reader):
    issue(reader, name="laptop")

    response = create(session)

    assert response.context["form"].errors == {
        "name": ["You already have a token with this name."]
    }
    assert PersonalAccessToken.objects.count() == 1


def test_revoke_asks_then_revokes(session, reader):
    """GET confirms with a way back; POST revokes, and the token stops working."""
    personal = issue(reader)
    raw_token = create(session).content.decode()
    token = ISSUED.search(raw_token).group(1)
    laptop = PersonalAccessToken.objects.get(name="laptop")

    confirm = session.get(revoke_url(laptop)).content.decode()
    assert "Revoke the token “laptop”?" in confirm
    assert f'href="{TOKENS}"' in confirm
    response = session.post(revoke_url(laptop), follow=True)

    assert response.redirect_chain == [(TOKENS, 302)]
    assert "The token “laptop” is revoked" in response.content.decode()
    assert list(PersonalAccessToken.objects.all()) == [personal]
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}", **REQUEST_DEFAULTS)
    assert api.get(BOOKS).status_code == 401


@pytest.mark.parametrize("method", ["get", "post"])
def test_other_users_tokens_are_not_found(session, method):
    """Someone else's token cannot be seen or revoked: 404, as if absent."""
    theirs = issue(UserFactory(username="mallory"), name="theirs")

    response = getattr(session, method)(revoke_url(theirs))

    assert response.status_code == 404
    assert PersonalAccessToken.objects.filter(pk=theirs.pk).exists()
    assert "theirs" not in session.get(TOKENS).content.decode()


def test_unknown_token_is_not_found(session):
    assert session.post("/account/tokens/999999/revoke/").status_code == 404


@pytest.mark.parametrize(
    ("method", "url"), [("post", TOKENS), ("post", "/account/tokens/1/revoke/")]
)
def test_forms_need_the_csrf_token(reader, method, url):
    client = Client(enforce_csrf_checks=True, **REQUEST_DEFAULTS)
    client.force_login(reader)

    response = getattr(client, method)(url, {"name": "x", "scope": "books:read"})

    assert response.status_code == 403
    assert not PersonalAccessToken.objects.filter(name="x").exists()


@pytest.mark.parametrize("url", [ACCOUNT, TOKENS])
def test_pages_carry_a_csrf_token_in_each_form(session, url):
    page = session.get(url).content.decode()
    assert page.count("<form") == page.count('name="csrfmiddlewaretoken"')


def authorize_next(
    client_id: str, redirect_uri: str = "https://client.example/callback"
):
    query = urlencode(
        {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri}
    )
    return f"/o/authorize/?{query}"


def test_sign_in_names_the_application_asking(client, db):
    app = ApplicationFactory(
        name="Reading <Buddy>", logo_url="https://cdn.example/logo.png"
    )

    response = client.get(LOGIN, {"next": authorize_next(app.client_id)})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Sign in to continue to <strong>Reading &lt;Buddy&gt;</strong>." in page
    assert 'src="https://cdn.example/logo.png"' in page
    policy = response["Content-Security-Policy"]
    assert "https://cdn.example" in re.search(r"img-src[^;]*", policy).group(0)
    # The form may still go on to the registered redirect URI (oauth_server/csp.py).
    assert "https://client.example" in re.search(r"form-action[^;]*", policy).group(0)


def test_lockout_page_still_names_the_application(client, user):
    """Locked out on the way to an application, the page still says which."""
    app = ApplicationFactory(name="Reading Buddy", logo_url="https://cdn.example/l.png")
    data = {"username": "alice", "password": "wrong"}
    for _ in range(5):
        response = client.post(
            f"{LOGIN}?{urlencode({'next': authorize_next(app.client_id)})}", data
        )

    assert response.status_code == 429
    assert "Sign in to continue to <strong>Reading Buddy</strong>." in response.text
    policy = response["Content-Security-Policy"]
    assert "https://cdn.example" in re.search(r"img-src[^;]*", policy).group(0)


def test_sign_in_without_logo_shows_no_image(client, db):
    app = ApplicationFactory(name="Plain App")

    page = client.get(LOGIN, {"next": authorize_next(app.client_id)}).content.decode()

    assert "Sign in to continue to <strong>Plain App</strong>." in page
    assert "<img" not in page


def test_sign_in_ignores_an_inactive_application(client, db):
    app = ApplicationFactory(name="Switched Off", is_active=False)

    page = client.get(LOGIN, {"next": authorize_next(app.client_id)}).content.decode()

    assert "Switched Off" not in page
    assert "Sign in to continue" not in page


@pytest.mark.parametrize(
    "next_url",
    [
        "",
        "/",
        "/account/",
        "/o/authorize/",
        "/o/authorize/?client_id=",
        "/o/authorize/?client_id=ghost",
        "/o/authorize/?client_id=%00",
        "/o/authorize/?client_id=" + "x" * 5000,
        "/o/authorize/?client_id=a&client_id=%ff%fe",
        "/o/authorize/?%%%=&&&;;",
        "/no/such/page/?client_id=x",
        "//evil.example/o/authorize/?client_id=x",
        "https://evil.example/o/authorize/?client_id=x",
        "http://[::1/o/authorize/",
        "javascript:alert(1)",
        "\x00",
    ],
)
def test_garbage_next_gives_the_plain_sign_in_page(client, db, next_url):
    """Whatever `next` holds, the sign-in page renders, naming no application."""
    ApplicationFactory(name="Real App", client_id="x")

    response = client.get(LOGIN, {"next": next_url})

    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Sign in</h1>" in page
    assert "Sign in to continue" not in page
