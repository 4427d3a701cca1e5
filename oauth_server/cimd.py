"""Client ID Metadata Documents: DOT's resolver (oauth2_provider/cimd.py) under our
registration policy.

DOT fetches the https URL a client gives as its client_id with an SSRF-hardened
fetcher (public addresses only, no redirects, size and time limits) and saves an
Application from it. Here: whether the policy lets it (and how often per client
address), what the client may do (`RegistrationPolicy.apply_to_cimd`, called by
the model's `clean`), and the audit event of its first sight.
"""

import logging
import ssl
from types import SimpleNamespace
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.core import checks
from oauth2_provider.cimd import CIMDError, SafeMetadataFetcher, is_cimd_client_id
from oauth2_provider.settings import oauth2_settings

from oauth_server import audit
from oauth_server.conf import server_settings
from oauth_server.models import Application, RegistrationPolicy
from oauth_server.registration import registration_rate_exceeded

logger = logging.getLogger(__name__)


class PolicyPermission:
    """DOT's CIMD_REGISTRATION_PERMISSION_CLASSES hook: the policy allows CIMD, and
    a client address has not registered too many clients this hour."""

    def has_permission(self, request, client_id: str) -> bool:
        policy = RegistrationPolicy.load()
        if not policy.cimd_enabled:
            return False
        if Application.objects.filter(client_id=client_id).exists():
            return True  # a refresh of a known document, not a registration
        # DOT's oauthlib request carries the Django request's META as headers.
        return not registration_rate_exceeded(
            request=SimpleNamespace(META=request.headers),
            limit=policy.registrations_per_hour,
        )


class MetadataFetcher(SafeMetadataFetcher):
    """DOT's SSRF-hardened fetcher; in tests only, hosts listed in
    `OAUTH_SERVER["cimd_test_hosts"]` may be on loopback, with the test's own CA.

    `config/settings.py` never sets that list (no environment variable reaches
    it), so a deployment always fetches through DOT's checks.
    """

    def fetch(self, client_id: str):
        conf = server_settings()
        host = urlsplit(client_id).hostname
        if not conf.cimd_test_hosts or host not in conf.cimd_test_hosts:
            return super().fetch(client_id)
        return self._fetch_from_test_host(client_id, ca_file=conf.cimd_test_ca_file)

    def _fetch_from_test_host(self, client_id: str, *, ca_file: str):
        parts = urlsplit(client_id)
        if parts.scheme != "https" or parts.username or parts.fragment:
            raise CIMDError("client_id URL must be https, without userinfo or fragment")
        timeout = oauth2_settings.CIMD_FETCH_TIMEOUT_SECONDS
        pool = urllib3.HTTPSConnectionPool(
            host=parts.hostname,
            port=parts.port or 443,
            timeout=urllib3.Timeout(total=timeout),
            retries=False,
            ssl_context=ssl.create_default_context(cafile=ca_file),
        )
        try:
            response = pool.urlopen(
                "GET",
                parts.path + (f"?{parts.query}" if parts.query else ""),
                headers={"Accept": "application/json"},
                redirect=False,
                preload_content=False,
            )
            try:
                return self._read_document(response)
            finally:
                response.release_conn()
        except urllib3.exceptions.HTTPError as exc:
            raise CIMDError(f"could not fetch client_id document: {exc}") from exc
        finally:
            pool.close()


class RecordCIMDRegistrationMixin:
    """Validator mixin: the first sight of a metadata document is recorded as
    `application.created` (via cimd), in the transaction that saved it."""

    def _load_application(self, client_id, request):
        cached = getattr(request, "client", None)
        first_sight = (
            oauth2_settings.CIMD_ENABLED
            and is_cimd_client_id(client_id)
            and not (isinstance(cached, Application) and cached.client_id == client_id)
            and not Application.objects.filter(client_id=client_id).exists()
        )
        client = super()._load_application(client_id, request)
        if first_sight and client is not None:
            audit.record(
                audit.Event.APPLICATION_CREATED,
                request=request,
                application=client,
                via=Application.RegistrationSource.CIMD.value,
                host=urlsplit(client_id).hostname,
                scopes=client.allowed_scope_list,
            )
            logger.info("client registered via=cimd client_id=%s", client_id)
        return client


@checks.register(checks.Tags.security)
def cimd_test_hosts_check(app_configs=None, **kwargs) -> list[checks.Error]:
    """The loopback allow-list for metadata documents never runs with DEBUG off."""
    if server_settings().cimd_test_hosts and not settings.DEBUG:
        return [
            checks.Error(
                "OAUTH_SERVER['cimd_test_hosts'] lets client ID metadata documents "
                "be fetched from loopback, past DOT's SSRF checks.",
                hint="Remove it: it is for the test suite only.",
                id="oauth_server.E001",
            )
        ]
    return []
