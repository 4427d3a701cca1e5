"""`clearaudit`: audit events older than the retention period go, newer ones stay."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from oauth_server import audit
from oauth_server.models import AuditEvent

Event = AuditEvent.Event


def event_aged(days: float) -> AuditEvent:
    entry = audit.record(Event.SIGN_IN_FAILED, username="mallory")
    entry.created = timezone.now() - timedelta(days=days)
    entry.save(update_fields=["created"])
    return entry


def clearaudit(*args: str) -> str:
    out = StringIO()
    call_command("clearaudit", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_events_past_retention_are_deleted_newer_kept(settings):
    settings.OAUTH_SERVER = {**settings.OAUTH_SERVER, "audit_retention_days": 30}
    old = [event_aged(31), event_aged(400)]
    kept = [event_aged(29), event_aged(0)]

    output = clearaudit("--batch-size", "1")

    assert "2 deleted" in output
    remaining = set(AuditEvent.objects.values_list("pk", flat=True))
    assert remaining == {entry.pk for entry in kept}
    assert not remaining & {entry.pk for entry in old}


@pytest.mark.django_db
def test_days_option_overrides_the_setting():
    event_aged(10)
    event_aged(2)

    assert "1 deleted" in clearaudit("--days", "5")
    assert AuditEvent.objects.count() == 1


@pytest.mark.django_db
def test_zero_days_keeps_everything():
    event_aged(5000)

    assert "retention is off" in clearaudit("--days", "0")
    assert AuditEvent.objects.count() == 1


@pytest.mark.django_db
def test_batches_are_counted_one_by_one():
    for days in (40, 41, 42):
        event_aged(days)

    counts = list(
        audit.events_prune(before=timezone.now() - timedelta(days=30), batch_size=2)
    )

    assert counts == [2, 1]


@pytest.mark.parametrize(
    "args", [["--days", "-1"], ["--batch-size", "0"], ["--pause", "-1"]]
)
@pytest.mark.django_db
def test_bad_options_are_refused(args):
    with pytest.raises(CommandError):
        clearaudit(*args)
