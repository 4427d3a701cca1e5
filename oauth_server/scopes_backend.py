"""DOT scopes backend: an application only ever sees the scopes it was allowed."""

from oauth2_provider.scopes import BaseScopes

from oauth_server import scopes


class ApplicationScopes(BaseScopes):
    """Scopes from the registry, narrowed to the application's `allowed_scopes`."""

    def get_all_scopes(self) -> dict[str, str]:
        return scopes.SCOPES

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        if application is None:  # discovery documents: everything we offer
            return list(scopes.SCOPES)
        return application.allowed_scope_list

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        """A request without `scope` gets everything the application is allowed."""
        return self.get_available_scopes(application, request)
