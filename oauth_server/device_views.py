"""Device authorization (RFC 8628 §3.1-3.3): the device's endpoint, the person's page."""

import json
import logging
from datetime import timedelta
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from oauth2_provider import views as dot_views
from oauth2_provider.models import get_device_grant_model
from oauth2_provider.oauth2_backends import OAuthLibCore
from oauth2_provider.scopes import get_scopes_backend
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views.device import DeviceGrantForm
from oauthlib.oauth2.rfc6749 import errors

from oauth_server import audit, device, scopes, user_codes
from oauth_server.http import OAuthEndpointMixin, oauth_error
from oauth_server.models import Application

logger = logging.getLogger(__name__)

FORM_URLENCODED = "application/x-www-form-urlencoded"


def form_content_error(request: HttpRequest) -> errors.InvalidRequestError | None:
    """An error unless the body is form-urlencoded UTF-8 (RFC 6749 Appendix B)."""
    charset = request.content_params.get("charset", "utf-8")
    if request.content_type != FORM_URLENCODED or charset.lower() != "utf-8":
        return errors.InvalidRequestError(
            description=f"Send the parameters as {FORM_URLENCODED} in UTF-8."
        )
    return None


class DeviceAuthorizationCore(OAuthLibCore):
    """What oauthlib sees of a device authorization request: the bare media type.

    oauthlib 3.3.1 compares Content-Type as an exact string and so refuses the
    `; charset=UTF-8` standard clients add; the view has checked the charset.
    """

    def extract_headers(self, request: HttpRequest) -> dict[str, str]:
        headers = super().extract_headers(request)
        headers["Content-Type"] = request.content_type
        return headers


class DeviceAuthorizationView(OAuthEndpointMixin, dot_views.DeviceAuthorizationView):
    """RFC 8628 §3.1-3.2: a device code for registered device clients only.

    DOT stores the device code as issued, lets any client in, and answers an
    unknown one `invalid_request`; here an unknown client is `invalid_client`, one
    registered for another grant `unauthorized_client` (RFC 6749 §5.2), requested
    scopes must be within the application's allowance, the code is stored hashed,
    and verification URIs are absolute on the issuer's origin.
    """

    oauthlib_backend_class = DeviceAuthorizationCore

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if error := form_content_error(request):
            return oauth_error(error)
        client_id = request.POST.get("client_id", "")
        app = (
            Application.objects.filter(client_id=client_id).first()
            if client_id
            else None
        )
        if client_id and (app is None or not app.is_usable(request)):
            return oauth_error(errors.InvalidClientError(description="Unknown client."))
        # oauthlib: a client_id, no duplicates, client authentication if confidential.
        headers, body, status = self.create_device_authorization_response(request)
        if status != 200:
            return JsonResponse(
                json.loads(body),
                status=status,
                headers={**headers, "Cache-Control": "no-store"},
            )
        if not app.allows_grant_type(app.GRANT_DEVICE_CODE):
            logger.warning("device authorization refused client=%s", app.client_id)
            return oauth_error(
                errors.UnauthorizedClientError(
                    description="This client is not registered for the device grant."
                )
            )
        requested = scopes.parse(request.POST.get("scope", ""))
        if not set(requested) <= set(app.allowed_scope_list):
            return oauth_error(errors.InvalidScopeError())
        granted = requested or get_scopes_backend().get_default_scopes(
            application=app, request=request
        )
        grant = device.device_grant_create(
            client_id=app.client_id,
            scope=" ".join(granted),
            device_code=body["device_code"],
            user_code=body["user_code"],
            expires_in=body["expires_in"],
        )
        # Relative in settings; absolute on the issuer's origin (CanonicalOrigin).
        base = request.build_absolute_uri(oauth2_settings.OAUTH_DEVICE_VERIFICATION_URI)
        data = {
            "device_code": body["device_code"],  # the only copy of the raw code
            "user_code": grant.user_code,
            "verification_uri": base,
            "verification_uri_complete": (
                f"{base}?{urlencode({'user_code': grant.user_code})}"
            ),
            "expires_in": body["expires_in"],
            "interval": body.get("interval", oauth2_settings.DEVICE_FLOW_INTERVAL),
        }
        return JsonResponse(data, headers={"Cache-Control": "no-store"})


class UserCodeForm(DeviceGrantForm):
    """The user code as a person types it: any case, with or without spaces and dash."""

    user_code = forms.CharField(max_length=64)

    def clean_user_code(self) -> str:
        user_code = user_codes.normalize(self.cleaned_data["user_code"])
        # The newest grant with this code: codes are unique among live grants.
        grant = (
            get_device_grant_model()
            .objects.filter(user_code=user_code)
            .order_by("-pk")
            .first()
        )
        if grant is None:
            raise ValidationError(_("Incorrect user code"), code="incorrect_user_code")
        if device.grant_is_expired(grant):
            raise ValidationError(_("Expired user code"), code="expired_user_code")
        if grant.status != grant.AUTHORIZATION_PENDING:
            raise ValidationError(
                _("User code has already been used"), code="user_code_already_used"
            )
        self.cleaned_data["device_grant"] = grant
        return user_code


class DeviceUserCodeView(dot_views.DeviceUserCodeView):
    """Where a person enters the code their device shows (RFC 8628 §3.3).

    Wrong codes are counted per user and per client address (RFC 8628 §5.1); past
    the limit the page answers 429 and says when to try again.
    """

    form_class = UserCodeForm

    def get_initial(self) -> dict[str, str]:
        initial = super().get_initial()
        initial["user_code"] = user_codes.normalize(initial["user_code"])[:64]
        return initial

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.attempt = device.UserCodeAttempt.of(request)
        if (retry_after := self.attempt.retry_after()) is not None:
            minutes = -(-retry_after // 60)
            until = timezone.now() + timedelta(seconds=retry_after)
            context = self.get_context_data(
                form=self.get_form(),
                locked_out=ngettext(
                    "Too many wrong codes. Try again in %(minutes)d minute "
                    "(after %(until)s UTC).",
                    "Too many wrong codes. Try again in %(minutes)d minutes "
                    "(after %(until)s UTC).",
                    minutes,
                )
                % {"minutes": minutes, "until": f"{until:%H:%M}"},
            )
            response = self.render_to_response(context, status=429)
            response["Retry-After"] = str(retry_after)
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: UserCodeForm) -> HttpResponse:
        self.attempt.record_failure()
        return super().form_invalid(form)


class DeviceConfirmView(dot_views.DeviceConfirmView):
    """Where the person allows or denies the device; the decision is audited.

    DOT saves the grant's new status; the consent event is written in the same
    transaction, so a decision exists exactly when its event does.
    """

    DECISIONS = {
        "accept": audit.Event.CONSENT_GRANTED,
        "deny": audit.Event.CONSENT_DENIED,
    }

    @transaction.atomic
    def form_valid(self, form: forms.Form) -> HttpResponse:
        grant = self.get_object()
        response = super().form_valid(form)
        if event := self.DECISIONS.get(form.cleaned_data["action"]):
            audit.record(
                event,
                request=self.request,
                user=self.request.user,
                application=Application.objects.filter(
                    client_id=grant.client_id
                ).first(),
                scopes=scopes.parse(grant.scope or ""),
                device=True,
            )
        return response
