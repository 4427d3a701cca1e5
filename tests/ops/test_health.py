"""/healthz and /readyz: cheap, unauthenticated, never cached, never redirected."""

import pytest
from django.db import DatabaseError
from django.test import Client

from ops import health


@pytest.fixture
def plain_http() -> Client:
    """A probe: plain http, by address, no cookies, no proxy headers."""
    return Client(HTTP_HOST="10.1.2.3:8101")


@pytest.fixture(autouse=True)
def _fresh_migration_memo(monkeypatch):
    monkeypatch.setattr(health, "_migrations_applied", False)


def test_healthz_does_no_io(db, plain_http, django_assert_num_queries):
    """Liveness answers without a query, a session or a cookie."""
    with django_assert_num_queries(0):
        response = plain_http.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]
    assert not response.cookies


@pytest.mark.django_db
def test_readyz_reports_each_check(plain_http):
    """With the database, cache and migrations in order, every check is ok."""
    response = plain_http.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "migrations": "ok"},
    }
    assert "no-store" in response["Cache-Control"]
    assert not response.cookies


@pytest.mark.django_db
def test_readyz_checks_migrations_once_per_process(
    plain_http, django_assert_num_queries
):
    """After one successful migration check, a probe costs one query."""
    plain_http.get("/readyz")

    with django_assert_num_queries(1):  # SELECT 1
        response = plain_http.get("/readyz")

    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("failing", "checks"),
    [
        ("database", {"database": "failed", "cache": "ok", "migrations": "skipped"}),
        ("cache", {"database": "ok", "cache": "failed", "migrations": "ok"}),
        ("migrations", {"database": "ok", "cache": "ok", "migrations": "failed"}),
    ],
)
def test_readyz_names_the_failing_check(plain_http, monkeypatch, failing, checks):
    """A failing dependency turns /readyz into a 503 that names it."""

    def broken() -> None:
        raise DatabaseError("connection refused")

    monkeypatch.setitem(health.READINESS_CHECKS, failing, broken)

    response = plain_http.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": checks}


@pytest.mark.django_db
def test_readyz_fails_with_unapplied_migrations(plain_http, monkeypatch):
    """A pending migration keeps the instance out of rotation, and is not memoised."""
    monkeypatch.setattr(
        health.MigrationExecutor, "migration_plan", lambda self, targets: ["0099"]
    )

    response = plain_http.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == "failed"
    assert health._migrations_applied is False


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
@pytest.mark.django_db
def test_probes_over_http_are_not_redirected(settings, plain_http, path):
    """With SECURE_SSL_REDIRECT on, a plain-http probe is answered, not redirected."""
    settings.SECURE_SSL_REDIRECT = True

    response = plain_http.get(path)

    assert response.status_code == 200
    assert Client().get("/").status_code == 301  # the rest of the site redirects
    assert plain_http.get("/").status_code == 400  # and checks the Host header


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_accept_only_get_and_head(plain_http, path):
    """Other methods get 405 with Allow."""
    response = plain_http.post(path)

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


@pytest.mark.django_db
def test_probes_are_not_throttled(settings, plain_http):
    """No throttle counts the probes, however often they come."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            key: "1/hour" for key in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        },
    }

    statuses = {plain_http.get("/readyz").status_code for _ in range(5)}

    assert statuses == {200}


@pytest.mark.parametrize(
    "backend",
    [
        "django_redis.cache.RedisCache",
        "ops.cache.TolerantRedisCache",  # never raises; the probe reads its outage
    ],
)
@pytest.mark.django_db
def test_readyz_fails_when_redis_is_unreachable(plain_http, backend):
    """A real Redis client that cannot connect makes the cache check fail, fast."""
    from django.test import override_settings

    unreachable = {
        "default": {
            "BACKEND": backend,
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        }
    }
    with override_settings(CACHES=unreachable):
        response = plain_http.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok",
        "cache": "failed",
        "migrations": "ok",
    }
