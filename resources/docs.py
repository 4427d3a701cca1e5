"""Swagger UI pages whose OAuth "Authorize" popup can talk back to the page.

Swagger UI opens our `/o/authorize/` in a popup, and the popup's last page
(`oauth2-redirect.html`) hands the code to `window.opener`. Django sends
`Cross-Origin-Opener-Policy: same-origin` on the login and consent pages; a popup
keeps its opener only if every page in it has the same policy as the opening page.
drf-spectacular serves Swagger UI with `unsafe-none`, and its redirect view points at
a static file served without the header, so the opener was lost and "Authorize"
never finished. Both pages here carry the site's policy instead; this works
because the docs and the authorization server share one origin.
"""

from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.templatetags.static import static
from django.views import View
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.renderers import JSONRenderer

SIDECAR = "drf_spectacular_sidecar/swagger-ui-dist/"


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema (YAML, or JSON on request); its errors are JSON.

    drf-spectacular renders everything with its schema renderers, so a 405 or 406
    came back as YAML labelled as an OpenAPI document.
    """

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code >= 400:
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = JSONRenderer.media_type
        return response


class SwaggerView(SpectacularSwaggerView):
    """drf-spectacular's Swagger UI with the site's opener policy."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cross-Origin-Opener-Policy"] = (
            settings.SECURE_CROSS_ORIGIN_OPENER_POLICY
        )
        return response


@cache
def _redirect_page() -> str:
    path = finders.find(SIDECAR + "oauth2-redirect.html")
    if path is None:
        raise ImproperlyConfigured(
            "Swagger UI's oauth2-redirect.html was not found: install "
            "drf-spectacular-sidecar and add it to INSTALLED_APPS."
        )
    html = Path(path).read_text()
    # The page loads its script relatively; point it at the static file.
    return html.replace(
        'src="oauth2-redirect.js"', f'src="{static(SIDECAR + "oauth2-redirect.js")}"'
    )


class SwaggerOAuth2RedirectView(View):
    """Swagger UI's `oauth2-redirect.html`, served by Django at `./oauth2-redirect.html`."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse(_redirect_page())
