"""The web client against the real authorization server and resource API, a
`requests` session as the browser.

Login, consent, callback, API calls, refresh after forced expiry, incremental
authorization, sign-out with revocation, and every failure page.
"""

import hashlib
import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing
from django.core.signing import JSONSerializer
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_refresh_token_model,
)

from oauth_server.models import Application
from resources.models import Review
from tests.e2e.clients.browser import Browser
from tests.e2e.clients.conftest import (
    PASSWORD,
    TOTAL_PRICE,
    WEB_CLIENT_ID,
    free_port,
    start_web_client,
    stop,
)
from tests.factories import UserFactory, expire_access_tokens

pytestmark = pytest.mark.e2e

AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()


def sign_in(
    visitor: Browser,
    client_url: str,
    issuer: str,
    *,
    allow: bool = True,
    username: str = "alice",
):
    """Click "Sign in", log in at the server, answer the consent page."""
    page = visitor.get(f"{client_url}/login")
    assert page.url.startswith(f"{issuer}/accounts/login/"), page.url
    page = visitor.submit(
        page,
        visitor.form(page, has="username"),
        {"username": username, "password": PASSWORD},
    )
    return consent(visitor, page, allow=allow)


def consent(visitor: Browser, page, *, allow: bool = True, follow: bool = True):
    assert page.status_code == 200, page.text[:500]
    assert "Marginalia wants to access your account" in page.text
    form = visitor.form(page, id="authorizationForm")
    return visitor.submit(
        page, form, button="allow" if allow else "deny", follow=follow
    )


def csrf_post(visitor: Browser, page, form_has: str, data=None, **kwargs):
    return visitor.submit(page, visitor.form(page, has=form_has), data, **kwargs)


def next_page_link(page) -> str:
    """The "Next" link of a /books/ page (the API's cursor, on our URL)."""
    match = re.search(r'<a href="(/books/\?cursor=[^"]+)">Next', page.text)
    assert match, page.text[:2000]
    return html.unescape(match.group(1))


def test_sign_in_shows_profile_books_and_stats(
    world, catalogue, visitor, web_client, issuer
):
    """PKCE, state and nonce go out; the profile and the real API's data come back."""
    home = sign_in(visitor, web_client.url, issuer)

    assert home.status_code == 200
    assert home.url == f"{web_client.url}/"
    assert "Welcome, Ada Lovelace" in home.text
    assert "alice@example.com" in home.text  # from the userinfo endpoint
    # In words, not raw claims: labels, and the unverified address said so.
    assert "<dt>Email</dt>" in home.text
    assert "(not verified by Bookshelf)" in home.text
    assert "email_verified" not in home.text
    authorize = urlsplit(
        visitor.get(f"{web_client.url}/login").history[0].headers["Location"]
    )
    params = parse_qs(authorize.query)
    assert params["code_challenge_method"] == ["S256"]
    assert len(params["code_challenge"][0]) == 43
    assert params["state"]
    assert params["nonce"]
    assert params["scope"] == ["openid profile email books:read"]

    books = visitor.get(f"{web_client.url}/books/")
    assert books.status_code == 200
    assert "The Left Hand of Darkness" in books.text
    kindred = re.search(rf'<tr data-book="{catalogue.kindred.pk}">.*</tr>', books.text)
    assert kindred, books.text[:2000]
    # v2 embeds the author's name; prices in euros (CLIENT_CURRENCY); one 5.
    assert "<td>Octavia E. Butler</td>" in kindred.group()
    assert "<td>€12.50</td>" in kindred.group()
    assert "<td>5.0 (1)</td>" in kindred.group()
    assert "Solaris" not in books.text  # second page
    second = visitor.get(f"{web_client.url}{next_page_link(books)}")
    assert second.status_code == 200
    assert "Solaris" in second.text
    assert "Kindred" not in second.text
    assert "<td>\N{EN DASH} (0)</td>" in second.text  # no reviews: null average
    book = visitor.get(f"{web_client.url}/books/{catalogue.kindred.pk}/")
    assert book.status_code == 200
    assert "€12.50" in book.text
    assert book.text.count('class="review"') == 1  # its one review, with stars
    assert 'aria-label="5 out of 5">★★★★★' in book.text
    unreviewed = visitor.get(f"{web_client.url}/books/{catalogue.solaris.pk}/")
    assert 'id="no-reviews"' in unreviewed.text
    stats = visitor.get(f"{web_client.url}/stats/")
    assert stats.status_code == 200
    assert f"<td>€{TOTAL_PRICE}</td>" in stats.text
    assert "<td>€9.99 / €12.50</td>" in stats.text
    assert "<td>1 (average rating 5.0)</td>" in stats.text
    assert "<tr><td>1961</td><td>1</td><td>€11.00</td></tr>" in stats.text


