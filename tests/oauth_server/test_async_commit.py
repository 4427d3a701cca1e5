"""Client-credentials tokens commit without waiting for PostgreSQL's WAL flush;
nothing else does (`client_credentials_async_commit`, oauth_server/conf.py).

On PostgreSQL the token, its audit event and the `SET LOCAL` are one statement
string, one round trip and one transaction (`common.db.ride_along`)."""

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from oauth2_provider.models import get_access_token_model

from oauth_server import audit
from oauth_server.models import AuditEvent
from tests.oauth_server.flows import form_post, sign_in

TOKEN = reverse("oauth2_provider:token")
ASYNC = "SET LOCAL synchronous_commit TO OFF"


def client_credentials(client, app):
    return form_post(
        client,
        TOKEN,
        {"grant_type": "client_credentials"},
        auth=(app.client_id, app.cleartext_secret),
    )


def statements(action) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = action()
    assert response.status_code == 200, response.content
    return [query["sql"] for query in captured.captured_queries]


def parts(sql: str) -> list[str]:
    """The statements of one query string, each as its first three words."""
    return [" ".join(part.split()[:3]) for part in sql.split("; ")]


ASYNC_PART = parts(ASYNC)[0]

TOKEN_INSERT = 'INSERT INTO "oauth2_provider_accesstoken"'
EVENT_INSERT = 'INSERT INTO "oauth_server_auditevent"'


def test_a_client_credentials_token_does_not_wait_for_the_disk(client, machine_app):
    client_credentials(client, machine_app)  # the client cached (with Redis)
    sent = statements(lambda: client_credentials(client, machine_app))

    if connection.vendor == "postgresql":
        [only] = sent[-1:]  # the client's row read first without a cache
        assert parts(only) == [TOKEN_INSERT, EVENT_INSERT, ASYNC_PART]
    else:  # SQLite has no such setting
        assert not any(ASYNC in sql for sql in sent)


def test_the_setting_off_waits(settings, client, machine_app):
    settings.OAUTH_SERVER = {
        **settings.OAUTH_SERVER,
        "client_credentials_async_commit": False,
    }

    sent = statements(lambda: client_credentials(client, machine_app))
    assert not any(ASYNC in sql for sql in sent)
    if connection.vendor == "postgresql":
        assert parts(sent[-1]) == [TOKEN_INSERT, EVENT_INSERT]


@pytest.mark.django_db(transaction=True)
def test_the_token_is_not_stored_without_its_event(monkeypatch, client, machine_app):
    """One transaction: an audit event that cannot be stored takes the token with
    it (outside any test transaction, as in production: on PostgreSQL the one
    statement string, on SQLite the validator's transaction)."""
    tokens = get_access_token_model().objects
    original = audit.unsaved

    def unstorable(event, **kwargs):
        entry = original(event, **kwargs)
        entry.user_id = 2**31 - 1  # no such user: the foreign key fails at commit
        return entry

    monkeypatch.setattr(audit, "unsaved", unstorable)
    stored = tokens.count()
    with pytest.raises(IntegrityError):
        client_credentials(client, machine_app)

    assert tokens.count() == stored
    assert not AuditEvent.objects.exists()


def test_codes_and_refresh_tokens_wait_for_the_disk(client, reader, web_app):
    """One-time credentials: a lost commit would bring a spent code or refresh
    token back, so their grants commit as usual."""
    with CaptureQueriesContext(connection) as captured:
        tokens = sign_in(client, reader, web_app, scope="openid books:read")
    assert not any(ASYNC in query["sql"] for query in captured.captured_queries)

    refreshed = statements(
        lambda: form_post(
            client,
            TOKEN,
            {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            auth=(web_app.client_id, web_app.cleartext_secret),
        )
    )
    assert not any(ASYNC in sql for sql in refreshed)


@pytest.mark.django_db(transaction=True)
def test_only_that_transaction_commits_asynchronously(client, machine_app):
    """`SET LOCAL` ends with the token's transaction; the connection, kept for the
    next request (CONN_MAX_AGE), commits synchronously again."""
    assert client_credentials(client, machine_app).status_code == 200

    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            return  # nothing was set (see the first test)
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="one statement string")
def test_requests_sharing_the_validator_keep_their_own_events(monkeypatch, machine_app):
    """DOT shares one validator between requests (and threads): a token request
    that runs while another is between its event and its token still stores its
    own event with its own token, one each."""
    from oauthlib.common import Request as OAuthlibRequest

    from oauth_server.tokens import checksum
    from oauth_server.views import TokenView

    validator = TokenView.get_oauthlib_core().server.request_validator
    original = type(validator)._save_bearer_token

    def request_for(n):
        request = OAuthlibRequest("https://testserver/o/token/", "POST")
        request.client, request.grant_type = machine_app, "client_credentials"
        token = {"access_token": f"parallel-{n}", "scope": "books:read"}
        return token, request

    nested = []

    def interleaved(self, token, request, *args, **kwargs):
        if not nested:  # the first request pauses here while a second one runs
            nested.append(request_for(2))
            self._save_client_credentials_token(*nested[0])
        return original(self, token, request, *args, **kwargs)

    monkeypatch.setattr(type(validator), "_save_bearer_token", interleaved)
    validator._save_client_credentials_token(*request_for(1))

    assert AuditEvent.objects.filter(event=audit.Event.TOKEN_ISSUED).count() == 2
    stored = get_access_token_model().objects.filter(
        token_checksum__in=[checksum("parallel-1"), checksum("parallel-2")]
    )
    assert stored.count() == 2
