"""The developer portal: people in the developers group register and manage their
own applications. Which scopes an application may use stays an administrator's
decision; developers request them (application_admin approves or declines).
"""

from django.contrib import messages
from django.contrib.auth.mixins import UserPassesTestMixin
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import QuerySet
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.generic import FormView, TemplateView

from oauth_server import developers, scopes, selectors, services
from oauth_server.forms import ApplicationChangeForm, ApplicationRegisterForm
from oauth_server.models import Application

# Model fields the portal's forms show under another name.
FORM_FIELD_OF = {"allowed_scopes": "requested_scopes"}


def add_service_errors(form: Form, error: ValidationError) -> None:
    """Put a service's `ValidationError` next to the fields it names; the rest on top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, field_errors in error.message_dict.items():
        field = FORM_FIELD_OF.get(field, field)
        form.add_error(
            field if field in form.fields and field != NON_FIELD_ERRORS else None,
            field_errors,
        )


def scope_rows(application: Application | None) -> dict[str, str]:
    """Scope name -> "allowed" or "requested", for the scope checkboxes."""
    if application is None:
        return {}
    return {
        **{name: "requested" for name in application.requested_scope_list},
        **{name: "allowed" for name in application.allowed_scope_list},
    }


class DeveloperRequiredMixin(UserPassesTestMixin):
    """Signed-out people go to sign in; signed-in non-developers get a 403 page."""

    def test_func(self) -> bool:
        return developers.is_developer(self.request.user)

    def handle_no_permission(self) -> HttpResponse:
        if not self.request.user.is_authenticated:
            return super().handle_no_permission()  # redirect to sign in, and back
        return TemplateResponse(
            self.request, "oauth_server/developer/forbidden.html", status=403
        )


class OwnApplicationMixin(DeveloperRequiredMixin):
    """One of the developer's own applications; anyone else's is a 404."""

    active_only = True

    def applications(self) -> QuerySet[Application]:
        return selectors.developer_applications(
            user=self.request.user, include_inactive=not self.active_only
        )

    def get_application(self) -> Application:
        if not hasattr(self, "_application"):
            self._application = get_object_or_404(
                self.applications(), pk=self.kwargs["pk"]
            )
        return self._application

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["application"] = self.get_application()  # also the logo's CSP source
        return context


def _scope_context(form: Form, application: Application | None) -> dict:
    rows = scope_rows(application)
    return {
        "scope_choices": [
            {
                "name": name,
                "words": words,
                "state": rows.get(name, ""),
                "checkbox": choice,
            }
            for (name, words), choice in zip(
                scopes.SCOPES.items(), form["requested_scopes"], strict=True
            )
        ]
    }


class ApplicationListView(DeveloperRequiredMixin, TemplateView):
    """The developer's applications."""

    template_name = "oauth_server/developer/app_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["applications"] = selectors.developer_applications(
            user=self.request.user
        )
        return context


class ApplicationRegisterView(DeveloperRequiredMixin, FormView):
    """Register an application; a confidential client's secret is shown once."""

    template_name = "oauth_server/developer/app_form.html"
    form_class = ApplicationRegisterForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(_scope_context(context["form"], None))
        return context

    def form_valid(self, form: ApplicationRegisterForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            registration = services.application_register(
                name=data["name"],
                client_type=data["client_type"],
                grant_type=data["authorization_grant_type"],
                scope="",
                requested_scope=" ".join(data["requested_scopes"]),
                redirect_uris=data["redirect_uris"],
                post_logout_redirect_uris=data["post_logout_redirect_uris"],
                description=data["description"],
                homepage_url=data["homepage_url"],
                logo_url=data["logo_url"],
                policy_url=data["policy_url"],
                owner=self.request.user,
                request=self.request,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        application = registration.application
        messages.success(
            self.request,
            _("%(name)s is registered.") % {"name": application.name},
        )
        if registration.client_secret is None:
            return redirect("oauth2_provider:developer-app", application.pk)
        return secret_page(self.request, registration)


def secret_page(
    request: HttpRequest, registration: services.Registration
) -> HttpResponse:
    """The one page that shows a client secret: never stored by any cache."""
    response = TemplateResponse(
        request,
        "oauth_server/developer/app_secret.html",
        {
            "application": registration.application,
            "client_secret": registration.client_secret,
        },
    )
    add_never_cache_headers(response)  # Cache-Control: ... no-store ...
    return response


class ApplicationDetailView(OwnApplicationMixin, TemplateView):
    """Client id, type, grant, allowed and requested scopes, state, and actions."""

    template_name = "oauth_server/developer/app_detail.html"
    active_only = False

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        application = context["application"]
        context["allowed"] = [
            (name, scopes.SCOPES[name]) for name in application.allowed_scope_list
        ]
        context["requested"] = [
            (name, scopes.SCOPES[name]) for name in application.requested_scope_list
        ]
        return context


class ApplicationChangeView(OwnApplicationMixin, FormView):
    """Change what people see of an application and which scopes it requests."""

    template_name = "oauth_server/developer/app_form.html"
    form_class = ApplicationChangeForm

    def get_initial(self) -> dict:
        application = self.get_application()
        return {
            "name": application.name,
            "redirect_uris": application.redirect_uris.split(),
            "post_logout_redirect_uris": application.post_logout_redirect_uris.split(),
            "logo_url": application.logo_url,
            "homepage_url": application.homepage_url,
            "policy_url": application.policy_url,
            "description": application.description,
            "requested_scopes": application.requested_scope_list,
        }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(_scope_context(context["form"], self.get_application()))
        return context

    def form_valid(self, form: ApplicationChangeForm) -> HttpResponse:
        application = self.get_application()
        data = form.cleaned_data
        try:
            services.application_change(
                client_id=application.client_id,
                name=data["name"],
                redirect_uris=data["redirect_uris"],
                post_logout_redirect_uris=data["post_logout_redirect_uris"],
                description=data["description"],
                homepage_url=data["homepage_url"],
                logo_url=data["logo_url"],
                policy_url=data["policy_url"],
                requested_scope=" ".join(data["requested_scopes"]),
                request=self.request,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Your changes are saved."))
        return redirect("oauth2_provider:developer-app", application.pk)


class ApplicationRotateSecretView(OwnApplicationMixin, TemplateView):
    """Confirm (GET), then give a confidential application a new secret (POST)."""

    template_name = "oauth_server/developer/app_rotate.html"

    def applications(self) -> QuerySet[Application]:
        # Public clients have no secret: nothing to rotate, so no such page.
        return (
            super().applications().filter(client_type=Application.CLIENT_CONFIDENTIAL)
        )

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        registration = services.application_rotate_secret(
            client_id=self.get_application().client_id, request=request
        )
        return secret_page(request, registration)


class ApplicationDeactivateView(OwnApplicationMixin, TemplateView):
    """Confirm (GET), then switch an application off and revoke its tokens (POST)."""

    template_name = "oauth_server/developer/app_deactivate.html"

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        application = services.application_deactivate(
            client_id=self.get_application().client_id, request=request
        )
        messages.success(
            request,
            _("%(name)s is deactivated: its tokens are revoked.")
            % {"name": application.name},
        )
        return redirect("oauth2_provider:developer-app", application.pk)
