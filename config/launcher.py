"""`make run`: the server, the sample client and the MCP server, stopped together.

`python -m config.launcher --check` says, in one line per taken port, what already
listens there (an earlier `make run`, say) and exits 1, before `make run` loads the
demo data and prints its secrets again. Without `--check` it starts the three
development servers, each in a process group of its own (runserver's autoreloader
runs the real server as a child), and stops all groups on Ctrl-C, on SIGTERM (an
IDE's stop button), when any server exits, or when the process that started it goes
away (`make` does not pass SIGTERM on to its recipes). The MCP server (uvicorn)
takes its settings from the environment (`config/mcp.py`); `--mcp-port` only says
where it listens, so keep `MCP_SERVER_URL` in step when changing it.
"""

import argparse
import contextlib
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

HOST = "127.0.0.1"
SERVER_PORT = 8000
CLIENT_PORT = 8001
MCP_PORT = 8002
PR_SET_PDEATHSIG = 1  # linux/prctl.h
GRACE_SECONDS = 5


def is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def fetch(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310  loopback
            return response.read()
    except (OSError, ValueError):
        return None


def what_listens(port: int) -> str:
    """A few words on what answers on `port`: one of ours, or another program."""
    origin = f"http://{HOST}:{port}"
    discovery = fetch(f"{origin}/.well-known/openid-configuration")
    try:
        issuer = json.loads(discovery or b"")["issuer"]
    except (ValueError, KeyError, TypeError):
        issuer = None
    if issuer:
        return (
            f"an authorization server (issuer {issuer}), likely an earlier `make run`"
        )
    if b"Marginalia" in (fetch(f"{origin}/") or b""):
        return "the sample client Marginalia, likely an earlier `make run`"
    resource = fetch(f"{origin}/.well-known/oauth-protected-resource/mcp")
    if resource and b'"resource"' in resource:
        return "the catalogue MCP server, likely an earlier `make run`"
    return "another program"


def listening_process(port: int) -> str:
    """` (python, pid 123)` from `ss`, or nothing when it cannot tell."""
    if not shutil.which("ss"):
        return ""
    listing = subprocess.run(  # noqa: S603  fixed arguments
        [shutil.which("ss"), "-Hltnp", f"sport = :{port}"],
        capture_output=True,
        text=True,
    ).stdout
    found = re.search(r'\("([^"]+)",pid=(\d+)', listing)
    return f" ({found[1]}, pid {found[2]})" if found else ""


def taken(ports: list[int]) -> list[str]:
    return [
        f"Port {port} is taken by {what_listens(port)}{listening_process(port)}: "
        "stop it, then run `make run` again."
        for port in ports
        if not is_free(port)
    ]


def die_with_parent() -> None:
    """Receive SIGTERM when the parent (`make`) dies, on Linux."""
    # Elsewhere the parent check in `supervise` still notices, within 0.2 s.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *args], start_new_session=True)  # noqa: S603


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def supervise(server_port: int, client_port: int, mcp_port: int) -> int:
    parent = os.getppid()
    die_with_parent()
    stopping = []
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda signum, frame: stopping.append(signum))
    processes = [
        start(["manage.py", "runserver", f"{HOST}:{server_port}"]),
        start(
            ["-m", "clients.web", "runserver", f"{HOST}:{client_port}", "--noreload"]
        ),
        start(["-m", "mcp_server", f"--host={HOST}", f"--port={mcp_port}"]),
    ]
    try:
        while not stopping and os.getppid() == parent:
            if any(process.poll() is not None for process in processes):
                break
            time.sleep(0.2)
    finally:
        stop(processes)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m config.launcher")
    parser.add_argument("--check", action="store_true", help="only check the ports")
    parser.add_argument("--server-port", type=int, default=SERVER_PORT)
    parser.add_argument("--client-port", type=int, default=CLIENT_PORT)
    parser.add_argument("--mcp-port", type=int, default=MCP_PORT)
    options = parser.parse_args(argv)
    ports = [options.server_port, options.client_port, options.mcp_port]
    if problems := taken(ports):
        sys.stderr.write("\n".join(problems) + "\n")
        return 1
    if options.check:
        return 0
    return supervise(*ports)


if __name__ == "__main__":
    sys.exit(main())
