"""The pages' language: OIDC `ui_locales` for the flow, then Accept-Language, then English."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateformat import format as date_format

from oauth_server import services
from oauth_server.templatetags.bookshelf_i18n import ago, in_sentence
from tests.factories import DeveloperFactory
from tests.oauth_server.flows import CodeRequest

CALLBACK = "https://client.example/callback"
LOGIN = reverse("login")
GERMAN_CONSENT = "möchte auf Ihr Konto zugreifen"
ENGLISH_CONSENT = "wants to access your account"


def code_request(app) -> CodeRequest:
    return CodeRequest(client_id=app.client_id, redirect_uri=CALLBACK)


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def test_ui_locales_gives_a_german_sign_in_page(client, web_app):
    """The authorization request's ui_locales=de reaches the sign-in page via `next`."""
    response = client.get(code_request(web_app).url(ui_locales="de"))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)

    page = client.get(response["Location"])

    assert page.status_code == 200
    assert '<html lang="de">' in page.text
    assert page["Content-Language"] == "de"
    assert "<h1>Anmelden</h1>" in page.text
    assert "Melden Sie sich an, um mit <strong>Web app</strong> fortzufahren." in (
        page.text
    )
    assert '<label for="id_password">Passwort</label>' in page.text


def test_failed_sign_in_stays_german(client, user, web_app):
    """The form posts `next` in its body; the error it answers with is German too."""
    next_url = code_request(web_app).url(ui_locales="de")

    page = client.post(
        LOGIN, {"username": "alice", "password": "wrong", "next": next_url}
    )

    assert page.status_code == 200
    assert '<html lang="de">' in page.text
    assert "Benutzername und Passwort passen zu keinem Konto." in page.text


def test_lockout_page_is_german_in_a_german_flow(client, user, web_app):
    """The lockout message (a plural) follows the flow's language."""
    next_url = code_request(web_app).url(ui_locales="de")
    for _ in range(5):
        page = client.post(
            LOGIN, {"username": "alice", "password": "wrong", "next": next_url}
        )

    assert page.status_code == 429
    assert "Zu viele fehlgeschlagene Anmeldungen." in page.text
    assert "in 15 Minuten erneut" in page.text


def test_signing_in_returns_to_a_german_consent_page(client, user, web_app):
    """Sign in from the German sign-in page; the consent page is German."""
    request = code_request(web_app)
    login_url = client.get(request.url(ui_locales="de"))["Location"]
    next_url = client.get(login_url).context["next"]

    signed_in = client.post(
        LOGIN,
        {"username": "alice", "password": "correct horse battery", "next": next_url},
    )
    assert signed_in.status_code == 302
    page = client.get(signed_in["Location"])

    assert page.status_code == 200
    assert GERMAN_CONSENT in page.text
    assert '<html lang="de">' in page.text


def test_consent_page_in_german(signed_in, web_app):
    """Headings, scope descriptions and buttons of the consent page."""
    page = signed_in.get(code_request(web_app).url(ui_locales="de"))

    assert page.status_code == 200
    assert f"<h1>Web app {GERMAN_CONSENT}</h1>" in page.text
    assert "Angemeldet als <strong>alice</strong>" in page.text
    assert ">Buchkatalog und Rezensionen lesen</li>" in page.text
    assert ">Sie mit Ihrem Konto anmelden (OpenID Connect)</li>" in page.text
    assert ">Erlauben</button>" in page.text
    assert ">Ablehnen</button>" in page.text
    # The buttons' values are protocol, not text: DOT reads them.
    assert 'name="allow" value="Authorize"' in page.text


@pytest.mark.parametrize(
    ("ui_locales", "accept_language", "german"),
    [
        ("fr de", "", True),  # the first supported tag wins
        ("de-AT", "", True),  # a regional tag falls back to its language
        ("DE", "", True),  # BCP 47 tags are case-insensitive
        ("en de", "de", False),  # ui_locales comes before Accept-Language
        ("fr", "de", True),  # none supported: Accept-Language decides
        ("fr", "", False),  # then English
        ("", "de-DE,de;q=0.9", True),  # no ui_locales: Accept-Language
        ("", "", False),
        ("../../etc x" * 30, "", False),  # malformed: ignored
    ],
)
def test_language_choice(signed_in, web_app, ui_locales, accept_language, german):
    """ui_locales (OIDC Core §3.1.2.1) first, then Accept-Language, then English."""
    params = {"ui_locales": ui_locales} if ui_locales else {}
    headers = {"HTTP_ACCEPT_LANGUAGE": accept_language} if accept_language else {}

    page = signed_in.get(code_request(web_app).url(**params), **headers)

    assert page.status_code == 200
    assert (GERMAN_CONSENT in page.text) is german
    assert (ENGLISH_CONSENT in page.text) is not german
    assert f'<html lang="{"de" if german else "en"}">' in page.text


