"""`cleartokens`: what goes, what stays (as DOT's clear_expired), and in what batches."""

import math
import secrets
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_device_grant_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
    set_token_value,
)

from oauth_server.models import RedeemedCode
from tests.factories import AccessTokenFactory

AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()
IDToken = get_id_token_model()
Grant = get_grant_model()
DeviceGrant = get_device_grant_model()

DAY = timedelta(days=1)


def ago(delta: timedelta):
    return timezone.now() - delta


def access_token(app, user, *, expires):
    return AccessTokenFactory(application=app, user=user, expires=expires)


def refresh_token(app, user, *, access_token=None, revoked=None):
    token = RefreshToken(
        application=app,
        user=user,
        access_token=access_token,
        revoked=revoked,
        token_family=uuid.uuid4(),
    )
    set_token_value(token, secrets.token_urlsafe(30))
    token.save()
    return token


def run(*args: str) -> str:
    out = StringIO()
    call_command("cleartokens", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def exists(instance) -> bool:
    return type(instance)._default_manager.filter(pk=instance.pk).exists()


@pytest.fixture
def rows(web_app, user):
    """One row of every kind on each side of its expiry rule."""
    app = web_app
    at_expired = access_token(app, user, expires=ago(timedelta(hours=1)))
    at_live = access_token(app, user, expires=ago(-timedelta(hours=1)))
    # Expired access token whose refresh token is still usable: both stay.
    at_refreshable = access_token(app, user, expires=ago(timedelta(hours=1)))
    rt_live = refresh_token(app, user, access_token=at_refreshable)
    # Dormant past REFRESH_TOKEN_EXPIRE_SECONDS (30 days): both go.
    at_dormant = access_token(app, user, expires=ago(31 * DAY))
    rt_dormant = refresh_token(app, user, access_token=at_dormant)
    id_expired = IDToken.objects.create(application=app, user=user, expires=ago(DAY))
    id_bound = IDToken.objects.create(application=app, user=user, expires=ago(DAY))
    AccessToken.objects.filter(pk=at_live.pk).update(id_token=id_bound)
    grant_fields = {"application": app, "user": user, "redirect_uri": "https://c/"}
    device_fields = {"client_id": app.client_id, "user_code": "ABCD-EFGH"}
    return {
        "gone": [
            at_expired,
            at_dormant,
            rt_dormant,
            refresh_token(app, user, revoked=ago(31 * DAY)),
            refresh_token(app, user),  # orphaned: live, access token deleted
            id_expired,
            Grant.objects.create(code="old", expires=ago(timedelta(1)), **grant_fields),
            DeviceGrant.objects.create(
                device_code="old", expires=ago(2 * DAY), **device_fields
            ),
            RedeemedCode.objects.create(
                code_checksum="1" * 64,
                application=app,
                access_token_checksum="a" * 64,
                expires=ago(timedelta(seconds=1)),
            ),
        ],
        "kept": [
            at_live,
            at_refreshable,
            rt_live,
            # Revoked yesterday: kept to detect its replay (reuse protection).
            refresh_token(app, user, revoked=ago(DAY)),
            id_bound,
            IDToken.objects.create(application=app, user=user, expires=ago(-DAY)),
            Grant.objects.create(code="new", expires=ago(-DAY), **grant_fields),
            # Expired an hour ago: still answers `expired_token` to a late poll.
            DeviceGrant.objects.create(
                device_code="recent", expires=ago(timedelta(hours=1)), **device_fields
            ),
            RedeemedCode.objects.create(
                code_checksum="2" * 64,
                application=app,
                access_token_checksum="b" * 64,
                expires=ago(-DAY),
            ),
        ],
    }


@pytest.mark.django_db
def test_expired_rows_go_and_live_ones_stay(rows):
    """Every expired kind goes; nothing still usable or still needed is touched."""
    output = run()

    assert [r for r in rows["gone"] if exists(r)] == []
    assert [r for r in rows["kept"] if not exists(r)] == []
    assert output.splitlines() == [
        "refresh tokens, revoked: 1 deleted",
        "refresh tokens, orphaned: 1 deleted",
        "refresh tokens, expired: 1 deleted",
        "access tokens: 2 deleted",
        "ID tokens: 1 deleted",
        "grants: 1 deleted",
        "device grants: 1 deleted",
        "redeemed codes: 1 deleted",
    ]


@pytest.mark.django_db
def test_refresh_token_survives_its_access_token_expiry(rows):
    """An expired access token bound to a live refresh token stays, so it refreshes."""
    run()

    live = RefreshToken.objects.get(pk=rows["kept"][2].pk)
    assert live.access_token_id == rows["kept"][1].pk
    assert live.access_token.is_expired()


@pytest.mark.django_db
def test_without_reuse_protection_revoked_refresh_tokens_go(
    rows, oauth2_settings_override
):
    """Without replay detection, revoked refresh tokens go after the grace period."""
    oauth2_settings_override(REFRESH_TOKEN_REUSE_PROTECTION=False)

    output = run()

    assert "refresh tokens, revoked: 2 deleted" in output.splitlines()
    assert not exists(rows["kept"][3])


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 2, 3, 7, 8, 100])
def test_batches_cover_every_row_once(web_app, user, batch_size):
    """Each batch deletes at most --batch-size rows, in its own statement, no COUNT."""
    expired, kept = [], []
    for n in range(10):
        if n % 4 == 1:  # live rows between expired ones, across batch boundaries
            kept.append(access_token(web_app, user, expires=ago(-DAY)))
        else:
            expired.append(access_token(web_app, user, expires=ago(DAY)))
    assert len(expired) == 7

    with CaptureQueriesContext(connection) as queries:
        output = run(f"--batch-size={batch_size}")

    assert "access tokens: 7 deleted" in output.splitlines()
    assert set(AccessToken.objects.values_list("pk", flat=True)) == {t.pk for t in kept}
    sql = [q["sql"] for q in queries.captured_queries]
    deletes = [
        s
        for s in sql
        if s.startswith("DELETE") and "oauth2_provider_accesstoken" in s.split()[2]
    ]
    assert len(deletes) == math.ceil(7 / batch_size)
    assert not any("COUNT(" in s.upper() for s in sql)