def session_tokens(web_client, visitor) -> dict:
    """The tokens in this visitor's session file, decoded with the client's key."""
    key = (web_client.var_dir / "secret_key").read_text().strip()
    session_key = visitor.http.cookies["marginalia_sessionid"]
    # The file backend names files after the cookie name plus the session key.
    path = web_client.var_dir / "sessions" / f"marginalia_sessionid{session_key}"
    data = signing.loads(
        path.read_text(),
        key=key,
        salt="django.contrib.sessions.SessionStore",
        serializer=JSONSerializer,
    )
    return data["tokens"]


def test_tokens_stay_on_the_server(world, visitor, web_client, issuer):
    """Tokens sit in the client's server-side session, never in cookies or pages."""
    sign_in(visitor, web_client.url, issuer)
    pages = [visitor.get(f"{web_client.url}{p}").text for p in ("/", "/books/")]

    tokens = session_tokens(web_client, visitor)
    checksum = hashlib.sha256(tokens["access_token"].encode()).hexdigest()
    assert AccessToken.objects.filter(token_checksum=checksum).exists()
    secrets_ = [tokens["access_token"], tokens["refresh_token"], tokens["id_token"]]
    cookies = {c.name: c.value for c in visitor.http.cookies}
    assert "marginalia_sessionid" in cookies
    assert "authserver_sessionid" in cookies  # distinct names: one host, one jar
    for value in secrets_:
        assert all(value not in c for c in cookies.values())
        assert all(value not in text for text in pages)


def test_access_token_refreshed_after_forced_expiry(
    world, catalogue, visitor, web_client, issuer
):
    """An access token expired at the server is refreshed, rotation included."""
    sign_in(visitor, web_client.url, issuer)
    for round_ in (1, 2):
        expire_access_tokens()

        books = visitor.get(f"{web_client.url}/books/")

        assert books.status_code == 200, books.text[:500]
        assert "Kindred" in books.text
        assert RefreshToken.objects.count() == round_ + 1
        assert RefreshToken.objects.filter(revoked__isnull=True).count() == 1
    live = AccessToken.objects.filter(expires__gt=timezone.now())
    assert live.count() == 1


def test_access_token_refreshed_before_it_expires(
    world, visitor, web_client, issuer, dot_settings
):
    """A token within 30 s of expiry is refreshed before the API call, not after."""
    dot_settings(ACCESS_TOKEN_EXPIRE_SECONDS=20)
    home = sign_in(visitor, web_client.url, issuer)
    assert "Welcome" in home.text  # its userinfo call already refreshed once
    assert RefreshToken.objects.count() == 2

    books = visitor.get(f"{web_client.url}/books/")

    assert books.status_code == 200
    assert RefreshToken.objects.count() == 3
    assert RefreshToken.objects.filter(revoked__isnull=True).count() == 1
    # Every access token the server issued is still valid: nothing was refused.
    assert not AccessToken.objects.filter(expires__lt=timezone.now()).exists()


def test_denied_consent_has_a_clear_page(world, visitor, web_client, issuer):
    """Deny on the consent page: the client explains, nothing is issued."""
    page = sign_in(visitor, web_client.url, issuer, allow=False)

    assert page.status_code == 403
    assert "You declined" in page.text
    assert parse_qs(urlsplit(page.url).query)["error"] == ["access_denied"]
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize(
    ("state", "iss"),
    [("forged", "{issuer}"), ("{state}", "http://evil.example"), ("{state}", None)],
    ids=["state-mismatch", "wrong-iss", "missing-iss"],
)
def test_forged_callback_is_refused(world, visitor, web_client, issuer, state, iss):
    """A callback with another state, or from another issuer, is refused."""
    start = visitor.get(f"{web_client.url}/login", allow_redirects=False)
    real_state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    params = {"code": "stolen", "state": state.format(state=real_state)}
    if iss:
        params["iss"] = iss.format(issuer=issuer)

    page = visitor.get(f"{web_client.url}/callback", params=params)

    assert page.status_code == 400
    assert "This sign-in answer is not for us" in page.text


def test_callback_without_sign_in_in_progress(world, visitor, web_client):
    page = visitor.get(f"{web_client.url}/callback?code=x&state=y")
    assert page.status_code == 400
    assert "No sign-in in progress" in page.text


def test_expired_code_has_a_clear_page(world, visitor, web_client, issuer):
    """A code that expired before the client redeemed it: sign in again."""
    page = visitor.get(f"{web_client.url}/login")
    page = csrf_post(
        visitor, page, "username", {"username": "alice", "password": PASSWORD}
    )
    back = consent(visitor, page, follow=False)
    assert back.headers["Location"].startswith(f"{web_client.url}/callback?code=")
    get_grant_model().objects.update(expires=timezone.now() - timedelta(seconds=1))

    page = visitor.get(back.headers["Location"])

    assert page.status_code == 400
    assert "The sign-in code has expired" in page.text
    assert not AccessToken.objects.exists()


def test_token_revoked_elsewhere(world, visitor, web_client, issuer):
    """Access withdrawn at the server: the client says so and forgets the tokens."""
    sign_in(visitor, web_client.url, issuer)
    for token in RefreshToken.objects.all():
        token.revoke()

    page = visitor.get(f"{web_client.url}/books/")

    assert page.status_code == 401
    assert "Your sign-in has ended" in page.text
    again = visitor.get(f"{web_client.url}/books/", allow_redirects=False)
    assert again.status_code == 302
    assert again.headers["Location"] == "/login?next=/books/"


