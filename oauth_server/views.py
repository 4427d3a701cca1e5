"""DOT views, extended through their hooks where the product needs more."""

import calendar
import json
from functools import cached_property
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.contrib.auth.views import LoginView as DjangoLoginView
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.generic import TemplateView
from oauth2_provider import views as dot_views
from oauth2_provider.exceptions import (
    FatalClientError,
    InvalidOIDCClientError,
    OAuthToolkitError,
    OIDCError,
)
from oauth2_provider.models import AbstractRefreshToken
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.signals import app_authorized
from oauthlib.common import Request as OAuthlibRequest
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.openid.connect.core import exceptions as oidc_errors

from oauth_server import (
    audience,
    audit,
    auth_time,
    capabilities,
    i18n,
    prompts,
    registration,
    scopes,
    selectors,
    services,
    token_cache,
)
from oauth_server.http import (
    TOKEN_IN_HEADER,
    JSONEndpointMixin,
    NonAtomicViewMixin,
    OAuthEndpointMixin,
    basic_credentials,
    csrf_exempt_dispatch,
    error_description,
    no_store,
    oauth_error,
    request_error,
)
from oauth_server.models import Application, Consent, RegistrationPolicy
from oauth_server.tokens import refresh_token_expires

DISCOVERY_CACHE_CONTROL = "public, max-age=3600"


def with_iss(uri: str, issuer: str) -> str:
    """`uri` with exactly one RFC 9207 `iss` query parameter.

    An error response without `error_description` gets one here too.
    """
    parts = urlsplit(uri)
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "iss"
    ]
    names = {k for k, _ in query}
    if "error" in names and not names & {"error_description", "code"}:
        error = next(v for k, v in query if k == "error")
        query.insert(
            [k for k, _ in query].index("error") + 1,
            ("error_description", error_description(error)),
        )
    query.append(("iss", issuer))
    return urlunsplit(parts._replace(query=urlencode(query)))


class ConsentPageRequired(Exception):
    """DOT was about to approve without the consent page; our policy wants the page."""


