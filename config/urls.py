"""Root URL configuration."""

from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.urls import include, path, re_path

from oauth_server import api as oauth_server_api
from oauth_server.views import HomeView, LoginView
from resources import urls as resources_urls
from resources.docs import (
    RedocBundleView,
    RedocView,
    SchemaView,
    SwaggerOAuth2RedirectView,
    SwaggerView,
)

# The resource API: one `api` namespace for the catalogue and personal tokens.
api_patterns = [*resources_urls.urlpatterns, *oauth_server_api.urlpatterns]

urlpatterns = [
    # The resource API first: its requests are most of the traffic, and Django
    # tries the patterns in order (no other pattern starts with api/v<n>/).
    re_path(r"^api/(?P<version>v[0-9]+)/", include((api_patterns, "api"))),
    path("", HomeView.as_view(), name="home"),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("oauth_server.urls")),
    # Resource API and its documentation (Swagger UI, ReDoc; offline via sidecar).
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        SwaggerView.as_view(url_name="api-schema"),
        name="api-docs",
    ),
    # Swagger UI's default OAuth redirect URI: ./oauth2-redirect.html next to the UI.
    path(
        "api/docs/oauth2-redirect.html",
        SwaggerOAuth2RedirectView.as_view(),
        name="api-docs-oauth2-redirect",
    ),
    path(
        "api/redoc/",
        RedocView.as_view(url_name="api-schema"),
        name="api-redoc",
    ),
    path(
        "api/redoc/redoc.standalone.js",
        RedocBundleView.as_view(),
        name="api-redoc-bundle",
    ),
]

# A database outage is a JSON 503 (ops/unavailable.py); other errors keep the 500 page.
handler500 = "ops.unavailable.server_error"
