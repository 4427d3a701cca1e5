"""Client-credentials tokens commit without waiting for PostgreSQL's WAL flush;
nothing else does (`client_credentials_async_commit`, oauth_server/conf.py)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

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


def test_a_client_credentials_token_does_not_wait_for_the_disk(client, machine_app):
    sent = statements(lambda: client_credentials(client, machine_app))

    if connection.vendor == "postgresql":
        # First in the transaction that stores the token and its audit event.
        after = sent[sent.index(ASYNC) + 1 :]
        assert [sql.split()[0] for sql in after] == ["INSERT", "INSERT"]
    else:  # SQLite has no such setting
        assert ASYNC not in sent


def test_the_setting_off_waits(settings, client, machine_app):
    settings.OAUTH_SERVER = {
        **settings.OAUTH_SERVER,
        "client_credentials_async_commit": False,
    }

    assert ASYNC not in statements(lambda: client_credentials(client, machine_app))


def test_codes_and_refresh_tokens_wait_for_the_disk(client, reader, web_app):
    """One-time credentials: a lost commit would bring a spent code or refresh
    token back, so their grants commit as usual."""
    with CaptureQueriesContext(connection) as captured:
        tokens = sign_in(client, reader, web_app, scope="openid books:read")
    assert ASYNC not in [query["sql"] for query in captured.captured_queries]

    refreshed = statements(
        lambda: form_post(
            client,
            TOKEN,
            {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            auth=(web_app.client_id, web_app.cleartext_secret),
        )
    )
    assert ASYNC not in refreshed


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