@pytest.mark.django_db
@pytest.mark.parametrize("args", [["--batch-size=0"], ["--pause=-1"], ["--jobs=0"]])
def test_bad_options_are_refused(args):
    with pytest.raises(CommandError):
        run(*args)


@pytest.mark.django_db
def test_same_tokens_go_as_with_dot(rows):
    """On DOT's own tables, the rows left are the ones DOT's clear_expired leaves."""
    from django.db import transaction
    from oauth2_provider.models import clear_expired

    def left() -> dict[str, set[int]]:
        return {
            model._meta.label: set(model.objects.values_list("pk", flat=True))
            for model in (AccessToken, RefreshToken, IDToken, Grant)
        }

    savepoint = transaction.savepoint()
    clear_expired()
    left_by_dot = left()
    transaction.savepoint_rollback(savepoint)

    run()

    assert left() == left_by_dot


@pytest.fixture
def mix(web_app, user):
    """Tokens of each kind DOT's rules tell apart, a few of each, interleaved by pk."""
    kinds = {
        "expired": ago(timedelta(hours=2)),  # no refresh token: goes
        "live": ago(-timedelta(hours=2)),  # stays
        "live_refreshable": ago(-timedelta(hours=2)),  # stays, refresh token too
        "expired_refreshable": ago(29 * DAY),  # refresh token still live: stays
        "dormant": ago(31 * DAY),  # refresh token idle past 30 days: both go
    }
    made: dict[str, list] = {kind: [] for kind in kinds}
    for _ in range(4):
        for kind, expires in kinds.items():
            token = access_token(web_app, user, expires=expires)
            refresh = None
            if kind.endswith("refreshable") or kind == "dormant":
                refresh = refresh_token(web_app, user, access_token=token)
            made[kind].append((token, refresh))
    made["revoked_old"] = [(None, refresh_token(web_app, user, revoked=ago(31 * DAY)))]
    made["revoked_recent"] = [(None, refresh_token(web_app, user, revoked=ago(DAY)))]
    return made


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 3, 10_000])
def test_cleartokens_removes_exactly_what_dot_says(mix, batch_size):
    """Expired access tokens go unless a live refresh token holds them; a refresh
    token idle past REFRESH_TOKEN_EXPIRE_SECONDS goes with its access token; a
    rotated one stays until then (reuse protection). The same rows as DOT's own
    clear_expired, in batches of any size."""
    from django.db import transaction
    from oauth2_provider.models import clear_expired

    def left() -> tuple[set[int], set[int]]:
        return (
            set(AccessToken.objects.values_list("pk", flat=True)),
            set(RefreshToken.objects.values_list("pk", flat=True)),
        )

    savepoint = transaction.savepoint()
    clear_expired()
    left_by_dot = left()
    transaction.savepoint_rollback(savepoint)

    run(f"--batch-size={batch_size}")

    staying = ("live", "live_refreshable", "expired_refreshable", "revoked_recent")
    assert (
        left()
        == left_by_dot
        == (
            {t.pk for kind in staying for t, _ in mix[kind] if t},
            {r.pk for kind in staying for _, r in mix[kind] if r},
        )
    )


