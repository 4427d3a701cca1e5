"""Resource indicators (RFC 8707): which audience a token is minted for and used at.

DOT 3.4.1 records any well-formed `resource` as the token's audience; here a
resource must be one of the servers of the registry (`resource_servers.py`), one per
request, and the token's scopes are limited to what that server accepts:

- an explicit `scope` outside it is `invalid_scope`; scopes the client did not name
  (an application's defaults, those of the code or refresh token being redeemed)
  are narrowed to it;
- an unknown, malformed or second `resource` is `invalid_target` (RFC 8707 §2),
  redirected to a valid client from the authorization endpoint, JSON from the token
  endpoint;
- a token request may narrow the audience of its code or refresh token, never
  widen it (DOT checks the same on the canonical URIs stored here).

On the resource side, `allows_request` is DOT's audience check: a bearer request to
the REST API needs a token without audience (today's tokens) or one for the API.
"""

from urllib.parse import urlsplit

from oauthlib.common import Request
from oauthlib.oauth2.rfc6749 import errors

from oauth_server import resource_servers
from oauth_server.conf import server_settings
from oauth_server.resource_servers import ResourceServer

RESOURCE = "resource"


class InvalidTargetError(errors.OAuth2Error):
    """RFC 8707 §2: the requested resource is invalid, unknown or not allowed."""

    error = "invalid_target"
    status_code = 400


def servers() -> tuple[ResourceServer, ...]:
    """The registry, as configured."""
    return server_settings().resource_servers


def server_for(uri: object) -> ResourceServer | None:
    """The known resource server `uri` names, or None."""
    return resource_servers.find(servers(), uri)


def known_values() -> str:
    """The canonical URIs a client may send as `resource`, for error descriptions."""
    return ", ".join(server.uri for server in servers())


def target(values: list[str], request: Request) -> ResourceServer | None:
    """The one known resource server `values` name (None when there are none)."""
    if not values:
        return None
    if len(values) > 1:
        raise InvalidTargetError(
            description="Send one resource per request: a token has one audience.",
            request=request,
        )
    server = server_for(values[0])
    if server is None:
        raise InvalidTargetError(
            description=(
                f"Unknown resource {values[0]!r}: it must be the canonical URI of "
                f"one of: {known_values()}."
            ),
            request=request,
        )
    return server


def limit_scopes(
    server: ResourceServer, request: Request, *, explicit: bool
) -> list[str]:
    """`request.scopes` within what `server` accepts; refused if `explicit`."""
    allowed = server.allowed_scopes()
    wanted = list(request.scopes or [])
    outside = [name for name in wanted if name not in allowed]
    if outside and explicit:
        raise errors.InvalidScopeError(
            description=(
                f"Scope(s) not accepted by {server.uri}: {' '.join(outside)}. "
                f"It accepts: {' '.join(sorted(allowed))}."
            ),
            request=request,
        )
    kept = [name for name in wanted if name in allowed]
    if not kept:
        raise errors.InvalidScopeError(
            description=f"None of the scopes asked for is accepted by {server.uri}.",
            request=request,
        )
    return kept


# --- Authorization endpoint (an oauthlib post_auth validator) -------------------------


def authorization_resources(request: Request) -> list[str]:
    """The `resource` values of an authorization request.

    DOT's consent form hands them over as a list (its credentials); the first,
    validating GET has them in the query string, repeated (RFC 8707 §2).
    """
    given = vars(request).get(RESOURCE)
    if isinstance(given, list):
        return given
    return [value for key, value in request.uri_query_params if key == RESOURCE]


def validate_authorization_resource(request: Request) -> dict:
    """Refuse an unknown `resource`, limit scopes to it, record its canonical URI.

    Runs once client and redirect URI are known good and scopes are validated, so
    its errors go back to the client with `state` (RFC 6749 §4.1.2.1).
    """
    server = target(authorization_resources(request), request)
    if server is None:
        return {}
    request.scopes = limit_scopes(server, request, explicit=request.scope is not None)
    request.resource = [server.uri]
    return {}


# --- Token endpoint (an oauthlib post_token validator) --------------------------------


def token_resources(request: Request) -> list[str]:
    """The `resource` values of a token request's form body, repeated or not."""
    return [value for key, value in request.decoded_body or [] if key == RESOURCE]


def bound_audience(request: Request) -> list[str]:
    """The audience of the code or refresh token being redeemed ([] when none)."""
    if request.grant_type == "authorization_code":
        grant = vars(request).get("grant_instance")  # set by our validate_code
        return list(grant.resource or []) if grant is not None else []
    if request.grant_type == "refresh_token":
        refresh = vars(request).get("refresh_token_instance")
        return list(refresh.resource or []) if refresh is not None else []
    return []


def validate_token_resource(request: Request) -> None:
    """Refuse an unknown or widening `resource`; limit scopes to the audience."""
    server = target(token_resources(request), request)
    bound = bound_audience(request)
    if server is None and bound:
        server = target(bound, request)  # unknown since: the registry changed
    if server is None:
        return
    if bound and not any(server_for(uri) == server for uri in bound):
        raise InvalidTargetError(
            description=(
                f"The resource {server.uri} was not granted: a token request may "
                "narrow the audience of its grant, never widen it."
            ),
            request=request,
        )
    explicit = request.grant_type != "authorization_code" and bool(request.scope)
    request.scopes = limit_scopes(server, request, explicit=explicit)
    request.resource = [server.uri]


# --- Resource side: DOT's RESOURCE_SERVER_TOKEN_RESOURCE_VALIDATOR ---------------------


def allows_request(request_uri: str, audiences: list[str]) -> bool:
    """Whether a token with these audiences may be used for `request_uri`.

    DOT asks only for tokens that have an audience. The REST API, under `/api/`,
    takes tokens for itself; the server's own bearer endpoint (userinfo, which the
    OpenID Connect scopes allowed on every audience are for) takes any of ours.
    Matching on the path, not the origin: behind a proxy, or in tests, the request's
    host is not the canonical URI's.
    """
    path = urlsplit(request_uri).path
    if not path.startswith(resource_servers.API_PATH):
        return True
    api = next(s for s in servers() if s.key == resource_servers.API)
    return any(server_for(uri) == api for uri in audiences)