class AuthorizationView(dot_views.AuthorizationView):
    """The authorize endpoint with consent, `prompt`, `max_age`, `iss` on every redirect.

    - DOT adds `iss` to successful responses only; RFC 9207 §2 wants it on error
      responses (access_denied, invalid_scope, ...) too.
    - `prompt` and `max_age` (OIDC Core §3.1.2.1) are answered before DOT's consent
      step, for signed-in and anonymous users alike (`answer_prompt`); DOT raises a
      500 on prompt=none and redirects a signed-in user straight back from the login
      page on prompt=login.
    - Consent is remembered (`services.consent_remember` when the user allows):
      whether the consent page may be skipped is `selectors.consent_exists`, for
      prompt=none, for a request within what the user already allowed, and for DOT's
      own shortcuts alike; prompt=consent always shows it. A request for more
      shows only the scopes that are new.
    """

    template_name = "oauth_server/authorize.html"

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.prompt = prompts.Prompt()
        self.validated = None
        # A browser endpoint: a request that cannot be processed gets the error page.
        if error := request_error(request, client_auth=False):
            self.oauth2_data = {}
            context = {"error": error}
            response = self.response_class(
                request=request,
                template=[self.template_name],
                context=context,
                status=400,
            )
        else:
            response = super().dispatch(request, *args, **kwargs)
        # The consent page holds a CSRF token and the request, redirects carry codes:
        # nothing here may be stored by a browser or proxy.
        add_never_cache_headers(response)
        return response

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if response := self.answer_prompt():
            return response
        try:
            return super().get(request, *args, **kwargs)
        except ConsentPageRequired:
            return self.render_to_response(self.get_context_data(**self.oauth2_data))

    def form_valid(self, form):
        # DOT fetches the client with objects.get(): a consent form naming an
        # unknown client (forged; ours only carry valid ones) was a 500.
        client_id = form.cleaned_data["client_id"]
        validated = getattr(self, "oauth2_data", {}).get("application")
        # Consent on record submits the form this request validated: no re-read.
        known = validated is not None and validated.client_id == client_id
        if not known and not Application.objects.filter(client_id=client_id).exists():
            error = FatalClientError(error=errors.InvalidClientIdError())
            return self.error_response(error, application=None)
        return super().form_valid(form)

    def handle_no_permission(self):
        # RFC 6749 §4.1.2.1: check client and redirect URI before asking anyone to
        # log in, so a bad request shows its error page (or goes back to a valid
        # client) instead of a login form that can only end in an error.
        return self.answer_prompt() or super().handle_no_permission()

    def validate_authorization_request(self, request: HttpRequest):
        # Once per request: answer_prompt and DOT's get() both ask.
        if self.validated is None:
            self.validated = super().validate_authorization_request(request)
        return self.validated

    def answer_prompt(self) -> HttpResponse | None:
        """The response `prompt` and `max_age` decide before consent, if they do.

        Errors go back to the client (with `state` and `iss`) only once its client_id
        and redirect_uri are known good; before that, the error page.
        """
        try:
            self.validate_authorization_request(self.request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        try:
            self.prompt = prompts.parse(self.request.GET)
        except errors.OAuth2Error as error:
            return self.refuse(error)
        # OIDC Core §6: request objects are not offered (discovery says so).
        if "request" in self.request.GET:
            return self.refuse(oidc_errors.RequestNotSupported())
        if "request_uri" in self.request.GET:
            return self.refuse(oidc_errors.RequestURINotSupported())
        if refused := prompts.refused_value(self.prompt):
            return self.refuse(refused())
        if self.login_needed():
            if self.prompt.silent:
                return self.refuse(oidc_errors.LoginRequired())
            return self.login_redirect()
        return None

    def login_needed(self) -> bool:
        """Whether the user must sign in (again) before this request can go on."""
        if not self.request.user.is_authenticated or self.prompt.fresh_login:
            return True
        signed_in_at = auth_time.session_auth_time(self.request)
        # A session from before sign-in times were recorded: its auth_time is unknown.
        if signed_in_at is None:
            return True
        return self.prompt.login_is_stale(signed_in_at, auth_time.now())

    def login_redirect(self) -> HttpResponse:
        """To the login page, and back to this request once signed in."""
        login_url = resolve_url(self.get_login_url())
        if self.request.user.is_authenticated:
            # Signed in already: LoginView shows its form anyway, for a fresh sign-in.
            login_url = f"{login_url}?{urlencode({'prompt': prompts.LOGIN})}"
        return redirect_to_login(
            prompts.after_sign_in(self.request.get_full_path()),
            login_url,
            self.get_redirect_field_name(),
        )

    def refuse(self, error: errors.OAuth2Error) -> HttpResponse:
        """`error` to the validated redirect URI of the client, with its state."""
        _scopes, credentials = self.validated
        error.state = credentials.get("state")
        return self.error_response(
            OAuthToolkitError(error=error, redirect_uri=credentials["redirect_uri"]),
            application=None,
        )

    @cached_property
    def consent(self) -> Consent | None:
        """What the signed-in user allowed the requested application so far."""
        application = self.oauth2_data.get("application")
        if application is None or not self.request.user.is_authenticated:
            return None
        return selectors.consent_get(user=self.request.user, application=application)

    @cached_property
    def consent_on_record(self) -> bool:
        """Whether this user already consented to these scopes for this application."""
        return selectors.consent_exists(
            application=self.oauth2_data["application"],
            consent=self.consent,
            scopes=self.oauth2_data["scopes"],
        )

    def render_to_response(self, context, **response_kwargs):
        # DOT's get() reached the consent page (REQUEST_APPROVAL_PROMPT "force"):
        # skip it when consent is on record, never show it for prompt=none.
        if (
            self.request.method == "GET"
            and "form" in context
            and not self.prompt.consent_page
        ):
            if self.consent_on_record:
                return self.approve_on_record()
            if self.prompt.silent:
                return self.refuse(oidc_errors.ConsentRequired())
        return super().render_to_response(context, **response_kwargs)

    def approve_on_record(self) -> HttpResponse:
        """A code without the consent page: the user allowed this before."""
        # The consent form, submitted as if the user had pressed Allow: DOT's own
        # path from the request to a code, resource indicators and all.
        initial = {k: v for k, v in self.get_initial().items() if v is not None}
        form = self.get_form_class()(data={**initial, "allow": "Authorize"})
        if not form.is_valid():
            return self.refuse(oidc_errors.InteractionRequired())
        return self.form_valid(form)

    def create_authorization_response(self, request, scopes, credentials, allow):
        if request.method == "GET" and (
            self.prompt.consent_page or not self.consent_on_record
        ):
            # DOT approves skip_authorization applications (and approval_prompt=auto)
            # while it handles the GET; the page is ours to skip or not.
            raise ConsentPageRequired
        if request.method == "POST":
            application = Application.objects.get(client_id=credentials["client_id"])
            if allow:
                services.consent_remember(
                    user=request.user,
                    application=application,
                    scopes=scopes.split(),
                    request=request,
                )
            else:
                # DOT answers access_denied (RFC 6749 §4.1.2.1) after this returns.
                audit.record(
                    audit.Event.CONSENT_DENIED,
                    request=request,
                    user=request.user,
                    application=application,
                    scopes=scopes.split(),
                )
        # Always set, so a `session_auth_time` query parameter can never stand in.
        credentials = {
            **credentials,
            "session_auth_time": auth_time.session_auth_time(request),
        }
        return super().create_authorization_response(
            request, scopes, credentials, allow
        )

    def redirect(self, redirect_to: str, application):
        issuer = oauth2_settings.oauth2_authorization_server_issuer(self.request)
        return super().redirect(with_iss(redirect_to, issuer), application)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        requested = kwargs.get("scopes") or []
        granted = set(self.consent.scope_list if self.consent else ())
        items = [
            {"name": name, "description": i18n.scope_description(name)}
            for name in requested
        ]
        # Incremental consent: ask about what is new, mention what stays.
        context["scope_items"] = [i for i in items if i["name"] not in granted]
        context["granted_items"] = [i for i in items if i["name"] in granted]
        # RFC 8707: the one resource server the token will be for (validated).
        context["resource_server"] = audience.server_for(kwargs.get("resource"))
        # A client that registered itself: say so, and by what it is known.
        context["registration"] = registration.registration_notice(
            kwargs.get("application")
        )
        return context


class DiscoveryMixin:
    """What both discovery documents add to DOT's: every endpoint we really offer."""

    def extra_metadata(self, request: HttpRequest) -> dict[str, object]:
        auth_methods = list(capabilities.CLIENT_AUTH_METHODS)
        public = capabilities.PUBLIC_CLIENT_AUTH_METHOD
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
            "grant_types_supported": list(capabilities.GRANT_TYPES),
            "response_types_supported": list(capabilities.RESPONSE_TYPES),
            "response_modes_supported": list(capabilities.RESPONSE_MODES),
            "code_challenge_methods_supported": list(capabilities.PKCE_METHODS),
            "scopes_supported": list(capabilities.SCOPES),
            "token_endpoint_auth_methods_supported": [*auth_methods, public],
            "revocation_endpoint_auth_methods_supported": [*auth_methods, public],
            "introspection_endpoint_auth_methods_supported": auth_methods,
            "authorization_response_iss_parameter_supported": True,
            "prompt_values_supported": list(capabilities.PROMPT_VALUES),
            # OIDC Discovery §3, RFC 8414 §2: the languages `ui_locales` may pick.
            "ui_locales_supported": i18n.supported_languages(),
            # OIDC Discovery §3 defaults request_uri_parameter_supported to true when
            # absent; none of these are offered. `claims` is accepted but ignored.
            "claims_parameter_supported": False,
            "request_parameter_supported": False,
            "request_uri_parameter_supported": False,
            "id_token_signing_alg_values_supported": list(
                capabilities.ID_TOKEN_SIGNING_ALGORITHMS
            ),
            "subject_types_supported": oauth2_settings.OIDC_SUBJECT_TYPES_SUPPORTED,
            "service_documentation": request.build_absolute_uri(reverse("home")),
        }

    def registration_metadata(self, request: HttpRequest) -> dict[str, object]:
        """How clients register themselves, as the admin's policy says today."""
        policy = RegistrationPolicy.load()
        data: dict[str, object] = {
            "client_id_metadata_document_supported": (
                oauth2_settings.CIMD_ENABLED and policy.cimd_enabled
            ),
        }
        if oauth2_settings.DCR_ENABLED and policy.dcr_open:
            data["registration_endpoint"] = self._get_endpoint_url(
                request, "dcr-register", required=True
            )
        return data

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        data.update(self.extra_metadata(request))
        data.pop("registration_endpoint", None)  # DOT's: whatever the policy says
        data.update(self.registration_metadata(request))
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