@pytest.mark.django_db
def test_deleted_tokens_take_their_dependents_along(web_app, user):
    """Rows that point at a deleted token are handled as `on_delete` says: a
    personal token's record goes with it; an access token minted from a deleted
    refresh token stays, its `source_refresh_token` cleared. The personal tokens'
    and delegations' references have no database constraint (migration 0013), so
    nothing but this keeps them from pointing at nothing."""
    from oauth_server.models import PersonalAccessToken, TokenDelegation

    expired = access_token(web_app, user, expires=ago(DAY))
    PersonalAccessToken.objects.create(
        user=user, name="script", access_token=expired, hint="abc"
    )
    exchanged = access_token(web_app, user, expires=ago(DAY))
    TokenDelegation.objects.create(access_token=exchanged, actor=web_app)
    live = access_token(web_app, user, expires=ago(-DAY))
    TokenDelegation.objects.create(access_token=live, actor=web_app)
    rotated = refresh_token(web_app, user, revoked=ago(31 * DAY))
    successor = access_token(web_app, user, expires=ago(-DAY))
    AccessToken.objects.filter(pk=successor.pk).update(source_refresh_token=rotated)

    run()

    assert not PersonalAccessToken.objects.exists()
    assert list(TokenDelegation.objects.values_list("access_token", flat=True)) == [
        live.pk
    ]
    assert not exists(expired)
    assert not exists(rotated)
    successor.refresh_from_db()
    assert successor.source_refresh_token_id is None


@pytest.mark.django_db
def test_expired_tokens_go_without_a_cache_round_trip_each(web_app, user):
    """Expired access tokens are deleted by statement, not loaded and signalled one
    by one: `post_delete` would tombstone each in the bearer cache, four cache
    round trips a token, for tokens no cache entry is trusted for."""
    from django.db.models.signals import post_delete

    for _ in range(25):
        access_token(web_app, user, expires=ago(DAY))
    signalled = []

    def receiver(sender, instance, **kwargs):
        signalled.append(instance.pk)

    post_delete.connect(receiver, sender=AccessToken, dispatch_uid="test-cleartokens")
    try:
        with CaptureQueriesContext(connection) as queries:
            output = run()
    finally:
        post_delete.disconnect(sender=AccessToken, dispatch_uid="test-cleartokens")

    assert "access tokens: 25 deleted" in output.splitlines()
    assert signalled == []
    table = AccessToken._meta.db_table
    assert len([q for q in queries.captured_queries if table in q["sql"]]) < 10


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("batch_size", [1, 3, 10_000])
def test_batches_side_by_side_remove_exactly_the_same_rows(mix, batch_size):
    """With --jobs=2, on PostgreSQL, other connections delete the batches this one
    picks (committed rows, so outside a transaction): the same rows go. SQLite
    deletes them itself, one batch at a time."""
    with CaptureQueriesContext(connection) as queries:
        output = run(f"--batch-size={batch_size}", "--jobs=2")

    staying = ("live", "live_refreshable", "expired_refreshable", "revoked_recent")
    assert set(AccessToken.objects.values_list("pk", flat=True)) == {
        t.pk for kind in staying for t, _ in mix[kind] if t
    }
    assert set(RefreshToken.objects.values_list("pk", flat=True)) == {
        r.pk for kind in staying for _, r in mix[kind] if r
    }
    assert "access tokens: 8 deleted" in output.splitlines()
    deleted_here = [
        q for q in queries.captured_queries if q["sql"].startswith("DELETE")
    ]
    assert bool(deleted_here) == (connection.vendor != "postgresql")


@pytest.mark.django_db(transaction=True)
def test_a_failed_batch_fails_the_command(web_app, user, monkeypatch):
    """A batch that fails on a worker's connection is raised, not lost in a thread,
    and no batch is started after it."""
    from django.db import DatabaseError

    from oauth_server import cleanup

    for _ in range(6):
        access_token(web_app, user, expires=ago(DAY))
    real, calls = cleanup.batch_delete, []

    def failing(**kwargs) -> int:
        calls.append(kwargs)
        if len(calls) == 2:
            raise DatabaseError("connection lost")
        return real(**kwargs)

    monkeypatch.setattr(cleanup, "batch_delete", failing)
    with pytest.raises(DatabaseError, match="connection lost"):
        run("--batch-size=1", "--jobs=2")

    assert len(calls) < 6
    # Each batch that went through deleted its one token; the failed one none.
    assert AccessToken.objects.count() == 6 - (len(calls) - 1)


@pytest.mark.django_db
def test_a_revoked_token_takes_its_records_along(web_app, user):
    """Deleting a token through the ORM (revocation) still deletes the rows whose
    reference has no database constraint: Django's CASCADE does it."""
    from oauth_server.models import PersonalAccessToken, TokenDelegation

    personal = access_token(web_app, user, expires=ago(-DAY))
    PersonalAccessToken.objects.create(
        user=user, name="script", access_token=personal, hint="abc"
    )
    exchanged = access_token(web_app, user, expires=ago(-DAY))
    TokenDelegation.objects.create(access_token=exchanged, actor=web_app)

    personal.revoke()
    exchanged.delete()

    assert not PersonalAccessToken.objects.exists()
    assert not TokenDelegation.objects.exists()
