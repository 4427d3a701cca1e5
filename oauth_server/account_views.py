"""The account area: profile, connected applications, personal access tokens."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.generic import FormView, TemplateView

from oauth_server import i18n, personal_tokens, scopes, selectors, services
from oauth_server.forms import PersonalTokenForm
from oauth_server.models import Application, PersonalAccessToken


class AccountView(LoginRequiredMixin, TemplateView):
    """Who is signed in: username, name and email, recent security events, and
    where the rest is."""

    template_name = "oauth_server/account.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["events"] = selectors.security_events(user=self.request.user, limit=10)
        return context


class ConnectedAppsView(LoginRequiredMixin, TemplateView):
    """Applications with access to the account: one entry each, with what it may do."""

    template_name = "oauth_server/connected_apps.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["connected"] = selectors.connected_applications(user=self.request.user)
        return context


class RemoveAccessView(LoginRequiredMixin, TemplateView):
    """Confirm (GET), then remove (POST) one application's access to the account.

    Removing forgets the remembered consent and revokes every token and unused code
    the application holds for this user, in one step; its next API call fails.
    """

    template_name = "oauth_server/remove_access.html"

    def entry(self) -> selectors.ConnectedApplication:
        application = get_object_or_404(Application, pk=self.kwargs["pk"])
        for entry in selectors.connected_applications(user=self.request.user):
            if entry.application.pk == application.pk:
                return entry
        raise Http404(_("This application has no access to your account."))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["entry"] = self.entry()
        return context

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        application = self.entry().application
        services.consent_withdraw(
            user=request.user, application=application, request=request
        )
        messages.success(
            request,
            _(
                "%(application)s no longer has access to your account. "
                "It will ask again if you sign in to it."
            )
            % {"application": application.name},
        )
        return redirect("oauth2_provider:connected-apps")


def scope_words(scope: str) -> list[tuple[str, str]]:
    """(name, what it allows in words) for each scope in a space-separated string."""
    return [(name, i18n.scope_description(name)) for name in scopes.parse(scope)]


class PersonalTokensView(LoginRequiredMixin, FormView):
    """List the user's personal tokens (GET) and create one (POST).

    A created token is shown once, in the response to the POST, which no cache may
    keep; later pages show only its first characters.
    """

    template_name = "oauth_server/personal_tokens.html"
    form_class = PersonalTokenForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["tokens"] = [
            (personal, scope_words(personal.access_token.scope))
            for personal in personal_tokens.personal_token_list(user=self.request.user)
        ]
        context["max_days"] = personal_tokens.MAX_LIFETIME_DAYS
        return context

    def form_valid(self, form: PersonalTokenForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            issued = personal_tokens.personal_token_create(
                user=self.request.user,
                name=data["name"],
                scope=data["scope"],
                expires_in_days=data["expires_in_days"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)  # the service's keys are the form's fields
            return self.form_invalid(form)
        response = self.render_to_response(
            self.get_context_data(
                form=self.form_class(),
                issued=issued,
                issued_scopes=scope_words(issued.personal.access_token.scope),
            )
        )
        add_never_cache_headers(response)  # Cache-Control: ... no-store ...
        return response


class RevokePersonalTokenView(LoginRequiredMixin, TemplateView):
    """Confirm (GET), then revoke (POST) one of the user's personal tokens."""

    template_name = "oauth_server/revoke_token.html"

    def personal(self) -> PersonalAccessToken:
        # Another user's token is as absent as one that never existed.
        return get_object_or_404(
            personal_tokens.personal_token_list(user=self.request.user),
            pk=self.kwargs["pk"],
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["personal"] = personal = self.personal()
        context["scopes"] = scope_words(personal.access_token.scope)
        return context

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        personal = self.personal()
        personal_tokens.personal_token_revoke(personal=personal)
        messages.success(
            request,
            _("The token “%(name)s” is revoked: programs using it are refused.")
            % {"name": personal.name},
        )
        return redirect("oauth2_provider:personal-tokens")
