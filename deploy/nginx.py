"""The nginx configuration of the cluster: TLS in front, app servers behind."""

from collections.abc import Sequence
from pathlib import Path

# Per-request log line: the path without its query string (authorization requests
# carry state and PKCE challenges there), the app server that answered, timings.
ACCESS_LOG_FORMAT = (
    '$remote_addr [$time_iso8601] "$request_method $uri" $status $body_bytes_sent '
    "rt=$request_time upstream=$upstream_addr ust=$upstream_status id=$request_id"
)


def render(
    *,
    directory: Path,
    proxy_port: int,
    app_ports: Sequence[int],
    certificate: Path,
    certificate_key: Path,
    static_root: Path,
    user: str | None,
) -> str:
    """nginx.conf for a foreground nginx that keeps every file under `directory`.

    Passive health checks: an app server that refuses or drops a connection
    (`max_fails=1`) is left out for `fail_timeout`, and the request goes to the
    other one when it is safe to send it twice. nginx never re-sends a POST that
    reached an app server (`non_idempotent` is not listed): it may have committed.
    """
    servers = "\n".join(
        f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;"
        for port in app_ports
    )
    temp = directory / "nginx-temp"
    user_line = f"user {user};" if user else ""
    return f"""# Written by deploy/cluster.py on each start; edits are overwritten.
{user_line}
daemon off;
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/logs/nginx-error.log warn;

events {{
    worker_connections 1024;
}}

http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    log_format bookshelf '{ACCESS_LOG_FORMAT}';
    access_log {directory}/logs/nginx-access.log bookshelf;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    server_tokens off;
    sendfile on;

    upstream bookshelf_app {{
{servers}
    }}

    server {{
        listen 127.0.0.1:{proxy_port} ssl;
        server_name localhost;
        ssl_certificate {certificate};
        ssl_certificate_key {certificate_key};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:bookshelf_tls:1m;
        # Above DATA_UPLOAD_MAX_MEMORY_SIZE: Django answers oversized bodies itself,
        # in the OAuth error format.
        client_max_body_size 4m;

        # Collected by `manage.py collectstatic` (STATIC_ROOT).
        location /static/ {{
            alias {static_root}/;
            expires 1h;
            access_log off;
        }}

        location / {{
            proxy_pass http://bookshelf_app;
            # The port too: Django compares the Origin of form posts with it.
            proxy_set_header Host $host:$server_port;
            # One trusted proxy (TRUSTED_PROXY_COUNT=1): the rightmost entry is the
            # address nginx saw; the app ignores whatever a client put before it.
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;
            proxy_set_header X-Request-ID $request_id;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 2;
        }}
    }}
}}
"""
