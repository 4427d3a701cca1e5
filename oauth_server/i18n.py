"""The language of the browser pages: OIDC `ui_locales` first, then Accept-Language.

A client names the end user's preferred languages in the authorization request
(`ui_locales`, OIDC Core §3.1.2.1; also on RP-initiated logout). Every page of that
flow is in the first supported one: the request itself carries it (the authorize
and consent pages, the error page, the consent form that posts back to the same
URL), and so does the `next` URL the sign-in page returns to (in its query string
on GET, in the form on POST: `LoginView.post`). Nothing is stored: another tab or a
later visit to the account pages follows the browser's Accept-Language again.
"""

from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from oauth_server import scopes

# Enough for a few tags; longer values are not a preference list.
MAX_UI_LOCALES_LENGTH = 200

# django-oauth-toolkit marks its device grant statuses for translation but ships
# no German; the device status page shows them, so our catalogue carries them.
DEVICE_STATUS_LABELS = (
    gettext_noop("Authorized"),
    gettext_noop("Authorization pending"),
    gettext_noop("Expired"),
    gettext_noop("Denied"),
)


def supported_languages() -> list[str]:
    """The language codes of the pages, default first (`ui_locales_supported`)."""
    return [code for code, _name in settings.LANGUAGES]


def language_from_ui_locales(value: str) -> str | None:
    """The first supported language of a space-separated list of BCP 47 tags.

    `de-AT` falls back to `de`; unknown or malformed tags are skipped.
    """
    if len(value) > MAX_UI_LOCALES_LENGTH:
        return None
    for tag in value.split():
        try:
            return translation.get_supported_language_variant(tag.lower())
        except LookupError:
            continue
    return None


def ui_locales_in(url: str) -> str:
    """The `ui_locales` in the query string of `url` (a `next` URL), or ""."""
    try:
        query = urlsplit(url).query
    except ValueError:  # "http://[::1/": not a URL to read a preference from
        return ""
    values = parse_qs(query).get("ui_locales")
    return values[0] if values else ""


def request_language(request: HttpRequest) -> str | None:
    """The language the query string's `ui_locales` asks for, directly or in `next`.

    None lets Accept-Language decide. Only the query string is read here: a body
    is the view's to parse (size limits, upload handlers).
    """
    try:
        query = request.GET
    except TooManyFieldsSent:
        # The view answers this in its own way (JSON on the API and OAuth endpoints).
        return None
    value = query.get("ui_locales") or ui_locales_in(query.get("next", ""))
    return language_from_ui_locales(value)


def activate_for_next(next_url: str) -> None:
    """Switch to the language of the `ui_locales` in `next_url`, if it names one."""
    if language := language_from_ui_locales(ui_locales_in(next_url)):
        translation.activate(language)


def scope_description(name: str) -> str:
    """What a scope allows, in words of the active language."""
    description = scopes.SCOPES.get(name)
    return gettext(description) if description else name