class RPInitiatedLogoutView(dot_views.RPInitiatedLogoutView):
    """RP-initiated logout; an unknown `client_id` is an error page, not a 500, and
    "Stay signed in" a page with ways back, not an error.

    DOT looks the client up with `objects.get()`, so an unknown id raised
    DoesNotExist, and one with a NUL byte a DataError on PostgreSQL.
    """

    def form_valid(self, form):
        """Staying signed in ("Cancel") is a page that says so, not DOT's error."""
        if form.cleaned_data.get("allow"):
            return super().form_valid(form)
        try:
            application, token_user = self.validate_logout_request(
                id_token_hint=form.cleaned_data.get("id_token_hint"),
                client_id=form.cleaned_data.get("client_id"),
                post_logout_redirect_uri=form.cleaned_data.get(
                    "post_logout_redirect_uri"
                ),
            )
        except OIDCError as error:
            return self.error_response(error)
        if not self.must_prompt(token_user):
            return super().form_valid(form)
        return self.response_class(
            request=self.request,
            template=["oauth_server/logout_cancelled.html"],
            context={"application": application},
        )

    def get_request_application(self, id_token, client_id):
        if not client_id:
            return super().get_request_application(id_token, client_id)
        if "\x00" in client_id:
            raise InvalidOIDCClientError()
        application = Application.objects.filter(client_id=client_id).first()
        if application is None:
            raise InvalidOIDCClientError()
        return application


