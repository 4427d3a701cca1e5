"""Device authorization grant (RFC 8628): one device code, one client, one set of tokens."""

import hashlib
import math
import secrets
from collections import Counter

import pytest
from django.urls import reverse
from oauth2_provider.models import (
    get_access_token_model,
    get_device_grant_model,
    get_refresh_token_model,
)

from oauth_server import device, user_codes
from tests.factories import ApplicationFactory, UserFactory
from tests.oauth_server.flows import (
    DEVICE_GRANT,
    decide_device,
    form_post,
    json_of,
    poll_device,
    start_device,
    token_request,
)
from tests.security.concurrency import race

AccessToken = get_access_token_model()
DeviceGrant = get_device_grant_model()
RefreshToken = get_refresh_token_model()

ROUNDS, PARALLEL = 20, 4


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def is_live(tokens: dict) -> bool:
    """Whether the access token still exists and its refresh token is unrevoked."""
    return (
        AccessToken.objects.filter(
            token_checksum=sha256(tokens["access_token"])
        ).exists()
        and RefreshToken.objects.filter(
            token_checksum=sha256(tokens["refresh_token"]), revoked__isnull=True
        ).exists()
    )


def approved_device(app, user) -> str:
    """A device code of `app` that `user` has approved; the raw code."""
    raw = secrets.token_urlsafe(30)
    grant = device.device_grant_create(
        client_id=app.client_id,
        scope="books:read",
        device_code=raw,
        user_code=user_codes.generate(),
        expires_in=600,
    )
    DeviceGrant.objects.filter(pk=grant.pk).update(status=grant.AUTHORIZED, user=user)
    return raw


def test_device_code_yields_tokens_once(client, user, device_app):
    """An approved device code gives tokens to one poll only (RFC 8628 §3.5)."""
    started = start_device(client, device_app)
    decide_device(client, user, started["user_code"])

    first = poll_device(client, device_app, started["device_code"])
    later = [poll_device(client, device_app, started["device_code"]) for _ in range(3)]

    assert first.status_code == 200, first.content
    for response in later:
        assert response.status_code == 400
        assert json_of(response)["error"] == "invalid_grant"
        assert "access_token" not in json_of(response)


def test_replayed_device_code_revokes_its_tokens(
    client, api_client_for, reader, device_app
):
    """A device code polled again after use takes its tokens back, refreshed ones
    too (RFC 9700 §4.14: a one-time credential seen twice has leaked)."""
    started = start_device(client, device_app)
    decide_device(client, reader, started["user_code"])
    issued = json_of(poll_device(client, device_app, started["device_code"]))
    refreshed = json_of(
        token_request(
            client,
            {
                "grant_type": "refresh_token",
                "refresh_token": issued["refresh_token"],
                "client_id": device_app.client_id,
            },
        )
    )
    assert (
        api_client_for(refreshed["access_token"]).get("/api/v1/books/").status_code
        == 200
    )

    replay = poll_device(client, device_app, started["device_code"])

    assert json_of(replay)["error"] == "invalid_grant"
    assert (
        api_client_for(refreshed["access_token"]).get("/api/v1/books/").status_code
        == 401
    )
    assert not is_live(refreshed)
    again = token_request(
        client,
        {
            "grant_type": "refresh_token",
            "refresh_token": refreshed["refresh_token"],
            "client_id": device_app.client_id,
        },
    )
    assert json_of(again)["error"] == "invalid_grant"


@pytest.mark.django_db(transaction=True)
def test_parallel_polls_yield_tokens_once(live_server, device_app):
    """Parallel polls of one approved device code: at most one gets tokens, none a
    5xx, and the others count as a replay that revokes them (RFC 9700 §4.14). The
    claim is decided in the database, not by the poll interval in the cache."""
    user = UserFactory(username="racer")
    url = live_server.url + reverse("oauth2_provider:token")
    tally: Counter[str] = Counter()

    for _ in range(ROUNDS):
        body = {
            "grant_type": DEVICE_GRANT,
            "device_code": approved_device(device_app, user),
            "client_id": device_app.client_id,
        }
        responses = race(url, [body] * PARALLEL)

        statuses = [r.status_code for r in responses]
        assert all(status < 500 for status in statuses), statuses
        winners = [r.json() for r in responses if r.status_code == 200]
        losers = [r.json()["error"] for r in responses if r.status_code != 200]
        assert len(winners) <= 1, statuses
        assert set(losers) <= {"invalid_grant"}, losers
        if winners and losers:
            assert not is_live(winners[0])
        tally.update(str(status) for status in statuses)

    assert tally["200"] == ROUNDS  # one winner a round: the claim never fails twice
    assert tally["400"] == ROUNDS * (PARALLEL - 1)


