"""Client ID Metadata Documents: a URL as client_id, fetched over real TLS.

The documents are served by a local https server whose CA the test makes; the
server trusts it only through the test-only allow-list (`cimd_test_hosts`).
"""

import pytest
from django.urls import reverse

from oauth_server.models import Application, AuditEvent, RegistrationPolicy
from tests.https_server import document_server
from tests.oauth_server.flows import CodeRequest, form_post, query_of

pytestmark = pytest.mark.django_db

REDIRECT_URI = "https://agent.example/callback"


@pytest.fixture
def docs(tmp_path, settings):
    with document_server(tmp_path) as server:
        settings.OAUTH_SERVER = {
            **settings.OAUTH_SERVER,
            "cimd_test_hosts": ("localhost",),
            "cimd_test_ca_file": str(server.ca_file),
        }
        yield server


@pytest.fixture
def client_id(docs) -> str:
    url = docs.url("/agent/client.json")
    return docs.serve(
        "/agent/client.json",
        {
            "client_id": url,
            "client_name": "Helpful Agent",
            "redirect_uris": [REDIRECT_URI],
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "none",
        },
    )


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def test_consent_page_shows_the_host(signed_in, client_id):
    """The page names the client by its web address, and warns that is all."""
    request = CodeRequest(client_id=client_id, redirect_uri=REDIRECT_URI)

    page = signed_in.get(request.url())

    assert page.status_code == 200, page.content[:1000]
    html = page.content.decode()
    assert '<h1 id="client-host">localhost wants to access your account</h1>' in html
    assert "Helpful Agent" in html
    assert "identified only by its web address" in html


def test_first_sight_registers_the_client_under_the_policy(signed_in, client_id):
    signed_in.get(
        CodeRequest(client_id=client_id, redirect_uri=REDIRECT_URI).url(),
        REMOTE_ADDR="203.0.113.9",
    )

    app = Application.objects.get(client_id=client_id)
    assert app.registration_source == "cimd"
    assert app.client_type == "public"
    assert app.allowed_scope_list == RegistrationPolicy.load().scope_list
    event = AuditEvent.objects.get(event="application.created")
    assert event.client_id == client_id
    assert event.details["via"] == "cimd"
    assert event.details["host"] == "localhost"
    assert event.address == "203.0.113.9"


def test_scopes_are_limited_to_the_policy(signed_in, client_id):
    """email is not in the policy: invalid_scope back to the client."""
    request = CodeRequest(
        client_id=client_id, redirect_uri=REDIRECT_URI, scope="books:read email"
    )
    response = signed_in.get(request.url())

    assert response.status_code == 302
    assert query_of(response["Location"])["error"] == "invalid_scope"


def test_code_flow_with_a_url_client_id(signed_in, client_id):
    """Consent, code, and tokens for the client known by its URL."""
    request = CodeRequest(
        client_id=client_id, redirect_uri=REDIRECT_URI, scope="openid books:read"
    )
    signed_in.get(request.url())
    decision = signed_in.post(
        reverse("oauth2_provider:authorize"), {**request.params(), "allow": "Authorize"}
    )
    assert decision.status_code == 302, decision.content[:500]
    code = query_of(decision["Location"])["code"]

    response = form_post(
        signed_in,
        reverse("oauth2_provider:token"),
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": client_id,
            "code_verifier": request.verifier,
        },
    )
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "openid books:read"


def test_document_naming_another_client_id_is_refused(signed_in, docs):
    """The document must name the URL it came from (CIMD §4.1)."""
    url = docs.serve(
        "/liar.json",
        {
            "client_id": "https://someone-else.example/client.json",
            "client_name": "Liar",
            "redirect_uris": [REDIRECT_URI],
            "token_endpoint_auth_method": "none",
        },
    )
    response = signed_in.get(
        CodeRequest(client_id=url, redirect_uri=REDIRECT_URI).url()
    )

    assert response.status_code == 400
    assert not response.has_header("Location")
    assert not Application.objects.filter(client_id=url).exists()
    assert docs.requests == ["/liar.json"]


def test_redirect_uri_outside_the_document_is_refused(signed_in, client_id):
    request = CodeRequest(client_id=client_id, redirect_uri="https://evil.example/cb")
    response = signed_in.get(request.url())
    assert response.status_code == 400
    assert not response.has_header("Location")


def test_policy_can_turn_documents_off(signed_in, client_id, docs):
    RegistrationPolicy.objects.update_or_create(pk=1, defaults={"cimd_enabled": False})

    response = signed_in.get(
        CodeRequest(client_id=client_id, redirect_uri=REDIRECT_URI).url()
    )

    assert response.status_code == 400
    assert docs.requests == []  # refused before any fetch
    assert not Application.objects.exists()


def test_turning_documents_off_stops_known_clients(signed_in, client_id):
    request = CodeRequest(client_id=client_id, redirect_uri=REDIRECT_URI)
    assert signed_in.get(request.url()).status_code == 200
    RegistrationPolicy.objects.update_or_create(pk=1, defaults={"cimd_enabled": False})

    assert signed_in.get(request.url()).status_code == 400


def test_login_page_names_the_host(client, client_id):
    """Before sign-in too, the client is named by its web address, not its name."""
    request = CodeRequest(client_id=client_id, redirect_uri=REDIRECT_URI)
    to_login = client.get(request.url())
    assert to_login.status_code == 302

    page = client.get(to_login["Location"])

    assert page.status_code == 200
    html = page.content.decode()
    assert "Sign in to continue to <strong>localhost</strong>" in html
    assert "Helpful Agent" not in html


def test_first_sights_count_toward_the_rate_limit(signed_in, docs):
    """A second new document from one address within the hour is refused;
    the known one keeps working."""
    RegistrationPolicy.objects.update_or_create(
        pk=1, defaults={"registrations_per_hour": 1}
    )
    first, second = (
        docs.serve(
            path,
            {
                "client_id": docs.url(path),
                "client_name": path,
                "redirect_uris": [REDIRECT_URI],
                "token_endpoint_auth_method": "none",
            },
        )
        for path in ("/one.json", "/two.json")
    )
    known = CodeRequest(client_id=first, redirect_uri=REDIRECT_URI).url()
    assert signed_in.get(known).status_code == 200

    refused = signed_in.get(
        CodeRequest(client_id=second, redirect_uri=REDIRECT_URI).url()
    )

    assert refused.status_code == 400
    assert not Application.objects.filter(client_id=second).exists()
    assert signed_in.get(known).status_code == 200
