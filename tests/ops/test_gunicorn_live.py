"""The production server for real: gunicorn, DEBUG off, on a loopback port."""

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.plugin_env import production_environ

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
# As the TLS proxy would send it (TRUSTED_PROXY_COUNT=1).
GUNICORN = [sys.executable, "-m", "gunicorn"]
TIMEOUT = 30  # seconds per request: generous for a busy CI machine
VIA_PROXY = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.5"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """`make serve`'s two steps on a migrated SQLite database; (base URL, log file)."""
    var = tmp_path_factory.mktemp("gunicorn")
    port = free_port()
    dev_only = ("DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL", "REDIS_URL")
    env = {
        **{k: v for k, v in os.environ.items() if k not in dev_only},
        **production_environ(),
        "OAUTH_ISSUER": "https://localhost",
        "VAR_DIR": str(var),
        "STATIC_ROOT": str(var / "static"),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
    }
    env.pop("LOG_FORMAT", None)  # the production default: json

    def manage(*args: str) -> None:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=False,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode:
            pytest.fail(f"manage.py {' '.join(args)}:\n{result.stderr}")

    manage("migrate", "--noinput")
    manage("collectstatic", "--noinput", "--verbosity", "0")
    log = var / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [*GUNICORN, "--config", "config/gunicorn.py", "config.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a busy CI machine
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:  # not listening, or no worker yet
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield base, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def log_lines(log: Path) -> list[dict]:
    """The server's log so far, every line of which must be JSON."""
    return [json.loads(line) for line in log.read_text().splitlines() if line]


def test_health_endpoints_over_plain_http(server):
    """Probes get answers over plain http, by address, with no proxy headers."""
    base, _ = server

    health = requests.get(f"{base}/healthz", timeout=TIMEOUT)
    ready = requests.get(f"{base}/readyz", timeout=TIMEOUT)

    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert ready.status_code == 200
    assert ready.json()["checks"] == {
        "database": "ok",
        "cache": "ok",
        "migrations": "ok",
    }
    assert "no-store" in ready.headers["Cache-Control"]


def test_whitenoise_serves_the_api_docs_assets(server):
    """The Swagger UI page and the sidecar assets it names come from this process."""
    base, _ = server

    page = requests.get(f"{base}/api/docs/", headers=VIA_PROXY, timeout=TIMEOUT)
    scripts = re.findall(r'src="(/static/[^"]+\.js)"', page.text)
    asset = requests.get(
        base + scripts[0],
        headers={**VIA_PROXY, "Accept-Encoding": "gzip"},
        timeout=TIMEOUT,
    )

    assert page.status_code == 200
    assert "script-src 'self' 'nonce-" in page.headers["Content-Security-Policy"]
    assert any("drf_spectacular_sidecar/swagger-ui-dist/" in s for s in scripts)
    assert asset.status_code == 200
    assert asset.headers["Content-Type"].startswith("text/javascript")
    assert asset.headers["Content-Encoding"] == "gzip"  # WhiteNoise's .gz file


def test_each_request_logs_one_json_line(server):
    """The request line is JSON and carries the id sent back in X-Request-ID."""
    base, log = server

    response = requests.get(
        f"{base}/?code=SplxlOBeZQQYbYS6WxSbIA", headers=VIA_PROXY, timeout=TIMEOUT
    )
    request_id = response.headers["X-Request-ID"]
    time.sleep(0.2)  # the worker writes the line after the response

    lines = [line for line in log_lines(log) if line.get("request_id") == request_id]
    assert response.status_code == 200
    assert lines == [
        {
            "time": lines[0]["time"],
            "level": "INFO",
            "logger": "ops.requests",
            "message": "GET / 200",
            "request_id": request_id,
            "method": "GET",
            "path": "/",
            "status": 200,
            "duration_ms": lines[0]["duration_ms"],
            "client_address": "203.0.113.5",
        }
    ]
    assert "SplxlOBeZQQYbYS6WxSbIA" not in log.read_text()


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_gunicorn_error_log_is_redacted(monkeypatch, capsys, log_format):
    """gunicorn's own lines (with request URIs) pass the same redaction filter."""
    import logging.config
    import runpy

    monkeypatch.setenv("LOG_FORMAT", log_format)
    config = runpy.run_path(str(ROOT / "config" / "gunicorn.py"))
    logging.config.dictConfig(config["logconfig_dict"])

    logging.getLogger("gunicorn.error").error(
        "Error handling request %s", "/o/authorize/?code=SplxlOBeZQQYbYS6WxSbIA"
    )

    err = capsys.readouterr().err
    assert "/o/authorize/?code=[redacted]" in err
    assert "SplxlOBeZQQYbYS6WxSbIA" not in err
    assert err.startswith("{") is (log_format == "json")


def test_redoc_page_and_its_bundle(server):
    """ReDoc's page and the bundle it loads answer under production settings."""
    base, _ = server

    page = requests.get(f"{base}/api/redoc/", headers=VIA_PROXY, timeout=TIMEOUT)
    bundle = requests.get(
        f"{base}/api/redoc/redoc.standalone.js", headers=VIA_PROXY, timeout=TIMEOUT
    )

    assert page.status_code == 200
    assert "/api/redoc/redoc.standalone.js" in page.text
    assert bundle.status_code == 200
    assert "cdn.redoc.ly" not in bundle.text
