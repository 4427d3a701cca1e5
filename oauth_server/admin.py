"""Admin of the authorization server's own models (applications: application_admin)."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from oauth_server import registration
from oauth_server.models import AuditEvent, RegistrationPolicy


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit log, read-only: events are written by the changes they record."""

    list_display = ("created", "event", "username", "client_id", "address")
    list_filter = ("event", ("created", admin.DateFieldListFilter))
    search_fields = ("username", "client_id")
    date_hierarchy = "created"
    readonly_fields = [field.name for field in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: AuditEvent | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: AuditEvent | None = None
    ) -> bool:
        return False


@admin.register(RegistrationPolicy)
class RegistrationPolicyAdmin(admin.ModelAdmin):
    """The one registration policy: the list goes straight to its form."""

    fieldsets = [
        (
            _("Dynamic registration (RFC 7591)"),
            {"fields": ["dcr_open", "public_clients_only"]},
        ),
        (_("Client ID metadata documents"), {"fields": ["cimd_enabled"]}),
        (
            _("Every self-registered client"),
            {"fields": ["scopes", "registrations_per_hour", "unused_days"]},
        ),
    ]

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        policy = RegistrationPolicy.load()
        opts = self.model._meta
        return HttpResponseRedirect(
            reverse(
                f"admin:{opts.app_label}_{opts.model_name}_change", args=[policy.pk]
            )
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: RegistrationPolicy | None = None
    ) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        # Registered clients lose at once the scopes the policy no longer allows.
        registration.registration_policy_save(policy=obj, request=request)
