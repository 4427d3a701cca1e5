"""`make cluster`: nginx with TLS in front of two gunicorn app servers on loopback.

    python -m deploy.cluster                 # start everything; Ctrl-C stops it
    python -m deploy.cluster manage ARGS...  # manage.py against the cluster

Both app servers share one PostgreSQL database and one Redis database. Everything
the cluster writes (CA and certificates, keys, nginx.conf, logs, pid files) lives
in `var/cluster/`. Tests (tests/cluster/) drive the same `Cluster` class.
"""

import contextlib
import ctypes
import os
import pwd
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import requests
from psycopg import sql

from deploy import nginx, tls
from oauth_server import keys

REPO_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
NGINX = "/usr/sbin/nginx"

DIRECTORY = REPO_DIR / "var" / "cluster"
# Written by collectstatic, read by nginx (`location /static/`).
STATIC_ROOT = REPO_DIR / "staticfiles"
PROXY_PORT = 8443
APP_PORTS = (8101, 8102)
DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bookshelf_cluster"
REDIS_URL = "redis://127.0.0.1:6379/2"
# What "ready" means for an app server and for the proxy: one URL, asked over both.
# The discovery document needs the settings, the URLconf and the OIDC key loaded.
READINESS_PATH = "/readyz"
START_TIMEOUT = 90.0
STOP_TIMEOUT = 15.0


class ClusterError(RuntimeError):
    """The cluster could not start (a port in use, a process that died, a timeout)."""


@dataclass(frozen=True)
class ClusterConfig:
    """Where the cluster listens and which services it uses."""

    directory: Path = DIRECTORY
    proxy_port: int = PROXY_PORT
    app_ports: tuple[int, ...] = APP_PORTS
    database_url: str = DATABASE_URL
    redis_url: str = REDIS_URL
    workers: int = 2
    # More settings for the app servers (rates, lifetimes); the cluster's own
    # production settings win over them.
    environment: Mapping[str, str] = field(default_factory=dict)

    @property
    def issuer(self) -> str:
        """The proxy's https origin: the issuer every app server announces."""
        return f"https://localhost:{self.proxy_port}"

    @property
    def ca_certificate(self) -> Path:
        return self.directory / "ca.crt"

    @property
    def database_name(self) -> str:
        return urlsplit(self.database_url).path.lstrip("/")

    def app_url(self, port: int) -> str:
        return f"http://127.0.0.1:{port}"


def config_from_environment(environ: Mapping[str, str]) -> ClusterConfig:
    """The fixed interface, with DATABASE_URL and REDIS_URL overridable."""
    return ClusterConfig(
        database_url=environ.get("DATABASE_URL") or DATABASE_URL,
        redis_url=environ.get("REDIS_URL") or REDIS_URL,
    )


