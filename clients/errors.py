"""What can go wrong talking to the authorization server and the API, by kind."""


class OAuthError(Exception):
    """An OAuth failure: an RFC 6749 error code and a description a person can read."""

    def __init__(self, error: str, description: str = "", status: int | None = None):
        super().__init__(error, description)
        self.error = error
        self.description = description
        self.status = status

    def __str__(self) -> str:
        return f"{self.error}: {self.description}" if self.description else self.error


class ServerUnreachable(OAuthError):
    """No answer (connection refused, DNS, timeout) or not a usable one (5xx)."""

    def __init__(self, url: str, detail: str = ""):
        super().__init__("server_unreachable", f"Cannot reach {url}. {detail}".strip())
        self.url = url


class IDTokenError(OAuthError):
    """The ID token failed verification; we must not sign anyone in with it."""

    def __init__(self, description: str):
        super().__init__("invalid_id_token", description)


class AuthorizationResponseError(OAuthError):
    """The redirect back from the authorization endpoint is not one we can accept."""


class SignInRequired(OAuthError):
    """No usable tokens: never signed in, signed out, expired, or revoked elsewhere."""


class InvalidToken(OAuthError):
    """A resource server refused the access token (RFC 6750 §3.1 `invalid_token`)."""


class InsufficientScope(OAuthError):
    """The access token lacks a scope the request needs (RFC 6750 §3.1)."""

    def __init__(self, description: str = "", scope: str = ""):
        super().__init__("insufficient_scope", description, status=403)
        self.scope = scope


class ApiError(OAuthError):
    """The resource API answered with an error that is not about the token."""
