"""Authorization server routes, in DOT's `oauth2_provider` namespace.

Mounted at the site root so the issuer is the bare origin: discovery documents live at
`/.well-known/...` and the endpoints under `/o/`.
"""

from django.urls import path
from oauth2_provider import views as dot_views

from oauth_server import (
    account_views,
    developer_views,
    device_views,
    registration_views,
    views,
)

app_name = "oauth2_provider"

urlpatterns = [
    path(
        ".well-known/openid-configuration",
        views.OIDCDiscoveryView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    path(
        ".well-known/oauth-authorization-server",
        views.ServerMetadataView.as_view(),
        name="oauth-server-metadata",
    ),
    path(
        ".well-known/oauth-protected-resource",
        views.ResourceMetadataView.as_view(),
        name="oauth-resource-metadata",
    ),
    path("o/authorize/", views.AuthorizationView.as_view(), name="authorize"),
    path("o/token/", views.TokenView.as_view(), name="token"),
    path("o/revoke/", views.RevokeTokenView.as_view(), name="revoke-token"),
    path("o/introspect/", views.IntrospectTokenView.as_view(), name="introspect"),
    path("o/userinfo/", views.UserInfoView.as_view(), name="user-info"),
    path("o/jwks/", views.JwksView.as_view(), name="jwks-info"),
    path(
        "o/logout/",
        views.RPInitiatedLogoutView.as_view(),
        name="rp-initiated-logout",
    ),
    path(
        "o/device-authorization/",
        device_views.DeviceAuthorizationView.as_view(),
        name="device-authorization",
    ),
    # Dynamic client registration (RFC 7591) and its management (RFC 7592).
    path(
        "o/register/",
        registration_views.RegistrationView.as_view(),
        name="dcr-register",
    ),
    path(
        "o/register/<str:client_id>/",
        registration_views.RegistrationManagementView.as_view(),
        name="dcr-register-management",
    ),
    path("o/device/", device_views.DeviceUserCodeView.as_view(), name="device"),
    path(
        "o/device/<slug:client_id>/<slug:user_code>/",
        device_views.DeviceConfirmView.as_view(),
        name="device-confirm",
    ),
    path(
        "o/device/<slug:client_id>/<slug:user_code>/status/",
        dot_views.DeviceGrantStatusView.as_view(),
        name="device-grant-status",
    ),
    path(
        "o/authorized-apps/",
        account_views.ConnectedAppsView.as_view(),
        name="connected-apps",
    ),
    path(
        "o/authorized-apps/<int:pk>/remove/",
        account_views.RemoveAccessView.as_view(),
        name="connected-app-remove",
    ),
    path("account/", account_views.AccountView.as_view(), name="account"),
    path(
        "account/tokens/",
        account_views.PersonalTokensView.as_view(),
        name="personal-tokens",
    ),
    path(
        "account/tokens/<int:pk>/revoke/",
        account_views.RevokePersonalTokenView.as_view(),
        name="personal-token-revoke",
    ),
    path(
        "developers/apps/",
        developer_views.ApplicationListView.as_view(),
        name="developer-apps",
    ),
    path(
        "developers/apps/new/",
        developer_views.ApplicationRegisterView.as_view(),
        name="developer-app-register",
    ),
    path(
        "developers/apps/<int:pk>/",
        developer_views.ApplicationDetailView.as_view(),
        name="developer-app",
    ),
    path(
        "developers/apps/<int:pk>/edit/",
        developer_views.ApplicationChangeView.as_view(),
        name="developer-app-edit",
    ),
    path(
        "developers/apps/<int:pk>/rotate-secret/",
        developer_views.ApplicationRotateSecretView.as_view(),
        name="developer-app-rotate",
    ),
    path(
        "developers/apps/<int:pk>/deactivate/",
        developer_views.ApplicationDeactivateView.as_view(),
        name="developer-app-deactivate",
    ),
]
