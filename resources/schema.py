"""OpenAPI: our bearer authentication is DOT's OAuth2 scheme with per-operation scopes."""

from drf_spectacular.contrib.django_oauth_toolkit import DjangoOAuthToolkitScheme


class BearerTokenScheme(DjangoOAuthToolkitScheme):
    """drf-spectacular's DOT extension for our subclass of `OAuth2Authentication`.

    Flows, URLs and scopes come from `SPECTACULAR_SETTINGS["OAUTH2_*"]`; each
    operation's security names the scope `required_alternate_scopes` asks for.
    """

    target_class = "resources.authentication.BearerTokenAuthentication"
    name = "oauth2"