class TokenView(NonAtomicViewMixin, OAuthEndpointMixin, dot_views.TokenView):
    """The token endpoint (RFC 6749 §3.2).

    Each request is one transaction of its own, whatever ATOMIC_REQUESTS says: the
    validator decides one-time use under row locks that must be held until the
    tokens are stored, and a refusal that revokes (a replayed code or refresh token)
    commits with its error response. An OAuth error raised after a write rolls it
    back and still answers RFC 6749 §5.2 JSON.

    Every grant goes through oauthlib. DOT sends the device grant to its own view
    code instead, which looks the grant up by the raw device code, answers a missing
    one with a 500 and an unknown one with a 404, and never uses the code up; ours
    checks the code in oauthlib's grant (oauth_server/device.py).
    """

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.POST.get("grant_type") == "client_credentials":
            # Nothing one-time to lock: one INSERT, atomic on its own.
            try:
                return self.authorization_flow_token_response(request)
            except errors.OAuth2Error as error:
                return oauth_error(error)
        with transaction.atomic():
            try:
                return self.authorization_flow_token_response(request)
            except errors.OAuth2Error as error:
                transaction.set_rollback(True)
                return oauth_error(error)

    def authorization_flow_token_response(
        self, request: HttpRequest, *args, **kwargs
    ) -> HttpResponse:
        # What DOT's `sensitive_post_parameters` decorator sets, without a wrapper
        # built on every call: error reports leave these values out.
        request.sensitive_post_parameters = ("password", "client_secret")
        # DOT reads the token it has just stored back from the database, for its
        # `app_authorized` signal; we pay for that read only when someone listens.
        if app_authorized.has_listeners():
            return super().authorization_flow_token_response(request, *args, **kwargs)
        _url, headers, body, status = self.create_token_response(request)
        response = HttpResponse(content=body, status=status)
        for name, value in headers.items():
            response[name] = value
        return response


class RevokeTokenView(OAuthEndpointMixin, dot_views.RevokeTokenView):
    """Token revocation (RFC 7009)."""


class TokenCachePrefetchMixin:
    """Reads the caller's client entry and the introspected token's in one round trip.

    Placed after OAuthEndpointMixin, so a request its checks refuse never gets here
    and the form body has parsed; before DOT's dispatch, whose client
    authentication and `post` look both up (`token_cache.prefetched`). Only names
    are taken here: whatever they are, the checks that follow judge them.
    """

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method != "POST":
            return super().dispatch(request, *args, **kwargs)
        try:
            credentials = basic_credentials(request)
        except ValueError:
            credentials = None
        client_id = credentials[0] if credentials else request.POST.get("client_id")
        with token_cache.prefetched(
            client_id=client_id, token=request.POST.get("token")
        ):
            return super().dispatch(request, *args, **kwargs)


