"""The benchmark's scale run, at a small scale: its arithmetic, its table, and on
PostgreSQL the bulk seed, the plans and the clean-up it times (`make bench`)."""

import pytest
from django.core.management import call_command
from django.db import connection

from bench import run, scale
from bench.seed import main as seed


def row(scenario: str, clients: int, stored: int, rps: float) -> dict:
    return {
        "backend": "postgres",
        "scenario": scenario,
        "clients": clients,
        "stored_tokens": stored,
        "rps": rps,
        "p50_ms": 1.0,
        "p99_ms": 2.0,
        "errors": 0,
        "queries_per_request": 3.0,
    }


def test_ratios_are_compared_with_the_same_clients_at_1000_tokens():
    """Each figure is divided by the floor of its own size and clients, then by the
    same ratio at 1,000 tokens."""
    rows = [
        row("floor", 1, 1000, 500.0),
        row("token", 1, 1000, 150.0),  # 0.30
        row("floor", 16, 1000, 1000.0),
        row("token", 16, 1000, 300.0),  # 0.30
        row("floor", 1, 2000, 400.0),
        row("token", 1, 2000, 108.0),  # 0.27: 0.9 of the base
        row("floor", 16, 2000, 1000.0),
        row("token", 16, 2000, 330.0),  # 0.33: 1.1 of the base
    ]

    run.add_ratios(rows)
    run.scale_compare(rows, 2000)

    versus = {(r["scenario"], r["clients"], r["stored_tokens"]): r for r in rows}
    assert versus["token", 1, 2000]["ratio_vs_base"] == pytest.approx(0.9)
    assert versus["token", 16, 2000]["ratio_vs_base"] == pytest.approx(1.1)
    assert versus["floor", 1, 2000]["ratio_vs_base"] == pytest.approx(1.0)
    assert versus["token", 1, 1000]["ratio_vs_base"] is None


def test_a_floor_measured_beside_a_scenario_is_its_denominator():
    """The floor driven just before a scenario divides it, not the table's floor
    row measured minutes earlier, when the machine may have been faster."""
    rows = [
        row("floor", 1, 1000, 800.0),
        {**row("token", 1, 1000, 150.0), "floor_beside_rps": 500.0},
        row("list", 1, 1000, 200.0),  # no floor beside it: the table's
    ]

    run.add_ratios(rows)

    ratios = {r["scenario"]: r["ratio_to_floor"] for r in rows}
    assert ratios == {
        "floor": pytest.approx(1.0),
        "token": pytest.approx(0.3),
        "list": pytest.approx(0.25),
    }


def test_the_table_says_whether_cleartokens_removed_what_it_must():
    rows = [row("floor", 1, 1000, 500.0), row("floor", 1, 2000, 400.0)]
    run.add_ratios(rows)
    run.scale_compare(rows, 2000)
    result = {
        "stored_tokens": 2000,
        "seed_seconds": 0.5,
        "rows": rows,
        "cleartokens": {
            "seconds": 0.2,
            "removed": {"access_tokens": 10, "refresh_tokens": 2},
            "expected": {"access_tokens": 11, "refresh_tokens": 2},
            "as_expected": False,
            "plans": [
                {
                    "sweep": "access tokens",
                    "indexes": ["pkey"],
                    "full_scans": {"grants": 0},
                }
            ],
        },
    }

    lines = run.scale_table(result).splitlines()

    assert len(lines) == 1 + 2 + 2
    assert "cleartokens 0.2 s, removed 10 access and 2 refresh tokens" in lines[3]
    assert "NOT as expected" in lines[3]
    assert lines[4] == "  access tokens: indexes pkey; full scans grants (~0 rows)"


def test_the_mix_covers_every_added_token():
    """The shares add up, so `grow` reaches the total it is asked for."""
    assert sum(scale.MIX.values()) == pytest.approx(1.0)


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="bench.scale seeds with PostgreSQL's SQL: make test-postgres runs this",
)


@postgres_only
@pytest.mark.django_db
def test_grow_then_cleartokens_removes_exactly_the_expired_mix():
    """2,000 tokens in the scale run's mix: `cleartokens` removes the expired access
    tokens without a live refresh token, the dormant pairs and the refresh tokens
    rotated over 30 days ago, and nothing else; no batch reads a whole token table."""
    seed(0)
    grown = scale.grow(2000)

    assert scale.counts()["access_tokens"] == 2000
    before = scale.counts()
    plans = scale.explain()
    call_command("cleartokens", "--batch-size=300", verbosity=0)
    after = scale.counts()

    assert (
        before["access_tokens"] - after["access_tokens"] == (grown["to_delete_access"])
    )
    assert (
        before["refresh_tokens"] - after["refresh_tokens"]
        == (grown["to_delete_refresh"])
    )
    by_sweep = {plan["sweep"]: plan for plan in plans}
    assert by_sweep["access tokens"]["full_scans"] == {}
    assert by_sweep["access tokens"]["indexes"]
