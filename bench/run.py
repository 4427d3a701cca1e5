"""`make bench`: gunicorn with production settings on loopback, under load.

For each database (SQLite; PostgreSQL + Redis), a fresh database is migrated and
seeded, gunicorn serves it (2 sync workers, DEBUG off, http on loopback with
SECURE_SSL_REDIRECT off: the benchmark only), and each scenario runs at 1 and 16
concurrent clients for BENCH_SECONDS. Prints a table and writes bench/results.json:
req/s, p50, p99, errors, the ratio to the floor measured in the same run, and
database queries per request (counted by the server, bench/middleware.py).

Then the scale run (PostgreSQL + Redis): floor, token and the bearer list with
1,000 stored access tokens, then again after the database itself has grown the
table to BENCH_SCALE_TOKENS (bench/scale.py), each ratio compared with the
1,000-token one; then `cleartokens` on that table, timed, with the plan of each
of its batch queries and a check that it removed exactly what it must.

Environment (the benchmark's own, not the server's settings):
  BENCH_SECONDS (5), BENCH_FLOOR_BESIDE_SECONDS (2: the floor driven just before
  each scenario, its ratio's denominator; 0: the table's floor row), BENCH_WORKERS (2), BENCH_BACKENDS ("sqlite,postgres"),
  BENCH_SCENARIOS (all: floor,token,list,list_open,introspect,userinfo,refresh,
  code_flow,scale; "floor" must stay in for the ratios; "scale" alone runs only
  the scale run and keeps the other figures of bench/results.json),
  BENCH_SCALE_TOKENS (1000000),
  BENCH_DATABASE_URL (postgres://postgres@127.0.0.1:5432/bookshelf_bench),
  BENCH_REDIS_URL (redis://127.0.0.1:6379/13), BENCH_PORT (8765).
"""

import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench import load

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
FLOOR_BESIDE_SECONDS = float(os.environ.get("BENCH_FLOOR_BESIDE_SECONDS", "2"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
BACKENDS = os.environ.get("BENCH_BACKENDS", "sqlite,postgres").split(",")
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bookshelf_bench"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
PORT = int(os.environ.get("BENCH_PORT", "8765"))
HOST = "127.0.0.1"
SCENARIOS = [
    "floor",
    "token",
    "list",
    "list_open",
    "introspect",
    "userinfo",
    "refresh",
    "code_flow",
    "scale",
]
SCENARIOS = os.environ.get("BENCH_SCENARIOS", ",".join(SCENARIOS)).split(",")
CLIENTS = [1, 16]
SCALE_TOKENS = int(os.environ.get("BENCH_SCALE_TOKENS", "1000000"))
SCALE_BASE = 1000  # the stored tokens the scale figures are compared with
SCALE_SCENARIOS = ["floor", "token", "list"]
REFRESH_PER_RUN = 2500
UNLIMITED = "1000000/minute"


def server_env(backend: str) -> dict[str, str]:
    from oauth_server.keys import generate_rsa_pem

    var_dir = ROOT / "var" / "bench" / backend
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-" + "x" * 50,
        "ALLOWED_HOSTS": HOST,
        "OAUTH_ISSUER": "https://bench.example",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "OIDC_RSA_PRIVATE_KEY": generate_rsa_pem(),
        "LOG_LEVEL": "WARNING",
        "VAR_DIR": str(var_dir),
        "API_RATE_PER_APPLICATION": UNLIMITED,
        "API_RATE_PER_USER": UNLIMITED,
    }
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    if backend == "postgres":
        env["DATABASE_URL"] = DATABASE_URL
        env["REDIS_URL"] = REDIS_URL
    return env


def reset_database(backend: str, env: dict[str, str]) -> None:
    """A fresh database: a new SQLite file, or the bench PostgreSQL database and
    Redis db dropped and made again."""
    shutil.rmtree(env["VAR_DIR"], ignore_errors=True)
    Path(env["VAR_DIR"]).mkdir(parents=True)
    if backend != "postgres":
        return
    import psycopg
    import redis

    parts = urlsplit(DATABASE_URL)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    redis.Redis.from_url(REDIS_URL).flushdb()


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [PYTHON, *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"failed: {' '.join(args)}")
    return done.stdout


def start_server(env: dict[str, str]) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            str(Path(PYTHON).parent / "gunicorn"),
            "config.wsgi:application",
            f"--workers={WORKERS}",
            f"--bind={HOST}:{PORT}",
            "--log-level=warning",
            "--timeout=60",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{PORT}/bench/floor/") as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("gunicorn did not answer within 30 s")


def worker_rss_mb(master: int) -> list[float]:
    """Resident memory of each gunicorn worker (children of the master)."""
    sizes = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":", 1) for line in status.read_text().splitlines()
            )
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(master):
            sizes.append(int(fields["VmRSS"].split()[0]) / 1024)
    return sorted(sizes)