def test_error_page_in_german(client, db):
    """An unknown client's error page (no redirect) follows ui_locales too."""
    query = urlencode(
        {"response_type": "code", "client_id": "nobody", "ui_locales": "de"}
    )

    page = client.get(f"{reverse('oauth2_provider:authorize')}?{query}")

    assert page.status_code == 400
    assert "Diese Anmeldeanfrage kann nicht fortgesetzt werden" in page.text
    assert "<title>Autorisierungsfehler</title>" in page.text


def test_ui_locales_is_not_remembered(signed_in, web_app):
    """After a German flow, the account page follows the browser again."""
    assert (
        GERMAN_CONSENT in signed_in.get(code_request(web_app).url(ui_locales="de")).text
    )

    page = signed_in.get(reverse("oauth2_provider:account"))

    assert '<html lang="en">' in page.text
    assert "<h1>Your account</h1>" in page.text


def test_account_pages_follow_accept_language(signed_in, user, web_app):
    """Accept-Language: de gives the account area in German, events included."""
    # Recorded with its audit event, which the account page lists.
    services.consent_remember(user=user, application=web_app, scopes=["openid"])
    german = {"HTTP_ACCEPT_LANGUAGE": "de"}

    account = signed_in.get(reverse("oauth2_provider:account"), **german)
    connected = signed_in.get(reverse("oauth2_provider:connected-apps"), **german)
    tokens = signed_in.get(reverse("oauth2_provider:personal-tokens"), **german)

    assert "<h1>Ihr Konto</h1>" in account.text
    assert ">Verbundene Anwendungen</a>" in account.text  # the navigation
    assert "<strong>Zustimmung erteilt</strong>" in account.text  # the audit event
    assert "<h1>Verbundene Anwendungen</h1>" in connected.text
    assert ">Zugriff entfernen</a>" in connected.text
    assert "<h1>Persönliche Tokens</h1>" in tokens.text
    assert "<legend>Berechtigungen</legend>" in tokens.text
    assert "Buchkatalog und Rezensionen lesen" in tokens.text  # scope choices


def test_german_dates(signed_in, user, web_app):
    """Dates are written the German way: "Erlaubt am 5. März 2026"."""
    services.consent_remember(user=user, application=web_app, scopes=["openid"])

    page = signed_in.get(
        reverse("oauth2_provider:connected-apps"), HTTP_ACCEPT_LANGUAGE="de"
    )

    with translation.override("de"):
        day = date_format(timezone.now(), "j. F Y")
    assert "Erlaubt am <time datetime=" in page.text
    assert f">{day}</time>." in page.text


def test_german_form_errors(signed_in):
    """The personal token form's errors come from the service, in German."""
    page = signed_in.post(
        reverse("oauth2_provider:personal-tokens"),
        {"name": "", "expires_in_days": "30"},
        HTTP_ACCEPT_LANGUAGE="de",
    )

    assert page.status_code == 200
    assert "Geben Sie dem Token einen Namen." in page.text
    assert "Wählen Sie mindestens eine Berechtigung." in page.text


def test_device_page_in_german(signed_in):
    page = signed_in.get(reverse("oauth2_provider:device"), HTTP_ACCEPT_LANGUAGE="de")

    assert "<h1>Gerät verbinden</h1>" in page.text
    assert ">Weiter</button>" in page.text


def test_token_errors_stay_in_english(client, web_app):
    """JSON error bodies are protocol: the same whatever Accept-Language says."""
    data = {"grant_type": "authorization_code", "code": "nope"}
    english = client.post(reverse("oauth2_provider:token"), data).json()

    german = client.post(
        reverse("oauth2_provider:token"), data, HTTP_ACCEPT_LANGUAGE="de"
    ).json()

    assert german == english


def test_ago_puts_german_durations_in_the_dative():
    three_days = timezone.now() - timedelta(days=3, minutes=1)

    with translation.override("en"):
        assert ago(three_days) == "3\xa0days ago"
    with translation.override("de"):
        assert ago(three_days) == "vor 3\xa0Tagen"
    assert ago(None) == ""


def test_scope_descriptions_in_sentences():
    """English runs them into a sentence in lower case; German keeps its capitals."""
    with translation.override("en"):
        assert in_sentence("See your email address") == "see your email address"
    with translation.override("de"):
        assert in_sentence("Ihre E-Mail-Adresse sehen") == "Ihre E-Mail-Adresse sehen"


def test_developer_portal_in_german(client, db):
    """The portal's registration form, choices and validation errors in German."""
    client.force_login(DeveloperFactory(username="dev"))
    german = {"HTTP_ACCEPT_LANGUAGE": "de"}
    url = reverse("oauth2_provider:developer-app-register")

    form = client.get(url, **german)
    refused = client.post(url, {"name": "", "requested_scopes": []}, **german)

    assert "Anwendung registrieren" in form.text
    assert "Vertraulich: läuft auf einem Server" in form.text
    assert ">Entwicklerportal</a>" in form.text  # the navigation
    assert "Bitte beheben Sie die unten markierten Probleme." in refused.text
