"""ID-token verification (OIDC Core §3.1.3.7): each failure is caught."""

import json

import pytest
from jwcrypto import jwk, jwt

from clients.errors import IDTokenError
from clients.idtoken import verify_id_token
from tests.clients.fakes import ISSUER, FakeHTTP, oauth_client, response

NOW = 1_700_000_000
KEY = jwk.JWK.generate(kty="RSA", size=2048, kid="k1")
OTHER_KEY = jwk.JWK.generate(kty="RSA", size=2048, kid="k1")  # same kid, other key
KEYS = jwk.JWKSet()
KEYS.add(KEY)


def claims(**changes) -> dict:
    base = {
        "iss": ISSUER,
        "aud": "web",
        "sub": "42",
        "exp": NOW + 300,
        "iat": NOW,
        "nonce": "n-1",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def sign(payload: dict, key: jwk.JWK = KEY, alg: str = "RS256") -> str:
    token = jwt.JWT(header={"alg": alg, "kid": key.kid}, claims=json.dumps(payload))
    token.make_signed_token(key)
    return token.serialize()


def verify(token: str, **overrides):
    args = {
        "keys": KEYS,
        "issuer": ISSUER,
        "client_id": "web",
        "nonce": "n-1",
        "now": NOW,
    }
    return verify_id_token(token, **{**args, **overrides})


def test_valid_token_gives_its_claims():
    assert verify(sign(claims()))["sub"] == "42"


def test_audience_list_needs_azp():
    assert verify(sign(claims(aud=["web", "x"], azp="web")))["sub"] == "42"
    with pytest.raises(IDTokenError, match="azp"):
        verify(sign(claims(aud=["web", "x"])))


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (sign(claims(iss="https://evil.example")), "iss"),
        (sign(claims(aud="someone-else")), "aud"),
        (sign(claims(nonce="replayed")), "nonce"),
        (sign(claims(nonce=None)), "nonce"),
        (sign(claims(exp=NOW - 61)), "exp"),
        (sign(claims(exp=None)), "exp"),
        (sign(claims(iat=NOW + 3600)), "iat"),
        (sign(claims(sub=None)), "sub"),
        (sign(claims(), key=OTHER_KEY), "signature"),
        (
            sign(claims(), key=jwk.JWK.generate(kty="RSA", size=2048, kid="k9")),
            "signature",
        ),
        (
            sign(
                claims(),
                key=jwk.JWK.generate(kty="oct", size=256, kid="k1"),
                alg="HS256",
            ),
            "signature",
        ),
        ("not.a.token", "signature"),
    ],
    ids=[
        "wrong-iss",
        "wrong-aud",
        "wrong-nonce",
        "no-nonce",
        "expired",
        "no-exp",
        "future-iat",
        "no-sub",
        "bad-signature",
        "unknown-key",
        "hs256",
        "garbage",
    ],
)
def test_bad_tokens_are_refused(token, reason):
    with pytest.raises(IDTokenError, match=reason):
        verify(token)


def test_clock_skew_within_leeway_is_tolerated():
    assert verify(sign(claims(exp=NOW - 30)))["sub"] == "42"


def test_unknown_key_refetches_the_jwks_once():
    """After key rotation the client fetches the JWKS again before refusing."""
    new_key = jwk.JWK.generate(kty="RSA", size=2048, kid="k2")
    http = FakeHTTP()
    old, rotated = jwk.JWKSet(), jwk.JWKSet()
    old.add(KEY)
    rotated.add(new_key)
    http.queue(
        "GET",
        "/o/jwks/",
        response(200, json.loads(old.export(private_keys=False))),
        response(200, json.loads(rotated.export(private_keys=False))),
    )
    client = oauth_client(http, clock=lambda: NOW)
    client.keys()  # cached: the old set

    assert (
        client.verify_id_token(sign(claims(), key=new_key), nonce="n-1")["sub"] == "42"
    )
    assert [p for m, p, _ in http.requests if p == "/o/jwks/"] == ["/o/jwks/"] * 2
