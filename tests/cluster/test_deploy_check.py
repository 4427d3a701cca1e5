"""`manage.py check --deploy` with the settings the cluster's app servers run with."""

import re

import pytest

pytestmark = pytest.mark.cluster
# HSTS preload stays an opt-in (SECURE_HSTS_PRELOAD): a preload listing is hard to
# undo, so a deployment decides it for its own domain.
ALLOWED_WARNINGS = {"security.W021"}


def test_deploy_check_passes_with_cluster_settings(cluster, figures):
    """No deployment warning but the HSTS preload opt-in."""
    result = cluster.manage(
        "check", "--deploy", "--fail-level", "ERROR", capture=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    found = set(
        re.findall(r"\(([a-z_0-9]+\.[A-Z]\d+)\)", result.stdout + result.stderr)
    )
    figures.record("check --deploy warnings", sorted(found))
    assert found <= ALLOWED_WARNINGS, result.stdout + result.stderr
