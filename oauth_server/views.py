"""DOT views, extended through their hooks where the product needs more."""

import calendar
import hashlib
import json
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.contrib.auth.views import LoginView as DjangoLoginView
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.generic import TemplateView
from oauth2_provider import views as dot_views
from oauth2_provider.exceptions import (
    FatalClientError,
    InvalidOIDCClientError,
    OAuthToolkitError,
)
from oauth2_provider.models import (
    get_access_token_model,
    get_device_grant_model,
    get_refresh_token_model,
)
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import Request as OAuthlibRequest
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc8628 import errors as rfc8628_errors

from oauth_server import scopes
from oauth_server.conf import server_settings
from oauth_server.http import (
    CLIENT_AUTH_CHALLENGE,
    JSONEndpointMixin,
    OAuthEndpointMixin,
    oauth_error,
    request_error,
)
from oauth_server.login_throttle import LoginAttempt
from oauth_server.models import Application

DEVICE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
DISCOVERY_CACHE_CONTROL = "public, max-age=3600"


def with_iss(uri: str, issuer: str) -> str:
    """`uri` with exactly one RFC 9207 `iss` query parameter."""
    parts = urlsplit(uri)
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "iss"
    ]
    query.append(("iss", issuer))
    return urlunsplit(parts._replace(query=urlencode(query)))