def run_backend(backend: str) -> dict:
    scenarios = [name for name in SCENARIOS if name != "scale"]
    env = server_env(backend)
    reset_database(backend, env)
    manage(env, "manage.py", "migrate", "--noinput")
    creds = json.loads(
        manage(env, "-m", "bench.seed", str(REFRESH_PER_RUN * len(CLIENTS)))
    )
    refresh = creds.pop("refresh_tokens")
    server = start_server(env)
    rows = []
    try:
        for index, clients in enumerate(CLIENTS):
            mine = refresh[index * REFRESH_PER_RUN : (index + 1) * REFRESH_PER_RUN]
            size = len(mine) // clients
            creds["refresh_slices"] = [
                mine[i * size : (i + 1) * size] for i in range(clients)
            ]
            for name in scenarios:
                row = measure(name, creds, clients)
                rows.append({"backend": backend, **row})
                print(
                    f"  {backend:8} {name:10} c={clients:<2} {row['rps']:8.1f} req/s "
                    f"errors={row['errors']}",
                    file=sys.stderr,
                )
        memory = worker_rss_mb(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    add_ratios(rows)
    return {"backend": backend, "rows": rows, "worker_rss_mb": memory}


def add_ratios(rows: list[dict]) -> None:
    """`ratio_to_floor`: req/s over the floor's at the same clients (and size).

    A row measured with a floor beside it (`floor_beside_rps`, the floor driven for
    FLOOR_BESIDE_SECONDS just before the scenario) is divided by that floor: the
    VM's speed drifts by a third within minutes (the floor at one client measured
    506 and 793 req/s ten minutes apart in one run), which a floor measured once
    per table turned into ratio changes of the same size.
    """
    floors = {
        (r["clients"], r.get("stored_tokens")): r["rps"]
        for r in rows
        if r["scenario"] == "floor"
    }
    for row in rows:
        floor = row.get("floor_beside_rps") or floors.get(
            (row["clients"], row.get("stored_tokens"))
        )
        row["ratio_to_floor"] = row["rps"] / floor if floor else None


def measure(name: str, creds: dict, clients: int) -> dict:
    """One scenario for SECONDS, after the floor for FLOOR_BESIDE_SECONDS."""
    if name == "floor" or FLOOR_BESIDE_SECONDS <= 0:
        return load.run(HOST, PORT, name, creds, clients, SECONDS)
    beside = load.run(HOST, PORT, "floor", creds, clients, FLOOR_BESIDE_SECONDS)
    row = load.run(HOST, PORT, name, creds, clients, SECONDS)
    return {**row, "floor_beside_rps": beside["rps"]}


def scale_load(creds: dict, stored: int) -> list[dict]:
    rows = []
    for clients in CLIENTS:
        for name in SCALE_SCENARIOS:
            row = measure(name, creds, clients)
            rows.append({"backend": "postgres", "stored_tokens": stored, **row})
            print(
                f"  scale {stored:>8} {name:6} c={clients:<2} {row['rps']:8.1f} req/s "
                f"errors={row['errors']}",
                file=sys.stderr,
            )
    return rows


def scale_compare(rows: list[dict], large: int) -> None:
    """`ratio_vs_base`: each ratio at `large` tokens over the same at 1,000."""
    base = {
        (r["scenario"], r["clients"]): r["ratio_to_floor"]
        for r in rows
        if r["stored_tokens"] == SCALE_BASE
    }
    for row in rows:
        before = base.get((row["scenario"], row["clients"]))
        row["ratio_vs_base"] = (
            row["ratio_to_floor"] / before
            if row["stored_tokens"] == large and before and row["ratio_to_floor"]
            else None
        )


def run_scale() -> dict:
    """The scale run: the same load at 1,000 and SCALE_TOKENS tokens; cleartokens."""
    env = server_env("postgres")
    reset_database("postgres", env)
    manage(env, "manage.py", "migrate", "--noinput")
    creds = json.loads(manage(env, "-m", "bench.seed", "0"))
    grown = [json.loads(manage(env, "-m", "bench.scale", "grow", str(SCALE_BASE)))]
    server = start_server(env)
    try:
        rows = scale_load(creds, SCALE_BASE)
        started = time.perf_counter()
        grown.append(
            json.loads(manage(env, "-m", "bench.scale", "grow", str(SCALE_TOKENS)))
        )
        seed_seconds = time.perf_counter() - started
        rows += scale_load(creds, SCALE_TOKENS)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    add_ratios(rows)
    scale_compare(rows, SCALE_TOKENS)
    plans = json.loads(manage(env, "-m", "bench.scale", "explain"))
    before = json.loads(manage(env, "-m", "bench.scale", "count"))
    started = time.perf_counter()
    output = manage(env, "manage.py", "cleartokens")
    clear_seconds = time.perf_counter() - started
    after = json.loads(manage(env, "-m", "bench.scale", "count"))
    removed = {
        "access_tokens": before["access_tokens"] - after["access_tokens"],
        "refresh_tokens": before["refresh_tokens"] - after["refresh_tokens"],
    }
    expected = {
        "access_tokens": sum(g["to_delete_access"] for g in grown),
        "refresh_tokens": sum(g["to_delete_refresh"] for g in grown),
    }
    print(output, file=sys.stderr)
    return {
        "backend": "postgres",
        "stored_tokens": SCALE_TOKENS,
        "seed_seconds": seed_seconds,
        "seeded": grown[-1],
        "rows": rows,
        "cleartokens": {
            "seconds": clear_seconds,
            "before": before,
            "removed": removed,
            "expected": expected,
            "as_expected": removed == expected,
            "plans": plans,
        },
    }


def table(results: list[dict]) -> str:
    lines = [
        f"{'backend':9}{'scenario':11}{'clients':>8}{'req/s':>9}{'p50 ms':>9}"
        f"{'p99 ms':>9}{'errors':>8}{'x floor':>9}{'queries':>9}"
    ]
    for result in results:
        for r in result["rows"]:
            queries = r["queries_per_request"]
            ratio = r["ratio_to_floor"]
            lines.append(
                f"{r['backend']:9}{r['scenario']:11}{r['clients']:>8}{r['rps']:>9.1f}"
                f"{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}{r['errors']:>8}"
                f"{(f'{ratio:.2f}' if ratio is not None else '-'):>9}"
                f"{(f'{queries:.2f}' if queries is not None else '-'):>9}"
            )
        rss = ", ".join(f"{mb:.0f}" for mb in result["worker_rss_mb"])
        lines.append(f"{result['backend']}: worker RSS after the run (MB): {rss}")
    return "\n".join(lines)


def scale_table(scale: dict) -> str:
    lines = [
        f"{'stored tokens':>14}{'scenario':>10}{'clients':>8}{'req/s':>9}"
        f"{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'x floor':>9}{'vs 1,000':>10}"
        f"{'queries':>9}"
    ]
    for r in scale["rows"]:
        ratio, versus = r["ratio_to_floor"], r["ratio_vs_base"]
        queries = r["queries_per_request"]
        lines.append(
            f"{r['stored_tokens']:>14,}{r['scenario']:>10}{r['clients']:>8}"
            f"{r['rps']:>9.1f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}{r['errors']:>8}"
            f"{(f'{ratio:.2f}' if ratio is not None else '-'):>9}"
            f"{(f'{versus:.2f}' if versus is not None else '-'):>10}"
            f"{(f'{queries:.2f}' if queries is not None else '-'):>9}"
        )
    clear = scale["cleartokens"]
    lines.append(
        f"postgres: {scale['stored_tokens']:,} access tokens seeded in "
        f"{scale['seed_seconds']:.1f} s; cleartokens {clear['seconds']:.1f} s, removed "
        f"{clear['removed']['access_tokens']:,} access and "
        f"{clear['removed']['refresh_tokens']:,} refresh tokens "
        f"({'as expected' if clear['as_expected'] else 'NOT as expected: '}"
        f"{'' if clear['as_expected'] else clear['expected']})"
    )
    for plan in clear["plans"]:
        scans = (
            ", ".join(f"{t} (~{n:,} rows)" for t, n in plan["full_scans"].items())
            or "none"
        )
        lines.append(
            f"  {plan['sweep']}: indexes {', '.join(plan['indexes']) or '-'}; "
            f"full scans {scans}"
        )
    return "\n".join(lines)


def main() -> None:
    out = ROOT / "bench" / "results.json"
    previous = json.loads(out.read_text()) if out.exists() else {}
    results = previous.get("results", [])
    if any(name != "scale" for name in SCENARIOS):
        results = [run_backend(backend) for backend in BACKENDS]
    scale = previous.get("scale")
    if "scale" in SCENARIOS and "postgres" in BACKENDS:
        scale = run_scale()
    machine = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "seconds_per_scenario": SECONDS,
        "floor_beside_seconds": FLOOR_BESIDE_SECONDS,
        "gunicorn_workers": WORKERS,
    }
    written = {"machine": machine, "results": results, "scale": scale}
    out.write_text(json.dumps(written, indent=2))
    print(table(results))
    if scale:
        print(scale_table(scale))
    print(f"machine: {machine}\nwritten: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
