"""The API documentation pages: Swagger UI and ReDoc, local and under the site's CSP.

Swagger UI's OAuth "Authorize" popup must talk back to the page.

Swagger UI opens our `/o/authorize/` in a popup, and the popup's last page
(`oauth2-redirect.html`) hands the code to `window.opener`. Django sends
`Cross-Origin-Opener-Policy: same-origin` on the login and consent pages; a popup
keeps its opener only if every page in it has the same policy as the opening page.
drf-spectacular serves Swagger UI with `unsafe-none`, and its redirect view points at
a static file served without the header, so the opener was lost and "Authorize"
never finished. Both pages here carry the site's policy instead; this works
because the docs and the authorization server share one origin.

Both pages run under the site's Content-Security-Policy: their inline script carries
the per-response nonce. ReDoc injects style elements while its bundle loads, before
any nonce could reach it, and builds its search worker from a `blob:` URL, so its
page allows inline styles and blob workers; it would also fetch Google Fonts (left
out of its page: it falls back to local fonts) and Redocly's logo from their CDN
(replaced in the bundle we serve).
"""

from functools import cache
from pathlib import Path

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace, csp_update
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer
from rest_framework.settings import api_settings

SIDECAR = "drf_spectacular_sidecar/swagger-ui-dist/"
REDOC_BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema of one API version (YAML, or JSON on request).

    `?version=v2` selects the version (default: DRF's DEFAULT_VERSION). With DRF's
    URLPathVersioning on this unversioned URL, the request's version was always the
    default and the parameter was ignored: the schema showed v1 only. An unknown
    version is a 404. Errors are JSON: drf-spectacular renders everything with its
    schema renderers, so a 405 or 406 came back as YAML labelled as an OpenAPI
    document.
    """

    versioning_class = None
    schema = None  # unversioned now: keep the schema view out of the schema

    def get(self, request, *args, **kwargs):
        version = request.GET.get("version")
        if version is not None and version not in api_settings.ALLOWED_VERSIONS:
            raise NotFound(
                f"Unknown API version {version!r}; "
                f"known: {', '.join(api_settings.ALLOWED_VERSIONS)}."
            )
        self.api_version = version or api_settings.DEFAULT_VERSION
        return super().get(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code >= 400:
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = JSONRenderer.media_type
        return response


class VersionChoiceMixin:
    """The docs page of one API version (`?version=`), with links to the others."""

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        current = request.GET.get("version") or api_settings.DEFAULT_VERSION
        response.data["api_versions"] = [
            {"name": name, "current": name == current}
            for name in api_settings.ALLOWED_VERSIONS
        ]
        return response


class SwaggerView(VersionChoiceMixin, SpectacularSwaggerView):
    """drf-spectacular's Swagger UI with the site's opener policy and CSP nonce."""

    template_name = "resources/swagger_ui.html"
    schema = None  # a page, not an API operation

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cross-Origin-Opener-Policy"] = (
            settings.SECURE_CROSS_ORIGIN_OPENER_POLICY
        )
        return response


def _sidecar_file(name: str) -> str:
    path = finders.find(name)
    if path is None:
        raise ImproperlyConfigured(
            f"{name} was not found: install drf-spectacular-sidecar and add it to "
            "INSTALLED_APPS."
        )
    return Path(path).read_text()


@cache
def _redirect_page() -> str:
    html = _sidecar_file(SIDECAR + "oauth2-redirect.html")
    # The page loads its script relatively; point it at the static file.
    return html.replace(
        'src="oauth2-redirect.js"', f'src="{static(SIDECAR + "oauth2-redirect.js")}"'
    )


class SwaggerOAuth2RedirectView(View):
    """Swagger UI's `oauth2-redirect.html`, served by Django at `./oauth2-redirect.html`."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse(_redirect_page())


@method_decorator(csp_update({"worker-src": ["blob:"]}), name="dispatch")
@method_decorator(csp_replace({"style-src": [SELF, UNSAFE_INLINE]}), name="dispatch")
class RedocView(VersionChoiceMixin, SpectacularRedocView):
    """drf-spectacular's ReDoc, everything from this origin."""

    template_name = "resources/redoc.html"
    schema = None  # a page, not an API operation

    def _redoc_standalone(self) -> str:
        return reverse("api-redoc-bundle")


@cache
def _redoc_bundle() -> str:
    js = _sidecar_file(REDOC_BUNDLE)
    # ReDoc hides the sidebar's logo when it fails to load; an empty data: image does.
    js = js.replace(REDOCLY_LOGO, "data:,")
    return js.replace(
        "sourceMappingURL=redoc.standalone.js.map",
        f"sourceMappingURL={static(REDOC_BUNDLE + '.map')}",
    )


class RedocBundleView(View):
    """The sidecar's ReDoc bundle, without its request to Redocly's CDN."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse(
            _redoc_bundle(),
            content_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=86400"},
        )