# Read-only endpoints: out of ATOMIC_REQUESTS (no transaction to open and close).
class IntrospectTokenView(
    NonAtomicViewMixin,
    OAuthEndpointMixin,
    TokenCachePrefetchMixin,
    dot_views.IntrospectTokenView,
):
    """RFC 7662 introspection for clients allowed the `introspection` scope.

    DOT lets any authenticated client introspect; we require the scope on the client
    (or on the bearer token it presents, in the Authorization header), POST only
    (tokens stay out of URLs), and answer refresh tokens as well as access tokens.
    """

    http_method_names = ["post", "options"]
    bearer_in_header_only = True

    def authenticate_client(self, request: HttpRequest) -> bool:
        # DOT's own authenticate_client answers yes or no; the client it found is
        # needed too, for its scope. The oauthlib request is built from DOT's public
        # extractors; the parameters are the form body's (RFC 7662 §2.1): client
        # credentials in the URL do not count, as at the token and revocation
        # endpoints.
        core = self.get_oauthlib_core()
        oauth_request = OAuthlibRequest(
            request.build_absolute_uri(request.path),
            http_method=request.method,
            # Parameters and headers are already str: no per-value decoding, and the
            # body as pairs, not urlencoded to be parsed again.
            body=core.extract_body(request),
            headers=core.extract_headers(request),
            encoding=None,
        )
        try:
            if not core.server.request_validator.authenticate_client(oauth_request):
                return False
        except errors.InvalidClientError:
            return False
        return scopes.INTROSPECTION in oauth_request.client.allowed_scope_list

    def unauthenticated_response(self, request, oauthlib_request=None) -> HttpResponse:
        # A 401: OAuthEndpointMixin adds the HTTP Basic challenge.
        return oauth_error(
            errors.InvalidClientError(
                description="Authenticate as a client allowed the introspection scope."
            )
        )

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        value = request.POST.get("token")
        if not value:
            return oauth_error(
                errors.InvalidRequestError(
                    description="The token parameter is missing."
                )
            )
        token = selectors.live_token(value=value)
        if token is None:
            return JsonResponse({"active": False})
        data = {
            "active": True,
            "iat": calendar.timegm(token.created.utctimetuple()),
            "iss": oauth2_settings.oauth2_authorization_server_issuer(request),
        }
        if isinstance(token, AbstractRefreshToken):
            data.update(token_type="refresh_token", scope=token.access_token.scope)
            if expires := refresh_token_expires(token):
                data["exp"] = calendar.timegm(expires.utctimetuple())
        else:
            data.update(
                token_type="Bearer",
                scope=token.scope,
                exp=calendar.timegm(token.expires.utctimetuple()),
            )
            if token.resource:
                # RFC 7662 §2.2 / RFC 8707: the resource(s) the token is for.
                data["aud"] = token.resource
            if delegation := getattr(token, "delegation", None):
                # RFC 8693 §4.1: who acts for the user (`sub`).
                data["act"] = {"client_id": delegation.actor.client_id}
        if token.application:
            data["client_id"] = token.application.client_id
        if token.user:
            data["sub"] = str(token.user.pk)
            data["username"] = token.user.get_username()
        return JsonResponse(data)


class UserInfoView(NonAtomicViewMixin, JSONEndpointMixin, dot_views.UserInfoView):
    """OIDC userinfo: the access token in the Authorization header only, never cached.

    oauthlib's userinfo endpoint also takes `access_token` from the query string or a
    form body (RFC 6750 §2.2-2.3); DOT's ACCESS_TOKEN_TRANSPORT gate covers only the
    resource side (`verify_request`), so such a request is refused here, valid token
    or not (RFC 6750 §5.3, RFC 9700 §4.3.2). DOT sends oauthlib's JSON errors as
    text/html; they are application/json here (JSONEndpointMixin).
    """

    bearer_in_header_only = True

    @csrf_exempt_dispatch  # as_view() reads the outermost dispatch
    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return no_store(super().dispatch(request, *args, **kwargs))

    def token_outside_header_response(self) -> HttpResponse:
        response = super().token_outside_header_response()
        response["WWW-Authenticate"] = (
            f'Bearer error="invalid_request", error_description="{TOKEN_IN_HEADER}"'
        )
        return response


class LoginView(DjangoLoginView):
    """The sign-in form (`username`, `password`).

    Rapid password guessing is refused by django-axes (oauth_server/sign_in.py),
    which guards every form that authenticates, the admin's included.
    """

    template_name = "oauth_server/login.html"

    @property
    def redirect_authenticated_user(self) -> bool:
        # A signed-in user is sent on, unless the authorize endpoint asks for a fresh
        # sign-in (prompt=login, max_age); a POST always checks the password.
        return (
            self.request.method == "GET" and self.request.GET.get("prompt") != "login"
        )

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # The form posts `next` in its body, which the locale middleware leaves
        # alone: a failed sign-in (or the lockout page) stays in the flow's language.
        i18n.activate_for_next(request.POST.get(self.redirect_field_name, ""))
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # The CSP middleware reads `application` to allow its logo's origin.
        context["application"] = selectors.application_asking(
            next_url=context.get("next") or ""
        )
        context["registration"] = registration.registration_notice(
            context["application"]
        )
        return context


class HomeView(TemplateView):
    """Landing page: where things are, for people who arrive with a browser."""

    template_name = "oauth_server/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["scopes"] = scopes.SCOPES
        return context
