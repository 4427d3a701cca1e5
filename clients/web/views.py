"""Pages of the sample web client: sign in, profile, books, stats, reviews, sign out."""

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from clients.errors import (
    ApiError,
    AuthorizationResponseError,
    IDTokenError,
    InsufficientScope,
    OAuthError,
    ServerUnreachable,
)
from clients.oauth import AuthorizationRequest
from clients.tokens import Tokens, iter_scopes
from clients.web.middleware import error_page
from clients.web.session import (
    FLASH,
    PENDING,
    USER,
    books_api,
    keeper,
    oauth_client,
    store_tokens,
    stored_tokens,
)

logger = logging.getLogger(__name__)

SIGN_IN_SCOPE = "openid profile email books:read"
WRITE_SCOPE = "books:write"


def page(request: HttpRequest, template: str, context: dict[str, Any], status=200):
    """Render with the signed-in user and the one-shot flash message."""
    context = {
        "user": request.session.get(USER),
        "flash": request.session.pop(FLASH, None),
        **context,
    }
    return render(request, template, context, status=status)


def signed_in(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Send visitors without tokens to sign in, then back here."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if stored_tokens(request) is None:
            return redirect(f"{reverse('login')}?next={request.path}")
        return view(request, *args, **kwargs)

    return wrapper


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The profile (from userinfo) when signed in, else the sign-in button."""
    profile = None
    if stored_tokens(request) is not None:
        profile = keeper(request).call(oauth_client().userinfo)
    return page(request, "web/home.html", {"profile": profile})


@require_GET
def login(request: HttpRequest) -> HttpResponse:
    """Start the authorization-code flow ("Sign in with Bookshelf Accounts")."""
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts=None):
        next_url = reverse("home")
    return start_authorization(request, scope=SIGN_IN_SCOPE, next_url=next_url)


def start_authorization(
    request: HttpRequest,
    *,
    scope: str,
    next_url: str,
    review: dict[str, Any] | None = None,
) -> HttpResponse:
    """Remember state, nonce and verifier in the session; send the browser off."""
    config = settings.BOOKSHELF_CLIENT
    auth = oauth_client().authorization_request(
        redirect_uri=config.redirect_uri, scope=scope
    )
    request.session[PENDING] = {**auth.to_dict(), "next": next_url, "review": review}
    return redirect(auth.url)


@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    """The redirect URI: check the response, trade the code, verify the ID token."""
    pending = request.session.pop(PENDING, None)
    again = (reverse("login"), "Sign in again")
    if pending is None:
        return error_page(
            request,
            status=400,
            title="No sign-in in progress",
            message="This page only makes sense right after signing in. Start again.",
            action=again,
        )
    auth = AuthorizationRequest.from_dict(pending)
    client = oauth_client()
    try:
        code = client.check_authorization_response(request.GET.dict(), request=auth)
    except AuthorizationResponseError as error:
        return authorization_error_page(request, error)
    config = settings.BOOKSHELF_CLIENT
    try:
        tokens = client.exchange_code(
            code, request=auth, redirect_uri=config.redirect_uri
        )
        claims = client.verify_id_token(tokens.id_token, nonce=auth.nonce)
    except IDTokenError as error:
        logger.warning("id token rejected: %s", error.description)
        return error_page(
            request,
            status=400,
            title="We could not verify who you are",
            message=f"The sign-in answer failed a security check. {error.description}",
            action=again,
        )
    except ServerUnreachable:
        raise
    except OAuthError as error:
        if error.error != "invalid_grant":
            raise
        return error_page(
            request,
            status=400,
            title="The sign-in code has expired",
            message="It was too old or already used. Please sign in again.",
            action=again,
        )
    previous, user = stored_tokens(request), request.session.get(USER)
    if user and user["sub"] != claims["sub"]:
        revoke_quietly(tokens)  # not the person signed in here: drop the new grant
        return error_page(
            request,
            status=400,
            title="You came back as someone else",
            message="Sign out first to switch accounts.",
        )
    if previous is None:
        request.session.cycle_key()  # a new identity gets a new session id
    elif previous.refresh_token:
        revoke_quietly(previous)  # the upgraded grant replaces the old one
    request.session[USER] = {"sub": claims["sub"], "name": display_name(claims)}
    store_tokens(request, tokens)
    logger.info("signed in sub=%s scope=%s", claims["sub"], tokens.scope)
    if pending.get("review"):
        return post_review(request, **pending["review"])
    return redirect(pending.get("next") or reverse("home"))


def authorization_error_page(
    request: HttpRequest, error: AuthorizationResponseError
) -> HttpResponse:
    """What to tell the person when the redirect back carries an error."""
    again = (reverse("login"), "Try again")
    if error.error == "access_denied":
        return error_page(
            request,
            status=403,
            title="You declined",
            message="Marginalia did not get access to your account; nothing was shared.",
            action=again,
        )
    if error.error in {"state_mismatch", "invalid_issuer"}:
        logger.warning("authorization response rejected: %s", error.error)
        return error_page(
            request,
            status=400,
            title="This sign-in answer is not for us",
            message=f"{error.description} For your safety it was ignored.",
            action=again,
        )
    return error_page(
        request,
        status=400,
        title="Sign-in failed",
        message=f"The account server said: {error}",
        action=again,
    )


def display_name(claims: dict[str, Any]) -> str:
    """A name to greet the person with, from the ID-token claims."""
    return (
        claims.get("name")
        or claims.get("preferred_username")
        or claims.get("email")
        or claims["sub"]
    )


def revoke_quietly(tokens: Tokens) -> bool:
    """Revoke the refresh token (and with it its access token); True if done."""
    try:
        oauth_client().revoke(tokens.refresh_token, hint="refresh_token")
        if tokens.access_token:
            oauth_client().revoke(tokens.access_token, hint="access_token")
    except OAuthError as error:
        logger.warning("revocation failed: %s", error.error)
        return False
    return True


@require_GET
@signed_in
def books(request: HttpRequest) -> HttpResponse:
    """One page of books; the API's page links become ours."""
    params = {k: v for k, v in request.GET.items() if k in {"cursor", "search"}}
    data = keeper(request).call(lambda token: books_api(token).list_books(**params))
    return page(
        request,
        "web/books.html",
        {
            "books": data.get("results", []),
            "next": local_query(data.get("next")),
            "previous": local_query(data.get("previous")),
        },
    )


def local_query(api_url: str | None) -> str | None:
    """The query string of an API page link, to put on our own /books/ URL."""
    if not api_url:
        return None
    return "?" + urlencode(parse_qsl(urlsplit(api_url).query))


@require_GET
@signed_in
def book(request: HttpRequest, book_id: int) -> HttpResponse:
    """One book, its latest reviews and the review form."""
    data = keeper(request).call(lambda token: books_api(token).get_book(book_id))
    reviews = keeper(request).call(lambda token: books_api(token).list_reviews(book_id))
    return page(request, "web/book.html", {"book": data, "reviews": reviews["results"]})


@require_GET
@signed_in
def stats(request: HttpRequest) -> HttpResponse:
    """Catalogue statistics."""
    data = keeper(request).call(lambda token: books_api(token).stats())
    return page(request, "web/stats.html", {"stats": data})


@require_POST
@signed_in
def review(request: HttpRequest, book_id: int) -> HttpResponse:
    """Post a review, first asking for `books:write` if we lack it (incremental)."""
    try:
        rating = int(request.POST.get("rating", ""))
    except ValueError:
        rating = 0
    text = request.POST.get("text", "").strip()
    if not 1 <= rating <= 5 or not text:
        request.session[FLASH] = "Choose a rating from 1 to 5 and write a few words."
        return redirect("book", book_id=book_id)
    tokens = keeper(request).current()
    if not tokens.has_scope(WRITE_SCOPE):
        return ask_for_write(request, tokens, book_id=book_id, rating=rating, text=text)
    return post_review(request, book_id=book_id, rating=rating, text=text)


def ask_for_write(
    request: HttpRequest, tokens: Tokens, *, book_id: int, rating: int, text: str
) -> HttpResponse:
    """Go back to the authorization endpoint for `books:write`, review kept."""
    scope = " ".join(iter_scopes(f"{tokens.scope} {SIGN_IN_SCOPE} {WRITE_SCOPE}"))
    return start_authorization(
        request,
        scope=scope,
        next_url=reverse("book", args=[book_id]),
        review={"book_id": book_id, "rating": rating, "text": text},
    )


def post_review(
    request: HttpRequest, *, book_id: int, rating: int, text: str
) -> HttpResponse:
    """Post the review and say how it went on the book page."""
    try:
        keeper(request).call(
            lambda token: books_api(token).add_review(book_id, rating=rating, text=text)
        )
    except InsufficientScope:
        tokens = keeper(request).current()
        if tokens.has_scope(WRITE_SCOPE):
            raise  # the server wants something we cannot ask for
        return ask_for_write(request, tokens, book_id=book_id, rating=rating, text=text)
    except ApiError as error:
        if error.status != 400:
            raise
        request.session[FLASH] = f"Your review was not posted: {error.description}"
    else:
        request.session[FLASH] = "Thank you, your review is posted."
    return redirect("book", book_id=book_id)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """Revoke our tokens (RFC 7009), then end the server session (RP-initiated)."""
    tokens = stored_tokens(request)
    request.session.flush()
    if tokens is None:
        return redirect("home")
    revoked = revoke_quietly(tokens)
    config = settings.BOOKSHELF_CLIENT
    try:
        url = oauth_client().end_session_url(
            id_token_hint=tokens.id_token,
            post_logout_redirect_uri=config.logout_redirect,
        )
    except OAuthError:
        url = ""
    if not revoked or not url or not tokens.id_token:
        return error_page(
            request,
            status=503,
            title="Signed out here only",
            message=(
                "You are signed out of Marginalia, but the account server could not be "
                "reached to withdraw its access. Sign out there too when it is back."
            ),
        )
    return redirect(url)
