"""Admin for registered applications (DOT's `APPLICATION_ADMIN_CLASS`).

Not `admin.py`: DOT's admin module imports this class while it registers models, so
Django's admin autodiscovery must not import it first (circular import).
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from oauth2_provider.admin import ApplicationAdmin as DOTApplicationAdmin
from oauth2_provider.forms import ApplicationForm as DOTApplicationForm

from oauth_server import audit, capabilities, services
from oauth_server.models import Application


class ContactsField(forms.CharField):
    """Email addresses, one per line, stored as the model's JSON list."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value: object) -> object:
        if isinstance(value, list):
            return "\n".join(str(item) for item in value)
        return value

    def to_python(self, value: object) -> list[str]:
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class ApplicationForm(DOTApplicationForm):
    """DOT's form, offering only the grants and signing algorithm we support."""

    contacts = ContactsField(
        required=False, help_text=_("Email addresses, one per line.")
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        offered = set(capabilities.APPLICATION_GRANT_TYPES.values())
        grant = self.fields.get("authorization_grant_type")
        if grant is not None:
            grant.choices = [c for c in grant.choices if c[0] in offered]
        algorithm = self.fields.get("algorithm")
        if algorithm is not None:
            signing = {
                Application.NO_ALGORITHM,
                *capabilities.ID_TOKEN_SIGNING_ALGORITHMS,
            }
            algorithm.choices = [c for c in algorithm.choices if c[0] in signing]
            # DOT's live HS256 warnings have nothing to warn about here.
            for field in self.fields.values():
                field.widget.attrs = {
                    key: value
                    for key, value in field.widget.attrs.items()
                    if "hs256" not in key
                }
            if not self.instance.pk:
                # New applications sign ID tokens (needed for the openid scope).
                algorithm.initial = capabilities.ID_TOKEN_SIGNING_ALGORITHMS[0]


class ScopeRequestFilter(admin.SimpleListFilter):
    """Applications whose developer requested scopes no administrator decided on."""

    title = _("scope request pending")
    parameter_name = "scope_request"

    def lookups(self, request, model_admin):
        return [("pending", _("Yes")), ("none", _("No"))]

    def queryset(self, request, queryset: QuerySet[Application]):
        if self.value() == "pending":
            return queryset.exclude(requested_scopes="")
        if self.value() == "none":
            return queryset.filter(requested_scopes="")
        return queryset


class ApplicationAdmin(DOTApplicationAdmin):
    """DOT's application admin, with our fields in the list and https URLs by default."""

    form = ApplicationForm
    list_display = (
        "name",
        "client_id",
        "client_type",
        "authorization_grant_type",
        "allowed_scopes",
        "requested_scopes",
        "user",
        "is_active",
        "registration_source",  # admin (manual), dcr or cimd
    )
    list_select_related = ("user",)
    list_filter = (ScopeRequestFilter, "is_active", *DOTApplicationAdmin.list_filter)
    search_fields = ("name", "client_id", "user__username")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    actions = ["approve_scopes", "decline_scopes", "rotate_secret", "deactivate"]

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        # Field names only: a changed client_secret is recorded, never its value.
        audit.record(
            audit.Event.APPLICATION_CHANGED
            if change
            else audit.Event.APPLICATION_CREATED,
            request=request,
            user=request.user,
            application=obj,
            fields=list(form.changed_data),
        )

    @admin.action(description=_("Approve requested scopes"))
    def approve_scopes(self, request: HttpRequest, queryset) -> None:
        """Allow each selected application the scopes its developer requested."""
        self._decide(request, queryset, services.application_scopes_approve)

    @admin.action(description=_("Decline requested scopes"))
    def decline_scopes(self, request: HttpRequest, queryset) -> None:
        """Clear the selected applications' requests; what they may obtain stays."""
        self._decide(request, queryset, services.application_scopes_decline)

    def _decide(self, request: HttpRequest, queryset, decide) -> None:
        decided = 0
        for app in queryset.order_by("name"):
            try:
                if decide(client_id=app.client_id, request=request):
                    decided += 1
            except ValidationError as exc:
                self.message_user(
                    request, f"{app.name}: {' '.join(exc.messages)}", messages.ERROR
                )
        if decided:
            self.message_user(
                request,
                ngettext(
                    "Decided the scope request of %(count)d application.",
                    "Decided the scope requests of %(count)d applications.",
                    decided,
                )
                % {"count": decided},
            )
        else:
            self.message_user(
                request,
                _("None of the selected applications requested scopes."),
                messages.WARNING,
            )

    @admin.action(description=_("Deactivate and revoke all tokens"))
    def deactivate(self, request, queryset) -> None:
        for app in queryset:
            services.application_deactivate(client_id=app.client_id, request=request)
        count = queryset.count()
        self.message_user(
            request,
            ngettext(
                "Deactivated %(count)d application.",
                "Deactivated %(count)d applications.",
                count,
            )
            % {"count": count},
        )

    @admin.action(description=_("Rotate the client secret (shown once)"))
    def rotate_secret(self, request, queryset) -> HttpResponse | None:
        """New secrets for the selected confidential applications, on one page that
        is never stored; the old secrets stop working at once. Public clients,
        which have no secret, are named and left alone."""
        rotated, skipped = [], []
        for app in queryset.order_by("name"):
            try:
                rotated.append(
                    services.application_rotate_secret(
                        client_id=app.client_id, request=request
                    )
                )
            except ValidationError:
                skipped.append(app)
        if not rotated:
            self.message_user(
                request, _("Public clients have no secret to rotate."), messages.WARNING
            )
            return None
        response = TemplateResponse(
            request,
            "admin/oauth_server/application/rotated_secrets.html",
            {
                **self.admin_site.each_context(request),
                "title": _("New client secrets"),
                "opts": self.model._meta,
                "rotated": rotated,
                "skipped": skipped,
            },
        )
        add_never_cache_headers(response)
        return response
