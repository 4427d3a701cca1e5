"""Dynamic client registration endpoints (RFC 7591 §3, RFC 7592 §2).

DOT's views, answering through our policy and services (oauth_server/registration.py):
DOT's own create a client from any metadata and record nothing. Its
`_authenticate_registration_request` (the registration access token, its scope,
the client it belongs to) is kept for RFC 7592.
"""

import json

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from oauth2_provider import views as dot_views
from oauth2_provider.settings import oauth2_settings

from oauth_server import capabilities, registration
from oauth_server.http import no_store
from oauth_server.models import Application, RegistrationPolicy


def error_response(error: registration.RegistrationError) -> JsonResponse:
    """An RFC 7591 §3.2.2 error: JSON, never cached."""
    response = no_store(JsonResponse(error.as_dict(), status=error.status))
    if error.status == 429:
        response["Retry-After"] = str(registration.RATE_WINDOW_SECONDS)
    return response


def parse_body(request: HttpRequest) -> object:
    """The JSON body; one too large for Django's limit is refused like bad JSON."""
    try:
        return json.loads(request.body)
    except (ValueError, RecursionError, RequestDataTooBig):
        raise registration.RegistrationError(
            "invalid_client_metadata", "The request body must be JSON."
        ) from None


def client_metadata(
    app: Application, request: HttpRequest, *, token: str | None
) -> dict[str, object]:
    """The client information response of RFC 7591 §3.2.1 and RFC 7592 §3."""
    path = reverse(
        "oauth2_provider:dcr-register-management",
        kwargs={"client_id": app.client_id},
    )
    issuer = oauth2_settings.oauth2_authorization_server_issuer(request)
    public = app.client_type == Application.CLIENT_PUBLIC
    data = {
        "client_id": app.client_id,
        "client_id_issued_at": int(app.created.timestamp()),
        "client_name": app.name,
        "redirect_uris": app.redirect_uris.split(),
        "grant_types": [capabilities.AUTHORIZATION_CODE, capabilities.REFRESH_TOKEN],
        "response_types": list(capabilities.RESPONSE_TYPES),
        "token_endpoint_auth_method": (
            capabilities.PUBLIC_CLIENT_AUTH_METHOD
            if public
            else capabilities.CLIENT_AUTH_METHODS[0]
        ),
        "scope": " ".join(app.allowed_scope_list),
        "registration_client_uri": f"{issuer}{path}",
    }
    if app.contacts:
        data["contacts"] = app.contacts
    if token:
        data["registration_access_token"] = token
    return data


class RegistrationView(dot_views.DynamicClientRegistrationView):
    """POST a client's metadata, get a client_id (RFC 7591 §3.1)."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        policy = RegistrationPolicy.load()
        try:
            if not policy.dcr_open:
                raise registration.RegistrationError(
                    "access_denied",
                    "Dynamic client registration is closed on this server; ask its "
                    "administrator to register your application.",
                    status=403,
                )
            if registration.registration_rate_exceeded(
                request=request, limit=policy.registrations_per_hour
            ):
                raise registration.RegistrationError(
                    "temporarily_unavailable",
                    "Too many registrations from this address; try again later.",
                    status=429,
                )
            registered = registration.registration_create(
                metadata=parse_body(request), policy=policy, request=request
            )
        except registration.RegistrationError as error:
            return error_response(error)
        data = client_metadata(
            registered.application,
            request,
            token=registered.registration_access_token,
        )
        if registered.client_secret:
            data["client_secret"] = registered.client_secret
            data["client_secret_expires_at"] = 0  # never
        return no_store(JsonResponse(data, status=201))


class RegistrationManagementView(dot_views.DynamicClientRegistrationManagementView):
    """Read, replace or delete a registration with its access token (RFC 7592 §2)."""

    def get(
        self, request: HttpRequest, client_id: str, *args, **kwargs
    ) -> HttpResponse:
        auth = self._authenticate_registration_request(request, client_id)
        if isinstance(auth, HttpResponse):
            return auth
        data = client_metadata(auth.application, request, token=auth.presented_token)
        return no_store(JsonResponse(data))

    def put(
        self, request: HttpRequest, client_id: str, *args, **kwargs
    ) -> HttpResponse:
        auth = self._authenticate_registration_request(request, client_id)
        if isinstance(auth, HttpResponse):
            return auth
        try:
            new_token = registration.registration_update(
                application=auth.application,
                metadata=parse_body(request),
                policy=RegistrationPolicy.load(),
                request=request,
            )
        except registration.RegistrationError as error:
            return error_response(error)
        token = new_token or auth.presented_token
        return no_store(
            JsonResponse(client_metadata(auth.application, request, token=token))
        )

    def delete(
        self, request: HttpRequest, client_id: str, *args, **kwargs
    ) -> HttpResponse:
        auth = self._authenticate_registration_request(request, client_id)
        if isinstance(auth, HttpResponse):
            return auth
        registration.registration_delete(
            application=auth.application, request=request, reason="rfc7592"
        )
        return no_store(HttpResponse(status=204))
