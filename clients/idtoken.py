"""ID-token verification (OIDC Core §3.1.3.7), as a pure function of keys and time."""

import hmac
import json
from typing import Any

from jwcrypto import jwk, jwt
from jwcrypto.common import JWException

from clients.errors import IDTokenError

ID_TOKEN_LEEWAY = 60  # seconds of clock skew tolerated on exp/iat
NO_KEY_VERIFIES = "No key the server publishes verifies its signature."


def verify_id_token(
    token: str,
    *,
    keys: jwk.JWKSet,
    issuer: str,
    client_id: str,
    nonce: str,
    now: float,
    leeway: int = ID_TOKEN_LEEWAY,
) -> dict[str, Any]:
    """The claims of an RS256 ID token, checked as OIDC Core §3.1.3.7 asks."""
    try:
        parsed = jwt.JWT(
            jwt=token, key=keys, algs=["RS256"], check_claims=False, expected_type="JWS"
        )
        claims = json.loads(parsed.claims)
    except jwt.JWTMissingKey as error:
        # jwcrypto says this both for an unknown kid and for a signature that no
        # key with that kid verifies; the caller refetches the JWKS once.
        raise IDTokenError(NO_KEY_VERIFIES) from error
    except (JWException, ValueError, TypeError) as error:
        raise IDTokenError("Its signature is not valid.") from error
    if not isinstance(claims, dict):
        raise IDTokenError("Its payload is not a JSON object.")
    if claims.get("iss") != issuer:
        raise IDTokenError("It was issued by another server (iss).")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if client_id not in audiences:
        raise IDTokenError("It was issued to another client (aud).")
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise IDTokenError("It names another authorized party (azp).")
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or now > exp + leeway:
        raise IDTokenError("It has expired (exp).")
    if not isinstance(iat, int | float) or iat > now + leeway:
        raise IDTokenError("It was issued in the future (iat).")
    if not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
        raise IDTokenError("It answers another sign-in request (nonce).")
    if not claims.get("sub"):
        raise IDTokenError("It names no user (sub).")
    return claims
