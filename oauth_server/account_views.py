"""The pages where people see and take back what they allowed applications."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import TemplateView

from oauth_server import selectors, services
from oauth_server.models import Application


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
        raise Http404("This application has no access to your account.")

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
            f"{application.name} no longer has access to your account. "
            "It will ask again if you sign in to it.",
        )
        return redirect("oauth2_provider:connected-apps")