def test_device_code_is_bound_to_its_client(client, user, device_app):
    """Another client presenting the device code gets invalid_grant, and does not
    spend it (RFC 8628 §3.4, RFC 6749 §5.2)."""
    other_public = ApplicationFactory(
        client_type="public",
        authorization_grant_type=DEVICE_GRANT,
        redirect_uris="",
        post_logout_redirect_uris="",
        allowed_scopes="books:read",
    )
    other_confidential = ApplicationFactory(
        authorization_grant_type=DEVICE_GRANT,
        redirect_uris="",
        post_logout_redirect_uris="",
        allowed_scopes="books:read",
    )
    started = start_device(client, device_app)
    decide_device(client, user, started["user_code"])

    public = poll_device(client, other_public, started["device_code"])
    confidential = poll_device(
        client,
        other_confidential,
        started["device_code"],
        auth=(other_confidential.client_id, other_confidential.cleartext_secret),
    )
    own = poll_device(client, device_app, started["device_code"])

    for response in (public, confidential):
        assert response.status_code == 400
        assert json_of(response)["error"] == "invalid_grant"
    assert own.status_code == 200, own.content


@pytest.mark.parametrize("app_fixture", ["web_app", "machine_app"])
def test_device_grant_refuses_clients_registered_for_other_grants(
    request, client, app_fixture
):
    """Only device clients get device codes, or redeem them: `unauthorized_client`
    (RFC 6749 §5.2) for a client of another grant, even when it authenticates."""
    app = request.getfixturevalue(app_fixture)
    auth = (app.client_id, app.cleartext_secret)

    started = form_post(
        client,
        reverse("oauth2_provider:device-authorization"),
        {"client_id": app.client_id},
        auth=auth,
    )
    polled = poll_device(client, app, "any-device-code", auth=auth)

    for response in (started, polled):
        assert response.status_code == 400, response.content
        assert json_of(response)["error"] == "unauthorized_client"
        assert response["Cache-Control"] == "no-store"
    assert not DeviceGrant.objects.exists()


def test_device_authorization_refuses_unknown_clients(client, db):
    """An unknown client gets `invalid_client` (401) and no device code."""
    response = form_post(
        client,
        reverse("oauth2_provider:device-authorization"),
        {"client_id": "no-such-client"},
    )

    assert response.status_code == 401
    assert json_of(response)["error"] == "invalid_client"
    assert response["WWW-Authenticate"].startswith("Basic ")
    assert not DeviceGrant.objects.exists()


def test_device_codes_are_stored_hashed(client, user, device_app):
    """The database holds SHA-256 digests of device codes, which redeem nothing
    (as tokens under RFC 9700 storage): a leaked table leaks no usable code."""
    started = start_device(client, device_app)
    decide_device(client, user, started["user_code"])
    grant = DeviceGrant.objects.get()

    stored = poll_device(client, device_app, grant.device_code)
    raw = poll_device(client, device_app, started["device_code"])

    assert grant.device_code == sha256(started["device_code"])
    assert started["device_code"] not in str(list(DeviceGrant.objects.values_list()))
    assert json_of(stored)["error"] == "invalid_grant"
    assert raw.status_code == 200, raw.content


def test_user_codes_resist_guessing(client, device_app):
    """User codes: eight characters of 20 consonants without look-alikes (about
    34.6 bits), shown as XXXX-XXXX (RFC 8628 §5.1, §6.1)."""
    codes = [start_device(client, device_app)["user_code"] for _ in range(3)]
    codes += [user_codes.generate() for _ in range(500)]

    assert user_codes.ENTROPY_BITS >= 34
    assert math.isclose(user_codes.ENTROPY_BITS, 8 * math.log2(20))
    assert not set(user_codes.ALPHABET) & set("AEIOUY0123456789")
    for code in codes:
        assert (len(code), code[4]) == (9, "-"), code
        assert set(code.replace("-", "")) <= set(user_codes.ALPHABET), code
    # 500 codes from 20**8: a repeat would mean far less entropy than claimed.
    assert len(set(codes)) == len(codes)
    # Every symbol is used, in every position.
    for position in (0, 3, 5, 8):
        assert len({code[position] for code in codes}) == len(user_codes.ALPHABET)


def test_user_code_guessing_is_throttled(client, device_app, settings):
    """Wrong user codes are limited per user and per address, with a 429 that says
    when to retry; people elsewhere still get in (RFC 8628 §5.1)."""
    settings.OAUTH_SERVER = {
        **settings.OAUTH_SERVER,
        "user_code_failures_per_user": 3,
        "user_code_failures_per_address": 5,
    }
    url = reverse("oauth2_provider:device")
    guesser, neighbour, elsewhere = (
        UserFactory(username=name) for name in ("guesser", "neighbour", "elsewhere")
    )
    codes = [start_device(client, device_app)["user_code"] for _ in range(3)]

    def enter(user, code: str, address: str):
        client.force_login(user)
        return client.post(url, {"user_code": code}, REMOTE_ADDR=address)

    for _ in range(3):
        assert enter(guesser, "BBBB-BBBB", "198.51.100.1").status_code == 200
    blocked = enter(guesser, codes[0], "198.51.100.1")  # right code, too late
    others = enter(elsewhere, codes[1], "203.0.113.9")
    for _ in range(2):
        enter(neighbour, "CCCC-CCCC", "198.51.100.1")
    same_address = enter(neighbour, codes[2], "198.51.100.1")

    assert blocked.status_code == 429
    assert "Try again in 15 minutes" in blocked.content.decode()
    assert int(blocked["Retry-After"]) > 0
    assert others.status_code == 302
    assert same_address.status_code == 429
    assert DeviceGrant.objects.filter(user__isnull=False).count() == 1