class AuthorizationView(dot_views.AuthorizationView):
    """The authorize endpoint with consent, `iss` on every redirect, early errors.

    DOT adds `iss` to successful responses only; RFC 9207 §2 wants it on error
    responses (access_denied, invalid_scope, ...) too.
    """

    template_name = "oauth_server/authorize.html"

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # A browser endpoint: a request that cannot be processed gets the error page.
        if error := request_error(request, client_auth=False):
            self.oauth2_data = {}
            context = {"error": error}
            return self.response_class(
                request=request,
                template=[self.template_name],
                context=context,
                status=400,
            )
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        # DOT fetches the client with objects.get(): a consent form naming an
        # unknown client (forged; ours only carry valid ones) was a 500.
        client_id = form.cleaned_data["client_id"]
        if not Application.objects.filter(client_id=client_id).exists():
            error = FatalClientError(error=errors.InvalidClientIdError())
            return self.error_response(error, application=None)
        return super().form_valid(form)

    def redirect(self, redirect_to: str, application):
        issuer = oauth2_settings.oauth2_authorization_server_issuer(self.request)
        return super().redirect(with_iss(redirect_to, issuer), application)

    def handle_no_permission(self):
        # RFC 6749 §4.1.2.1: check client and redirect URI before asking anyone to
        # log in, so a bad request shows its error page (or goes back to a valid
        # client) instead of a login form that can only end in an error.
        try:
            self.validate_authorization_request(self.request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        return super().handle_no_permission()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        requested = kwargs.get("scopes") or []
        context["scope_items"] = [
            {"name": name, "description": scopes.SCOPES.get(name, name)}
            for name in requested
        ]
        return context


class DiscoveryMixin:
    """What both discovery documents add to DOT's: every endpoint we really offer."""

    def extra_metadata(self, request: HttpRequest) -> dict[str, object]:
        auth_methods = oauth2_settings.OAUTH2_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED
        url = self._get_endpoint_url
        return {
            "authorization_endpoint": url(request, "authorize", required=True),
            "token_endpoint": url(request, "token", required=True),
            "userinfo_endpoint": url(request, "user-info", required=True),
            "jwks_uri": url(request, "jwks-info", required=True),
            "revocation_endpoint": url(request, "revoke-token", required=True),
            "introspection_endpoint": url(request, "introspect", required=True),
            "device_authorization_endpoint": url(
                request, "device-authorization", required=True
            ),
            "end_session_endpoint": url(request, "rp-initiated-logout", required=True),
            "grant_types_supported": list(oauth2_settings.OAUTH2_GRANT_TYPES_SUPPORTED),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": list(scopes.SCOPES),
            "token_endpoint_auth_methods_supported": [*auth_methods, "none"],
            "revocation_endpoint_auth_methods_supported": [*auth_methods, "none"],
            "introspection_endpoint_auth_methods_supported": auth_methods,
            "authorization_response_iss_parameter_supported": True,
            "id_token_signing_alg_values_supported": ["RS256"],
            "subject_types_supported": oauth2_settings.OIDC_SUBJECT_TYPES_SUPPORTED,
            "service_documentation": request.build_absolute_uri(reverse("home")),
        }

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        data.update(self.extra_metadata(request))
        data["client_id_metadata_document_supported"] = False
        merged = JsonResponse(data)
        merged["Access-Control-Allow-Origin"] = "*"
        # Public and stable; clients may cache it (OIDC Discovery §4, RFC 8414 §3).
        merged["Cache-Control"] = DISCOVERY_CACHE_CONTROL
        return merged


class OIDCDiscoveryView(
    JSONEndpointMixin, DiscoveryMixin, dot_views.ConnectDiscoveryInfoView
):
    """`/.well-known/openid-configuration`."""


class ServerMetadataView(
    JSONEndpointMixin, DiscoveryMixin, dot_views.OAuthServerMetadataView
):
    """`/.well-known/oauth-authorization-server` (RFC 8414)."""


class ResourceMetadataView(
    JSONEndpointMixin, dot_views.OAuthProtectedResourceMetadataView
):
    """`/.well-known/oauth-protected-resource` (RFC 9728)."""


class JwksView(JSONEndpointMixin, dot_views.JwksInfoView):
    """The JSON Web Key Set."""


class UserInfoView(JSONEndpointMixin, dot_views.UserInfoView):
    """OIDC userinfo (OIDC Core §5.3), its errors as JSON (RFC 6750 §3)."""


class RPInitiatedLogoutView(dot_views.RPInitiatedLogoutView):
    """RP-initiated logout; an unknown `client_id` is an error page, not a 500.

    DOT looks the client up with `objects.get()`, so an unknown id raised
    DoesNotExist, and one with a NUL byte a DataError on PostgreSQL.
    """

    def get_request_application(self, id_token, client_id):
        if not client_id:
            return super().get_request_application(id_token, client_id)
        if "\x00" in client_id:
            raise InvalidOIDCClientError()
        application = Application.objects.filter(client_id=client_id).first()
        if application is None:
            raise InvalidOIDCClientError()
        return application


class TokenView(OAuthEndpointMixin, dot_views.TokenView):
    """The token endpoint (RFC 6749 §3.2), with RFC 8628 §3.5 device polling fixed.

    DOT answers a missing device_code with a 500 and an unknown one with a 404
    `device_not_found`, never sends `slow_down`, and keeps answering
    `authorization_pending` after the device code has expired.
    """

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.POST.get("grant_type") == DEVICE_GRANT_TYPE:
            return self.device_flow_token_response(
                request, request.POST.get("device_code", "")
            )
        return super().post(request, *args, **kwargs)

    def device_flow_token_response(self, request, device_code, *args, **kwargs):
        if not device_code:
            return oauth_error(
                errors.InvalidRequestError(description="Missing device_code.")
            )
        device = (
            get_device_grant_model().objects.filter(device_code=device_code).first()
        )
        if device is None:
            return oauth_error(
                errors.InvalidGrantError(description="Unknown device_code.")
            )
        if device.is_expired():
            return oauth_error(rfc8628_errors.ExpiredTokenError())
        interval = oauth2_settings.DEVICE_FLOW_INTERVAL
        poll_key = "device-poll:" + hashlib.sha256(device_code.encode()).hexdigest()
        if not cache.add(poll_key, 1, timeout=interval):
            return oauth_error(rfc8628_errors.SlowDownError())
        return super().device_flow_token_response(request, device_code, *args, **kwargs)


class RevokeTokenView(OAuthEndpointMixin, dot_views.RevokeTokenView):
    """Token revocation (RFC 7009)."""


class DeviceAuthorizationView(OAuthEndpointMixin, dot_views.DeviceAuthorizationView):
    """RFC 8628 §3.2, with absolute verification URIs derived from the request.

    oauthlib 3.3 does not check the requested scope against the client here (DOT's
    validator would), and crashes on a request without a Content-Type; both are
    checked first.
    """

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.content_type != "application/x-www-form-urlencoded":
            return oauth_error(
                errors.InvalidRequestError(
                    description="Content-Type must be application/x-www-form-urlencoded."
                )
            )
        app = Application.objects.filter(
            client_id=request.POST.get("client_id", "")
        ).first()
        requested = scopes.parse(request.POST.get("scope", ""))
        if app is not None and not set(requested) <= set(app.allowed_scope_list):
            return oauth_error(errors.InvalidScopeError())
        response = super().post(request, *args, **kwargs)
        if response.status_code != 200:
            return response
        data = json.loads(response.content)
        # Relative in settings; absolute on the issuer's origin (CanonicalOrigin).
        base = request.build_absolute_uri(oauth2_settings.OAUTH_DEVICE_VERIFICATION_URI)
        data["verification_uri"] = base
        data["verification_uri_complete"] = (
            f"{base}?{urlencode({'user_code': data['user_code']})}"
        )
        return JsonResponse(data, headers={"Cache-Control": "no-store"})


class IntrospectTokenView(OAuthEndpointMixin, dot_views.IntrospectTokenView):
    """RFC 7662 introspection for clients allowed the `introspection` scope.

    DOT lets any authenticated client introspect; we require the scope on the client
    (or on the bearer token it presents), POST only (tokens stay out of URLs), and
    answer refresh tokens as well as access tokens.
    """

    http_method_names = ["post", "options"]

    def authenticate_client(self, request: HttpRequest) -> bool:
        core = self.get_oauthlib_core()
        uri, http_method, body, headers = core._extract_params(request)
        oauth_request = OAuthlibRequest(uri, http_method, body, headers)
        validator = core.server.request_validator
        if not validator.authenticate_client(oauth_request):
            return False
        return scopes.INTROSPECTION in oauth_request.client.allowed_scope_list

    def unauthenticated_response(self, request, oauthlib_request=None) -> HttpResponse:
        response = JsonResponse(
            {
                "error": "invalid_client",
                "error_description": "Authenticate as a client allowed the introspection scope.",
            },
            status=401,
        )
        response["WWW-Authenticate"] = CLIENT_AUTH_CHALLENGE
        response["Cache-Control"] = "no-store"
        return response

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = self.token_response(request, request.POST.get("token"))
        response["Cache-Control"] = "no-store"
        return response

    def token_response(self, request: HttpRequest, value: str | None) -> JsonResponse:
        if not value:
            return JsonResponse(
                {
                    "error": "invalid_request",
                    "error_description": "The token parameter is missing.",
                },
                status=400,
            )
        checksum = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
        issuer = oauth2_settings.oauth2_authorization_server_issuer(request)
        token = (
            get_access_token_model()
            .objects.select_related("user", "application")
            .filter(token_checksum=checksum)
            .first()
        )
        if token is not None and token.is_valid():
            data = {
                "active": True,
                "token_type": "Bearer",
                "scope": token.scope,
                "exp": calendar.timegm(token.expires.utctimetuple()),
                "iat": calendar.timegm(token.created.utctimetuple()),
                "iss": issuer,
            }
            if token.resource:
                data["aud"] = token.resource
        else:
            refresh = (
                get_refresh_token_model()
                .objects.select_related("user", "application", "access_token")
                .filter(token_checksum=checksum, revoked__isnull=True)
                .first()
            )
            if refresh is None or refresh.access_token is None:
                return JsonResponse({"active": False})
            token = refresh
            data = {
                "active": True,
                "token_type": "refresh_token",
                "scope": refresh.access_token.scope,
                "iat": calendar.timegm(refresh.created.utctimetuple()),
                "iss": issuer,
            }
        if token.application:
            data["client_id"] = token.application.client_id
        if token.user:
            data["sub"] = str(token.user.pk)
            data["username"] = token.user.get_username()
        return JsonResponse(data)


class LoginView(DjangoLoginView):
    """The sign-in form (`username`, `password`), refusing rapid password guessing."""

    template_name = "oauth_server/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.attempt = LoginAttempt.of(request)
        if self.attempt.is_blocked():
            minutes = server_settings().login_lockout_seconds // 60
            context = self.get_context_data(
                form=self.get_form(),
                locked_out=f"Too many failed sign-ins. Try again in {minutes} minutes.",
            )
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        self.attempt.record_failure()
        return super().form_invalid(form)

    def form_valid(self, form):
        self.attempt.record_success()
        return super().form_valid(form)


class HomeView(TemplateView):
    """Landing page: where things are, for people who arrive with a browser."""

    template_name = "oauth_server/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["scopes"] = scopes.SCOPES
        return context
