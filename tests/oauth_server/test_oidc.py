"""OpenID Connect: userinfo claims by scope, JWKS, key rotation, RP-initiated logout."""

import io
import json
import os
import time

import pytest
from django.core.management import call_command
from django.urls import reverse
from jwcrypto import jwk, jwt

from oauth_server import keys
from tests.oauth_server.flows import (
    sign_in,
)


@pytest.mark.parametrize(
    ("scope", "expected", "absent"),
    [
        ("openid", {"sub"}, {"email", "name"}),
        ("openid profile", {"sub", "name", "preferred_username"}, {"email"}),
        ("openid email", {"sub", "email", "email_verified"}, {"name"}),
    ],
)
def test_userinfo_releases_claims_by_scope(
    client, api_client_for, user, web_app, scope, expected, absent
):
    """Each scope releases its claims and no others (OIDC Core §5.4)."""
    tokens = sign_in(client, user, web_app, scope)

    response = api_client_for(tokens["access_token"]).get(
        reverse("oauth2_provider:user-info")
    )

    assert response.status_code == 200
    claims = response.json()
    assert expected <= set(claims)
    assert not absent & set(claims)
    assert claims["sub"] == str(user.pk)
    if "email" in expected:  # nothing here verifies addresses
        assert claims["email_verified"] is False


def test_userinfo_without_token_is_401(client, db):
    response = client.get(reverse("oauth2_provider:user-info"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_jwks_publishes_active_and_retired_keys(
    client, settings, oauth2_settings_override, db
):
    """Retired keys stay in the JWKS so tokens they signed still verify."""
    retired = keys.generate_rsa_pem()
    oauth2_settings_override(OIDC_RSA_PRIVATE_KEYS_INACTIVE=[retired])

    body = client.get(reverse("oauth2_provider:jwks-info")).json()

    kids = [key["kid"] for key in body["keys"]]
    assert len(kids) == 2
    assert jwk.JWK.from_pem(retired.encode()).thumbprint() in kids
    assert all(key["alg"] == "RS256" and "d" not in key for key in body["keys"])


def test_id_token_signed_before_rotation_still_verifies(
    client, user, web_app, oauth2_settings_override
):
    """After rotation, an old ID token verifies against the published JWKS."""
    from django.conf import settings as django_settings

    tokens = sign_in(client, user, web_app, "openid")
    old_key = django_settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"]
    oauth2_settings_override(
        OIDC_RSA_PRIVATE_KEY=keys.generate_rsa_pem(),
        OIDC_RSA_PRIVATE_KEYS_INACTIVE=[old_key],
    )

    jwks = jwk.JWKSet.from_json(
        client.get(reverse("oauth2_provider:jwks-info")).content
    )
    claims = json.loads(
        jwt.JWT(jwt=tokens["id_token"], key=jwks, algs=["RS256"]).claims
    )

    assert claims["sub"] == str(user.pk)


def test_key_directory_rotation(tmp_path):
    """rotate keeps the old key as retired; retired keys past their use are dropped."""
    first = keys.load_key_dir(tmp_path, create=True)

    keys.rotate_key_dir(tmp_path, keep_retired_seconds=3600)
    second = keys.load_key_dir(tmp_path, create=False)

    assert second.active != first.active
    assert second.retired == (first.active,)
    keys.rotate_key_dir(tmp_path, keep_retired_seconds=-1)
    third = keys.load_key_dir(tmp_path, create=False)
    assert third.retired == (second.active,)
    assert (tmp_path / "active.pem").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("id_token_seconds", "kept"), [(3600, False), (3 * 3600, True)]
)
def test_rotateoidckey_command(
    tmp_path, settings, oauth2_settings_override, id_token_seconds, kept
):
    """The command rotates OAUTH_SERVER's key directory and drops a retired key
    only once DOT's token lifetimes have passed since it was retired."""
    settings.OAUTH_SERVER = {**settings.OAUTH_SERVER, "oidc_key_dir": tmp_path}
    keys.load_key_dir(tmp_path, create=True)
    two_hours_old = tmp_path / "retired-20000101T000000.pem"
    two_hours_old.write_text("old")
    os.utime(two_hours_old, (time.time() - 7200,) * 2)
    oauth2_settings_override(
        ID_TOKEN_EXPIRE_SECONDS=id_token_seconds, ACCESS_TOKEN_EXPIRE_SECONDS=60
    )

    call_command("rotateoidckey", stdout=io.StringIO())

    assert two_hours_old.exists() is kept
    assert len(list(tmp_path.glob("retired-*.pem"))) == 1 + kept


def test_rp_initiated_logout_ends_the_session(client, user, web_app):
    """Logout with an id_token_hint asks, then signs out and returns to the client."""
    tokens = sign_in(client, user, web_app, "openid")
    params = {
        "id_token_hint": tokens["id_token"],
        "post_logout_redirect_uri": "https://client.example/",
        "client_id": web_app.client_id,
        "state": "s1",
    }
    url = reverse("oauth2_provider:rp-initiated-logout")
    page = client.get(url, params)
    assert page.status_code == 200

    form = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    response = client.post(url, {**form, "allow": "Logout"})

    assert response.status_code == 302
    assert response["Location"].startswith("https://client.example/")
    assert "_auth_user_id" not in client.session


def test_staying_signed_in_is_a_page_with_ways_back(client, user, web_app):
    """ "Stay signed in" keeps the session and offers the way back, not an error."""
    web_app.homepage_url = "https://client.example/home"
    web_app.save()
    tokens = sign_in(client, user, web_app, "openid")
    url = reverse("oauth2_provider:rp-initiated-logout")
    page = client.get(
        url, {"id_token_hint": tokens["id_token"], "client_id": web_app.client_id}
    )
    form = {k: v for k, v in page.context["form"].initial.items() if v is not None}

    response = client.post(url, {**form, "stay": "stay"})

    assert b"Stay signed in" in page.content
    assert response.status_code == 200
    html = response.content.decode()
    assert "You are still signed in" in html
    assert 'href="https://client.example/home"' in html
    assert "error" not in html.lower()
    assert client.session["_auth_user_id"] == str(user.pk)


def test_logout_to_unregistered_uri_is_refused(client, user, web_app):
    tokens = sign_in(client, user, web_app, "openid")

    response = client.get(
        reverse("oauth2_provider:rp-initiated-logout"),
        {
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": "https://evil.example/",
        },
    )

    assert response.status_code == 400
    assert not response.has_header("Location")
