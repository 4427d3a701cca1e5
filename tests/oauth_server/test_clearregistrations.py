"""`clearregistrations`: self-registered clients never used go after N days."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from oauth_server import audit
from oauth_server.models import Application, AuditEvent, RegistrationPolicy
from oauth_server.registration import registration_token_issue
from tests.factories import AccessTokenFactory, ApplicationFactory

pytestmark = pytest.mark.django_db


def registered(*, days_old: int, source: str = "dcr", **kwargs) -> Application:
    app = ApplicationFactory(
        client_type="public",
        redirect_uris="https://agent.example/callback",
        post_logout_redirect_uris="",
        registration_source=source,
        **kwargs,
    )
    registration_token_issue(application=app)  # not a use of the client
    Application.objects.filter(pk=app.pk).update(
        created=timezone.now() - timedelta(days=days_old)
    )
    return app


def clear(*args: str) -> str:
    out = StringIO()
    call_command("clearregistrations", *args, stdout=out)
    return out.getvalue()


def test_unused_old_registrations_are_deleted_and_audited():
    old = registered(days_old=8)

    assert "1 deleted" in clear()

    assert not Application.objects.filter(pk=old.pk).exists()
    event = AuditEvent.objects.get(event="application.deleted")
    assert event.client_id == old.client_id
    assert event.details == {"via": "dcr", "reason": "unused"}


def test_recent_used_and_admin_registrations_stay():
    recent = registered(days_old=2)
    with_token = registered(days_old=30)
    AccessTokenFactory(application=with_token, scope="books:read")
    used_once = registered(days_old=30)  # its tokens expired and were cleared
    audit.record(audit.Event.TOKEN_ISSUED, application=used_once)
    by_admin = ApplicationFactory()
    Application.objects.filter(pk=by_admin.pk).update(
        created=timezone.now() - timedelta(days=30)
    )

    assert "0 deleted" in clear()

    assert set(Application.objects.values_list("pk", flat=True)) == {
        recent.pk,
        with_token.pk,
        used_once.pk,
        by_admin.pk,
    }


def test_cimd_registrations_are_cleared_too():
    app = registered(
        days_old=8,
        source="cimd",
        client_id="https://agent.example/client.json",
    )
    clear()
    assert not Application.objects.filter(pk=app.pk).exists()


def test_the_policy_sets_the_age():
    app = registered(days_old=3)
    RegistrationPolicy.objects.update_or_create(pk=1, defaults={"unused_days": 2})

    clear()

    assert not Application.objects.filter(pk=app.pk).exists()


def test_days_option_overrides_the_policy():
    app = registered(days_old=3)
    clear("--days", "5")
    assert Application.objects.filter(pk=app.pk).exists()
    clear("--days", "1")
    assert not Application.objects.filter(pk=app.pk).exists()
