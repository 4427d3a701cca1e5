"""`make run`'s launcher: taken ports said in one line, all servers stopped together."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from config import launcher
from tests.e2e.clients.conftest import REPO, free_port

STARTUP_SECONDS = 60


def accepts(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def discovery_server():
    """Something that answers like an authorization server, on a free port."""

    class Discovery(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"issuer": "http://127.0.0.1:9"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Discovery)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def run_launcher(*args: str, via_shell: bool = False) -> subprocess.Popen:
    command = [sys.executable, "-m", "config.launcher", *args]
    if via_shell:  # a parent that is not the launcher's own caller, like `make`
        command = ["sh", "-c", " ".join(command) + "; true"]
    env = {
        **os.environ,
        "DEBUG": "true",
        "CLIENT_SECRET": "launcher-test",
        "MCP_CLIENT_SECRET": "launcher-test",
    }
    return subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def test_taken_port_is_one_line_naming_what_holds_it(discovery_server):
    client_port = free_port()

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "config.launcher",
            "--check",
            f"--server-port={discovery_server}",
            f"--client-port={client_port}",
            f"--mcp-port={free_port()}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"Port {discovery_server} is taken by an authorization")
    assert "issuer http://127.0.0.1:9" in lines[0]
    assert f"pid {os.getpid()})" in lines[0]  # this process holds the port


def test_free_ports_pass_the_check():
    ports = [free_port(), free_port(), free_port()]

    assert launcher.taken(ports) == []
    assert (
        launcher.main(
            [
                "--check",
                f"--server-port={ports[0]}",
                f"--client-port={ports[1]}",
                f"--mcp-port={ports[2]}",
            ]
        )
        == 0
    )


@pytest.mark.parametrize("stop", ["sigterm", "sigint", "parent dies"])
def test_all_servers_stop_together(stop):
    ports = [free_port(), free_port(), free_port()]
    args = (
        f"--server-port={ports[0]}",
        f"--client-port={ports[1]}",
        f"--mcp-port={ports[2]}",
    )
    process = run_launcher(*args, via_shell=stop == "parent dies")
    try:
        assert wait_until(
            lambda: all(accepts(port) for port in ports), STARTUP_SECONDS
        ), process.stderr.read1().decode(errors="replace") if process.poll() else ""
        metadata = (
            f"http://127.0.0.1:{ports[2]}/.well-known/oauth-protected-resource/mcp"
        )
        assert json.loads(launcher.fetch(metadata))["scopes_supported"] == [
            "books:read",
            "books:write",
        ]

        if stop == "parent dies":
            process.kill()  # the shell; the launcher is its child
        else:
            process.send_signal(
                {"sigterm": signal.SIGTERM, "sigint": signal.SIGINT}[stop]
            )

        assert wait_until(lambda: not any(accepts(port) for port in ports), 15)
    finally:
        process.kill()
        process.wait()
