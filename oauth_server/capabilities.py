"""What this authorization server offers: the one definition.

Plain data, no Django import, like `scopes.py`: `config.settings` hands these to DOT,
the oauthlib server keeps only these grants and response types, discovery advertises
them, and the application model, admin form and `registerapp` accept nothing else.
"""

from oauth_server import scopes

# RFC 6749 §4.1, §4.4, §6 and RFC 8628 §3.4 grant_type values.
AUTHORIZATION_CODE = "authorization_code"
CLIENT_CREDENTIALS = "client_credentials"
REFRESH_TOKEN = "refresh_token"
DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
# RFC 8693 §2.1: for resource servers registered as such (resource_servers.py), not
# an application's registered grant.
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"

# What the token endpoint accepts as grant_type, in discovery order.
GRANT_TYPES: tuple[str, ...] = (
    AUTHORIZATION_CODE,
    CLIENT_CREDENTIALS,
    REFRESH_TOKEN,
    DEVICE_CODE,
    TOKEN_EXCHANGE,
)

# What an application may be registered for: DOT's `authorization_grant_type`
# values (its implicit, password and hybrid ones are not offered), by the name
# `registerapp --grant-type` takes. A refresh token comes with the others.
REGISTERED_AUTHORIZATION_CODE = "authorization-code"
REGISTERED_CLIENT_CREDENTIALS = "client-credentials"
REGISTERED_DEVICE_CODE = DEVICE_CODE
APPLICATION_GRANT_TYPES: dict[str, str] = {
    "authorization-code": REGISTERED_AUTHORIZATION_CODE,
    "client-credentials": REGISTERED_CLIENT_CREDENTIALS,
    "device-code": REGISTERED_DEVICE_CODE,
}
# The token-endpoint grant_type each registered grant uses (besides refresh_token).
TOKEN_GRANT_OF_REGISTERED = {
    REGISTERED_AUTHORIZATION_CODE: AUTHORIZATION_CODE,
    REGISTERED_CLIENT_CREDENTIALS: CLIENT_CREDENTIALS,
    REGISTERED_DEVICE_CODE: DEVICE_CODE,
}
# Registered grants that send the user back to the client: only these take
# redirect URIs.
REDIRECTING_GRANT_TYPES = frozenset({REGISTERED_AUTHORIZATION_CODE})

# Only the code flow: no implicit or hybrid response types (RFC 9700 §2.1.2).
RESPONSE_TYPES: tuple[str, ...] = ("code",)
RESPONSE_MODES: tuple[str, ...] = ("query",)

# PKCE with S256 only; `plain` (and so a missing method) is refused (RFC 9700 §2.1.1).
PKCE_METHODS: tuple[str, ...] = ("S256",)

# OIDC Core §3.1.2.1 prompt values we honour (oauth_server/prompts.py answers them).
PROMPT_VALUES: tuple[str, ...] = ("none", "login", "consent")

# How clients authenticate at the token, revocation and introspection endpoints;
# "none" is a public client sending only its client_id.
CLIENT_AUTH_METHODS: tuple[str, ...] = ("client_secret_basic", "client_secret_post")
PUBLIC_CLIENT_AUTH_METHOD = "none"

# ID tokens are signed with RS256 only: no HMAC with the client secret.
ID_TOKEN_SIGNING_ALGORITHMS: tuple[str, ...] = ("RS256",)

SCOPES: tuple[str, ...] = tuple(scopes.SCOPES)