def _die_with_parent() -> None:
    """In the child: SIGTERM when the launcher dies, even by SIGKILL (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PDEATHSIG


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _database_admin_url(database_url: str) -> str:
    """The same server and role, on the `postgres` maintenance database."""
    return urlunsplit(urlsplit(database_url)._replace(path="/postgres"))


def database_create(database_url: str) -> bool:
    """Create the database of `database_url` unless it exists; True if created."""
    name = urlsplit(database_url).path.lstrip("/")
    with psycopg.connect(_database_admin_url(database_url), autocommit=True) as conn:
        if conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def database_drop(database_url: str) -> None:
    """Drop the database of `database_url`, closing its connections first."""
    name = urlsplit(database_url).path.lstrip("/")
    with psycopg.connect(_database_admin_url(database_url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )


class Cluster:
    """The processes of one cluster: prepare once, start, stop (also as a context)."""

    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        self.apps: dict[int, subprocess.Popen] = {}
        self.proxy: subprocess.Popen | None = None
        self.logs = config.directory / "logs"

    # --- files and database ---------------------------------------------------------

    def _secret_key(self) -> str:
        path = self.config.directory / "secret_key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(50))
            path.chmod(0o600)
        return path.read_text().strip()

    def environment(self) -> dict[str, str]:
        """The environment of the app servers and of `manage`: production settings."""
        config = self.config
        inherited = {
            name: value
            for name, value in os.environ.items()
            # Test-run switches (Playwright's event loop needs this one) have no
            # place in a deployment; `check --deploy` refuses it.
            if name != "DJANGO_ALLOW_ASYNC_UNSAFE"
        }
        return {
            **inherited,
            **config.environment,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "false",
            "SECRET_KEY": self._secret_key(),
            "ALLOWED_HOSTS": "localhost,127.0.0.1",
            "OAUTH_ISSUER": config.issuer,
            "DATABASE_URL": config.database_url,
            "REDIS_URL": config.redis_url,
            "TRUSTED_PROXY_COUNT": "1",
            "OIDC_KEY_DIR": str(config.directory / "oidc"),
            # Connections kept between requests; CONN_HEALTH_CHECKS tests them.
            "CONN_MAX_AGE": config.environment.get("CONN_MAX_AGE", "60"),
            "VAR_DIR": str(config.directory / "var"),
            "STATIC_ROOT": str(STATIC_ROOT),
            "PYTHONUNBUFFERED": "1",
        }

    def prepare(self) -> None:
        """Certificates, keys, nginx.conf, the database and its schema, static files."""
        config = self.config
        for directory in (config.directory, self.logs, config.directory / "var"):
            directory.mkdir(parents=True, exist_ok=True)
        _, certificate, certificate_key = tls.ensure_certificates(config.directory)
        keys.load_key_dir(config.directory / "oidc", create=True)
        temp = config.directory / "nginx-temp"
        temp.mkdir(exist_ok=True)
        user = None
        if os.geteuid() == 0:  # nginx's workers drop root: give them their files
            user = "www-data"
            entry = pwd.getpwnam(user)
            os.chown(temp, entry.pw_uid, entry.pw_gid)
        (config.directory / "nginx.conf").write_text(
            nginx.render(
                directory=config.directory,
                proxy_port=config.proxy_port,
                app_ports=config.app_ports,
                certificate=certificate,
                certificate_key=certificate_key,
                static_root=STATIC_ROOT,
                user=user,
            )
        )
        if urlsplit(config.database_url).scheme not in ("postgres", "postgresql"):
            raise ClusterError(
                "the cluster needs PostgreSQL: DATABASE_URL=postgres://…"
            )
        try:
            database_create(config.database_url)
        except psycopg.OperationalError as error:
            raise ClusterError(f"PostgreSQL is not reachable: {error}") from error
        self.manage("migrate", "--noinput", "--verbosity", "0")
        self.manage("collectstatic", "--noinput", "--verbosity", "0")

    def manage(
        self, *args: str, capture: bool = False, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run `manage.py` with the cluster's settings; raise if it fails (`check`)."""
        return subprocess.run(
            [PYTHON, str(REPO_DIR / "manage.py"), *args],
            env=self.environment(),
            cwd=REPO_DIR,
            check=check,
            text=True,
            capture_output=capture,
        )

    # --- processes -----------------------------------------------------------------

    def _spawn(self, command: Sequence[str], log_name: str) -> subprocess.Popen:
        log = open(self.logs / log_name, "ab")  # noqa: SIM115 (the child keeps it)
        try:
            return subprocess.Popen(
                command,
                env=self.environment(),
                cwd=REPO_DIR,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: Ctrl-C reaches us, not it
                preexec_fn=_die_with_parent,
            )
        finally:
            log.close()

    def start_app(self, port: int) -> None:
        """Start (or restart) the gunicorn app server on `port`."""
        if port_in_use(port):
            raise ClusterError(f"port {port} is in use; is a cluster already running?")
        self.apps[port] = self._spawn(
            [
                PYTHON,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(self.config.workers),
                # gunicorn's control socket is one path per user: two instances on
                # one host would take it from each other.
                "--no-control-socket",
                "--graceful-timeout",
                "10",
            ],
            f"app-{port}.log",
        )

    def start_proxy(self) -> None:
        if port_in_use(self.config.proxy_port):
            raise ClusterError(f"port {self.config.proxy_port} is in use")
        conf = str(self.config.directory / "nginx.conf")
        check = subprocess.run(
            [NGINX, "-t", "-q", "-c", conf, "-e", str(self.logs / "nginx-error.log")],
            capture_output=True,
            text=True,
        )
        if check.returncode:
            raise ClusterError(f"nginx refused {conf}: {check.stderr.strip()}")
        self.proxy = self._spawn(
            [NGINX, "-c", conf, "-e", str(self.logs / "nginx-error.log")], "nginx.log"
        )

    def start(self) -> None:
        """Start both app servers and the proxy, and wait until all answer."""
        try:
            for port in self.config.app_ports:
                self.start_app(port)
            self.start_proxy()
            for port in self.config.app_ports:
                self.wait_app(port)
            self.wait_proxy()
        except BaseException:
            self.stop()
            raise

    def _wait(self, url: str, process: subprocess.Popen, **kwargs: object) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ClusterError(f"{url}: the process exited ({process.returncode})")
            with contextlib.suppress(requests.RequestException):
                if requests.get(url, timeout=5, **kwargs).status_code == 200:
                    return
            time.sleep(0.3)
        raise ClusterError(f"{url} did not answer within {START_TIMEOUT:.0f} s")

    def wait_app(self, port: int) -> None:
        """Wait until the app server on `port` answers, as the proxy would ask it."""
        self._wait(
            self.config.app_url(port) + READINESS_PATH,
            self.apps[port],
            headers={"X-Forwarded-Proto": "https", "Host": "localhost"},
        )

    def wait_proxy(self) -> None:
        if self.proxy is None:
            raise ClusterError("nginx is not running")
        self._wait(
            self.config.issuer + READINESS_PATH,
            self.proxy,
            verify=str(self.config.ca_certificate),
        )

    @staticmethod
    def _signal_group(process: subprocess.Popen, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signum)

    def kill_app(self, port: int) -> None:
        """SIGKILL the app server on `port` and its workers: a crash, no clean-up."""
        process = self.apps.pop(port)
        self._signal_group(process, signal.SIGKILL)
        process.wait()

    def stop_app(self, port: int) -> None:
        process = self.apps.pop(port, None)
        if process is not None:
            self._stop(process, signal.SIGTERM)

    def _stop(self, process: subprocess.Popen, signum: int) -> None:
        if process.poll() is None:
            self._signal_group(process, signum)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._signal_group(process, signal.SIGKILL)
                process.wait()
        # Workers left behind by a master that died first.
        self._signal_group(process, signal.SIGKILL)

    def stop(self) -> None:
        """Stop the proxy (graceful: SIGQUIT), then the app servers (SIGTERM)."""
        if self.proxy is not None:
            self._stop(self.proxy, signal.SIGQUIT)
            self.proxy = None
        for port in list(self.apps):
            self.stop_app(port)

    def __enter__(self) -> "Cluster":
        self.prepare()
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@contextlib.contextmanager
def signals_raise() -> Iterator[None]:
    """SIGTERM and SIGINT raise KeyboardInterrupt, so `finally` stops the cluster."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = {
        signum: signal.signal(signum, interrupt)
        for signum in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def main(argv: Sequence[str]) -> int:
    config = config_from_environment(os.environ)
    cluster = Cluster(config)
    if argv[:1] == ["manage"]:
        config.directory.mkdir(parents=True, exist_ok=True)
        try:
            cluster.manage(*argv[1:])
        except subprocess.CalledProcessError as error:
            return error.returncode
        return 0
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    with signals_raise():
        try:
            print(
                "Preparing: certificates, database, migrations, static files…",
                flush=True,
            )
            cluster.prepare()
            cluster.start()
            print(
                f"\nBookshelf cluster is up.\n"
                f"  Issuer and proxy: {config.issuer}/  (TLS, CA: {config.ca_certificate})\n"
                f"  App servers:      "
                + ", ".join(config.app_url(p) for p in config.app_ports)
                + f"\n  Database:         {config.database_name}\n"
                f"  Redis:            {config.redis_url}\n"
                f"  Logs:             {cluster.logs}/\n"
                f"Ctrl-C stops everything.",
                flush=True,
            )
            while True:
                for name, process in [("nginx", cluster.proxy)] + [
                    (f"app server :{port}", p) for port, p in cluster.apps.items()
                ]:
                    if process is not None and process.poll() is not None:
                        print(f"{name} exited ({process.returncode}); stopping.")
                        return 1
                time.sleep(1)
        except KeyboardInterrupt:
            print("\nStopping…", flush=True)
            return 0
        except ClusterError as error:
            print(f"make cluster: {error}", file=sys.stderr)
            return 1
        except subprocess.CalledProcessError as error:
            print(f"make cluster: {' '.join(error.cmd[1:3])} failed", file=sys.stderr)
            return 1
        finally:
            cluster.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
