"""The cluster launcher's pieces that need no running process."""

import ipaddress
import ssl

import pytest
from cryptography import x509

from deploy import cluster, nginx, tls


def test_fixed_interface():
    """The proxy, app ports, database and Redis database that docs and scripts use."""
    config = cluster.config_from_environment({})
    assert config.issuer == "https://localhost:8443"
    assert config.app_ports == (8101, 8102)
    assert config.database_name == "bookshelf_cluster"
    assert config.redis_url == "redis://127.0.0.1:6379/2"
    assert config.ca_certificate == cluster.REPO_DIR / "var" / "cluster" / "ca.crt"


def test_database_and_redis_are_overridable():
    config = cluster.config_from_environment(
        {
            "DATABASE_URL": "postgres://u@db.internal:5433/other",
            "REDIS_URL": "redis://cache:6379/4",
        }
    )
    assert config.database_name == "other"
    assert config.redis_url == "redis://cache:6379/4"


def test_server_certificate_is_issued_by_the_ca_for_loopback(tmp_path):
    """A TLS client trusting only ca.crt accepts server.crt for localhost and 127.0.0.1."""
    ca, certificate, key = tls.ensure_certificates(tmp_path)
    ssl.create_default_context(cafile=str(ca))  # a CA file TLS clients can load
    server = x509.load_pem_x509_certificate(certificate.read_bytes())
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert ipaddress.ip_address("127.0.0.1") in names.get_values_for_type(
        x509.IPAddress
    )
    authority = x509.load_pem_x509_certificate(ca.read_bytes())
    server.verify_directly_issued_by(authority)
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    # Made once: a second call keeps the same files.
    assert tls.ensure_certificates(tmp_path)[1].read_bytes() == certificate.read_bytes()


@pytest.mark.parametrize("user", [None, "www-data"])
def test_nginx_config_names_every_path_and_both_upstreams(tmp_path, user):
    text = nginx.render(
        directory=tmp_path,
        proxy_port=8443,
        app_ports=(8101, 8102),
        certificate=tmp_path / "server.crt",
        certificate_key=tmp_path / "server.key",
        static_root=tmp_path / "static",
        user=user,
    )
    assert "server 127.0.0.1:8101 max_fails=1 fail_timeout=5s;" in text
    assert "server 127.0.0.1:8102 max_fails=1 fail_timeout=5s;" in text
    assert "listen 127.0.0.1:8443 ssl;" in text
    assert "proxy_next_upstream error timeout;" in text
    assert "non_idempotent" not in text
    assert f"pid {tmp_path}/nginx.pid;" in text
    assert ("user www-data;" in text) is (user == "www-data")
    # The access log never holds a query string ($request, $request_uri, $args).
    assert "$request " not in nginx.ACCESS_LOG_FORMAT
    assert "$request_uri" not in text
    assert "$args" not in text


def test_app_servers_get_production_settings(tmp_path, monkeypatch):
    """DEBUG off, the proxy's issuer, one trusted proxy; no test-run switches."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    monkeypatch.setenv("DEBUG", "true")
    monkeypatch.setenv("API_RATE_PER_USER", "7/minute")
    config = cluster.ClusterConfig(directory=tmp_path, proxy_port=9443)
    environment = cluster.Cluster(config).environment()
    assert "DJANGO_ALLOW_ASYNC_UNSAFE" not in environment
    assert environment["DEBUG"] == "false"
    assert environment["OAUTH_ISSUER"] == "https://localhost:9443"
    assert environment["TRUSTED_PROXY_COUNT"] == "1"
    assert environment["DATABASE_URL"].endswith("/bookshelf_cluster")
    assert environment["API_RATE_PER_USER"] == "7/minute"  # passed through
    assert environment["SECRET_KEY"] == (tmp_path / "secret_key").read_text()
