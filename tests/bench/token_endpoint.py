"""Benchmark: client-credentials token requests per second, by client-secret hasher.

Runs the real token endpoint in-process (Django test client, throw-away test
database) and prints requests per second for our hasher and for Django's default
PBKDF2, so the README's claim can be re-measured: `make bench`.
"""

import os
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")

import django

django.setup()

from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test import Client
from django.test.utils import setup_test_environment

from oauth_server import services

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "200"))
PBKDF2_REQUESTS = int(os.environ.get("BENCH_PBKDF2_REQUESTS", "10"))


def measure(client: Client, client_id: str, secret: str, count: int) -> float:
    """Requests per second over `count` token requests."""
    import base64

    auth = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    start = time.perf_counter()
    for _ in range(count):
        response = client.post(
            "/o/token/",
            "grant_type=client_credentials",
            content_type="application/x-www-form-urlencoded",
            HTTP_AUTHORIZATION=auth,
        )
        assert response.status_code == 200, response.content
    return count / (time.perf_counter() - start)


def main() -> None:
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        client = Client()
        registration = services.application_register(
            name="bench",
            client_type="confidential",
            grant_type="client-credentials",
            scope="books:read",
        )
        app, secret = registration.application, registration.client_secret
        fast = measure(client, app.client_id, secret, REQUESTS)

        app.client_secret = make_password(secret)  # Django's default: PBKDF2
        app.save(update_fields=["client_secret"])
        slow = measure(client, app.client_id, secret, PBKDF2_REQUESTS)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)

    print(f"token endpoint, client_credentials, one process, {connection.vendor}:")
    print(f"  generated_secret_sha256: {fast:8.1f} req/s  ({REQUESTS} requests)")
    print(f"  pbkdf2_sha256 (default): {slow:8.1f} req/s  ({PBKDF2_REQUESTS} requests)")
    print(f"  speed-up: {fast / slow:.0f}x")


if __name__ == "__main__":
    main()