def test_incremental_authorization_for_a_review(
    world, catalogue, visitor, web_client, issuer
):
    """Posting a review asks for books:write once, then posts the review."""
    sign_in(visitor, web_client.url, issuer)
    book_url = f"{web_client.url}/books/{catalogue.kindred.pk}/"
    book = visitor.get(book_url)
    assert "<h1>Kindred</h1>" in book.text
    assert "by Octavia E. Butler" in book.text
    assert "Average rating: 5.0 (1 review)" in book.text

    page = csrf_post(visitor, book, "rating", {"rating": "4", "text": "Gripping."})

    assert page.url.startswith(f"{issuer}/o/authorize/")
    assert 'data-scope="books:write"' in page.text
    assert not Review.objects.filter(user=world).exists()  # not before consent
    done = consent(visitor, page)
    assert done.url == book_url
    assert "your review is posted" in done.text
    assert "Average rating: 4.5 (2 reviews)" in done.text
    assert list(
        Review.objects.filter(user=world).values_list("book", "rating", "text")
    ) == [(catalogue.kindred.pk, 4, "Gripping.")]
    assert (
        "books:write"
        in AccessToken.objects.get(
            expires__gt=timezone.now(), refresh_token__revoked__isnull=True
        ).scope
    )
    assert RefreshToken.objects.filter(revoked__isnull=True).count() == 1

    again = csrf_post(
        visitor, done, "rating", {"rating": "1", "text": "Changed my mind."}
    )

    assert again.url == book_url  # no second consent
    assert "You have already reviewed this book." in again.text
    assert list(Review.objects.filter(user=world).values_list("rating", "text")) == [
        (4, "Gripping.")
    ]


def test_sign_out_revokes_and_ends_the_server_session(
    world, visitor, web_client, issuer
):
    """Sign-out revokes both tokens (RFC 7009), then logs out at the server."""
    home = sign_in(visitor, web_client.url, issuer)

    leaving = csrf_post(visitor, home, "signout", follow=False)

    assert not AccessToken.objects.exists()
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()
    assert leaving.headers["Location"].startswith(f"{issuer}/o/logout/?id_token_hint=")
    confirm = visitor.get(leaving.headers["Location"])
    assert confirm.status_code == 200
    back = visitor.submit(confirm, visitor.form(confirm, has="allow"), button="allow")
    assert back.url == f"{web_client.url}/"
    assert "Sign in with Bookshelf Accounts" in back.text
    login = visitor.get(f"{issuer}/accounts/login/")
    assert login.url.startswith(f"{issuer}/accounts/login/")  # not signed in there
    assert (
        visitor.get(f"{web_client.url}/books/", allow_redirects=False).status_code
        == 302
    )


def test_server_unreachable_has_a_clear_page(world, visitor, tmp_path, api_url):
    """No authorization server at the configured issuer: a 503 page, not a 500."""
    client = start_web_client(
        issuer=f"http://127.0.0.1:{free_port()}", api_url=api_url, var_dir=tmp_path
    )
    try:
        page = visitor.get(f"{client.url}/login")
    finally:
        stop(client)

    assert page.status_code == 503
    assert "The service is unreachable" in page.text


def test_api_unavailable_has_a_clear_page(world, visitor, issuer, tmp_path):
    """The API failing is a 503 page with a retry link; the sign-in survives.

    The real API runs inside the authorization server, so it cannot be down alone:
    a second web client signs in with the real server but looks for the API on a
    port nothing listens on.
    """
    client = start_web_client(
        issuer=issuer, api_url=f"http://127.0.0.1:{free_port()}", var_dir=tmp_path
    )
    app = Application.objects.get(client_id=WEB_CLIENT_ID)
    app.redirect_uris += f" {client.url}/callback"
    app.save()
    try:
        sign_in(visitor, client.url, issuer)

        page = visitor.get(f"{client.url}/books/")
        home = visitor.get(f"{client.url}/")
    finally:
        stop(client)

    assert page.status_code == 503
    assert "The service is unreachable" in page.text
    assert '<a class="button" href="/books/">Try again</a>' in page.text
    assert home.status_code == 200
    assert "Welcome, Ada Lovelace" in home.text  # still signed in


def test_account_without_catalogue_access_has_a_clear_page(
    world, catalogue, visitor, web_client, issuer
):
    """Consent given, but the account may not read the catalogue: a 403 page."""
    UserFactory(username="carol", password=PASSWORD)  # in no catalogue group
    home = sign_in(visitor, web_client.url, issuer, username="carol")
    assert "Welcome, Ada Lovelace" in home.text

    page = visitor.get(f"{web_client.url}/books/")

    assert page.status_code == 403
    assert "The catalogue could not do that" in page.text
    assert "Your account lacks the permission for this action." in page.text
    assert "Kindred" not in page.text
