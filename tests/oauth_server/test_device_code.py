"""Device authorization grant (RFC 8628) with its user verification pages."""

import base64
import hashlib
import json
import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from jwcrypto import jwk, jwt
from oauth2_provider.models import get_device_grant_model
from oauth2_provider.settings import oauth2_settings

from oauth_server import device, user_codes
from tests.factories import ApplicationFactory
from tests.oauth_server.flows import (
    DEVICE_GRANT,
    decide_device,
    form_post,
    json_of,
    poll_device,
    start_device,
    token_request,
)

DeviceGrant = get_device_grant_model()
USER_CODE = re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")


def device_authorization(client, body: dict[str, str], content_type: str):
    """POST `body` form-encoded in UTF-8, whatever `content_type` claims."""
    return client.generic(
        "POST",
        reverse("oauth2_provider:device-authorization"),
        urlencode(body),
        content_type=content_type,
    )


def test_device_flow_end_to_end(client, user, device_app, issuer):
    """Start, poll (pending), user enters the code and allows, poll gives tokens."""
    started = start_device(client, device_app)
    assert started["verification_uri"] == f"{issuer}/o/device/"
    assert started["verification_uri_complete"] == (
        f"{issuer}/o/device/?user_code={started['user_code']}"
    )
    assert USER_CODE.match(started["user_code"])
    assert started["interval"] == 5
    assert started["expires_in"] == 1800
    pending = poll_device(client, device_app, started["device_code"])
    assert json_of(pending)["error"] == "authorization_pending"

    page = client.get(started["verification_uri_complete"].removeprefix(issuer))
    assert page.status_code == 302  # sign in first
    client.force_login(user)
    page = client.get(started["verification_uri_complete"].removeprefix(issuer))
    assert started["user_code"] in page.content.decode()
    confirm = client.post(
        reverse("oauth2_provider:device"), {"user_code": started["user_code"]}
    )
    assert confirm.status_code == 302
    consent = client.get(confirm["Location"])
    assert "Read the book catalogue and reviews" in consent.content.decode()
    done = client.post(confirm["Location"], {"action": "accept"})
    assert done.status_code == 302
    assert "Device connected" in client.get(done["Location"]).content.decode()

    response = poll_device(client, device_app, started["device_code"])

    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    body = json_of(response)
    assert body["scope"] == "books:read"
    assert body["token_type"] == "Bearer"
    assert body["refresh_token"]
    assert "id_token" not in body  # no openid asked for
    # The status page still says so once the device has its tokens.
    assert "Device connected" in client.get(done["Location"]).content.decode()


def test_denied_device_gets_access_denied(client, user, device_app):
    """When the user denies, polling answers access_denied."""
    started = start_device(client, device_app)
    decide_device(client, user, started["user_code"], action="deny")

    response = poll_device(client, device_app, started["device_code"])

    assert response.status_code == 400
    assert json_of(response)["error"] == "access_denied"


def test_wrong_user_code_is_shown_as_form_error(client, user, device_app):
    """A mistyped code re-renders the form with a message."""
    start_device(client, device_app)
    client.force_login(user)

    response = client.post(reverse("oauth2_provider:device"), {"user_code": "NOPE1234"})

    assert response.status_code == 200
    assert "Incorrect user code" in response.content.decode()


@pytest.mark.parametrize(
    "typed",
    [
        lambda code: code.lower(),
        lambda code: code.replace("-", ""),
        lambda code: f"  {code[:4]} {code[5:]} ",
        lambda code: code.replace("-", "\u2013"),  # an en dash, as phones type it
        lambda code: code[:2] + "-" + code[2:].lower(),
    ],
)
def test_user_code_entry_ignores_case_spaces_and_dashes(
    client, user, device_app, typed
):
    """The code is accepted however a person types it (RFC 8628 §6.1)."""
    started = start_device(client, device_app)
    client.force_login(user)

    response = client.post(
        reverse("oauth2_provider:device"), {"user_code": typed(started["user_code"])}
    )

    assert response.status_code == 302, response.content.decode()
    grant = DeviceGrant.objects.get()
    assert grant.user == user
    assert response["Location"].endswith(f"/{started['user_code']}/")


def test_user_code_held_by_a_live_grant_is_not_issued_again(device_app):
    """Two live grants never share a user code; expired ones may."""
    first = device.device_grant_create(
        client_id=device_app.client_id,
        scope="books:read",
        device_code="first",
        user_code="BCDF-GHJK",
        expires_in=600,
    )

    second = device.device_grant_create(
        client_id=device_app.client_id,
        scope="books:read",
        device_code="second",
        user_code=first.user_code,
        expires_in=600,
    )
    DeviceGrant.objects.filter(pk=second.pk).update(
        expires=timezone.now() - timedelta(seconds=1)
    )
    third = device.device_grant_create(
        client_id=device_app.client_id,
        scope="books:read",
        device_code="third",
        user_code=second.user_code,
        expires_in=600,
    )

    assert second.user_code != first.user_code
    assert USER_CODE.match(second.user_code)
    assert third.user_code == second.user_code


@pytest.mark.parametrize(
    ("data", "status", "error"),
    [
        ({}, 400, "invalid_request"),
        ({"client_id": "unknown"}, 401, "invalid_client"),
        ({"scope": "books:write"}, 400, "invalid_scope"),
        ({"scope": "no-such-scope"}, 400, "invalid_scope"),
    ],
)
def test_device_authorization_bad_requests(client, device_app, data, status, error):
    """Missing or unknown client and scopes outside the allowance are refused."""
    body = {"client_id": device_app.client_id, **data} if data else {}

    response = form_post(client, reverse("oauth2_provider:device-authorization"), body)

    assert response.status_code == status, response.content
    assert json_of(response)["error"] == error
    assert response["Cache-Control"] == "no-store"


def test_unknown_client_is_asked_to_authenticate(client, db):
    """An unknown client_id is invalid_client with a Basic challenge (RFC 6749 §5.2)."""
    response = form_post(
        client, reverse("oauth2_provider:device-authorization"), {"client_id": "nope"}
    )

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic")
    assert json_of(response)["error_description"]


def test_inactive_client_is_unknown(client, device_app):
    device_app.is_active = False
    device_app.save()

    response = form_post(
        client,
        reverse("oauth2_provider:device-authorization"),
        {"client_id": device_app.client_id},
    )

    assert response.status_code == 401
    assert json_of(response)["error"] == "invalid_client"


def test_confidential_device_client_authenticates(client, db):
    """A confidential client proves itself here as at the token endpoint (RFC 8628 §3.1)."""
    app = ApplicationFactory(
        authorization_grant_type=DEVICE_GRANT,
        redirect_uris="",
        post_logout_redirect_uris="",
        allowed_scopes="books:read",
    )
    url = reverse("oauth2_provider:device-authorization")

    anonymous = form_post(client, url, {"client_id": app.client_id})
    wrong = form_post(
        client, url, {"client_id": app.client_id}, auth=(app.client_id, "wrong")
    )
    right = form_post(
        client,
        url,
        {"client_id": app.client_id},
        auth=(app.client_id, app.cleartext_secret),
    )

    assert (anonymous.status_code, json_of(anonymous)["error"]) == (
        401,
        "invalid_client",
    )
    assert (wrong.status_code, json_of(wrong)["error"]) == (401, "invalid_client")
    assert right.status_code == 200, right.content


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded; charset=UTF-8",
        "application/x-www-form-urlencoded;charset=utf-8",
        'application/x-www-form-urlencoded; charset="UTF-8"',
        "Application/X-WWW-Form-Urlencoded; Charset=Utf-8",
    ],
)
def test_form_in_utf8_is_accepted_with_its_charset(client, device_app, content_type):
    """Clients that name the charset, as most libraries do, get their codes."""
    response = device_authorization(
        client, {"client_id": device_app.client_id}, content_type
    )

    assert response.status_code == 200, response.content
    assert USER_CODE.match(json_of(response)["user_code"])


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded; charset=latin-1",
        "application/x-www-form-urlencoded; charset=utf-16",
        "application/x-www-form-urlencoded; charset=utf8",
        "application/x-www-form-urlencoded; charset=no-such-charset",
        "application/json",
        "text/plain",
        "multipart/form-data; boundary=xyz",
        "",
    ],
)
def test_other_bodies_are_invalid_request(client, device_app, content_type):
    """Anything but form-urlencoded UTF-8 is a JSON invalid_request, never a 500."""
    response = device_authorization(
        client, {"client_id": device_app.client_id}, content_type
    )

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert json_of(response)["error"] == "invalid_request"
    assert "UTF-8" in json_of(response)["error_description"]
    assert response["Cache-Control"] == "no-store"


def test_polling_with_unknown_device_code_is_invalid_grant(client, device_app):
    """A made-up device code is refused."""
    response = poll_device(client, device_app, "made-up")

    assert response.status_code == 400
    assert json_of(response)["error"] == "invalid_grant"


def test_polling_faster_than_interval_gets_slow_down(client, device_app):
    """A second poll within the interval is answered slow_down (RFC 8628 §3.5)."""
    started = start_device(client, device_app)
    poll_device(client, device_app, started["device_code"])

    response = poll_device(client, device_app, started["device_code"])
    cache.clear()  # the interval has passed
    later = poll_device(client, device_app, started["device_code"])

    assert response.status_code == 400
    assert json_of(response)["error"] == "slow_down"
    assert json_of(later)["error"] == "authorization_pending"


def test_decided_device_is_answered_without_waiting(client, user, device_app):
    """slow_down belongs to pending polls: a decision is answered at once."""
    started = start_device(client, device_app)
    poll_device(client, device_app, started["device_code"])
    decide_device(client, user, started["user_code"])

    response = poll_device(client, device_app, started["device_code"])

    assert response.status_code == 200, response.content


def test_expired_device_code_gets_expired_token(client, user, device_app):
    """After expires_in, polling answers expired_token, even once approved."""
    started = start_device(client, device_app)
    decide_device(client, user, started["user_code"])
    DeviceGrant.objects.update(expires=timezone.now() - timedelta(seconds=1))

    response = poll_device(client, device_app, started["device_code"])

    assert response.status_code == 400
    assert json_of(response)["error"] == "expired_token"


def test_expired_user_code_is_refused_on_the_page(client, user, device_app):
    started = start_device(client, device_app)
    DeviceGrant.objects.update(expires=timezone.now() - timedelta(seconds=1))
    client.force_login(user)

    response = client.post(
        reverse("oauth2_provider:device"), {"user_code": started["user_code"]}
    )

    assert response.status_code == 200
    assert "Expired user code" in response.content.decode()


@pytest.mark.parametrize(
    "body",
    [
        "grant_type=urn:ietf:params:oauth:grant-type:device_code&client_id={cid}",
        "grant_type=urn:ietf:params:oauth:grant-type:device_code&client_id={cid}&device_code=",
    ],
)
def test_missing_device_code_is_invalid_request(client, device_app, body):
    """No device_code is a 400, not a crash."""
    response = client.post(
        reverse("oauth2_provider:token"),
        body.format(cid=device_app.client_id),
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 400
    assert json_of(response)["error"] == "invalid_request"


def test_id_token_when_openid_was_granted(client, user, device_app, issuer):
    """The token response carries an ID token as the code flow's (OIDC Core §3.1.3.3)."""
    started = start_device(client, device_app, scope="openid profile")
    decide_device(client, user, started["user_code"])

    body = json_of(poll_device(client, device_app, started["device_code"]))

    key = jwk.JWK.from_pem(oauth2_settings.OIDC_RSA_PRIVATE_KEY.encode())
    token = jwt.JWT(jwt=body["id_token"], key=key, algs=["RS256"])
    header = json.loads(token.header)
    claims = json.loads(token.claims)
    digest = hashlib.sha256(body["access_token"].encode()).digest()
    assert header == {"typ": "JWT", "alg": "RS256", "kid": key.thumbprint()}
    assert claims["iss"] == issuer
    assert claims["aud"] == device_app.client_id
    assert claims["sub"] == str(user.pk)
    assert claims["preferred_username"] == "alice"
    assert claims["at_hash"] == base64.urlsafe_b64encode(digest[:16]).decode().rstrip(
        "="
    )
    assert claims["exp"] > claims["iat"]
    assert {"auth_time", "jti"} <= set(claims)
    assert "nonce" not in claims
    assert "email" not in claims  # not granted


def test_tokens_stay_within_the_applications_allowance(client, user, device_app):
    """Scopes taken from the application after approval are not issued."""
    started = start_device(client, device_app, scope="openid profile books:read")
    decide_device(client, user, started["user_code"])
    device_app.allowed_scopes = "openid books:read"
    device_app.save()

    body = json_of(poll_device(client, device_app, started["device_code"]))

    assert body["scope"] == "openid books:read"


def test_no_id_token_without_openid(client, user, device_app):
    started = start_device(client, device_app, scope="profile books:read")
    decide_device(client, user, started["user_code"])

    body = json_of(poll_device(client, device_app, started["device_code"]))

    assert body["access_token"]
    assert "id_token" not in body


def test_device_tokens_refresh(client, user, device_app):
    """The refresh token of a device works like any other (and rotates)."""
    started = start_device(client, device_app)
    decide_device(client, user, started["user_code"])
    first = json_of(poll_device(client, device_app, started["device_code"]))

    response = token_request(
        client,
        {
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "client_id": device_app.client_id,
        },
    )

    assert response.status_code == 200, response.content
    assert json_of(response)["refresh_token"] != first["refresh_token"]


def test_too_many_wrong_codes_page_says_when_to_retry(
    client, user, device_app, settings
):
    """Past the limit the page is a 429 with the wait, in words and Retry-After."""
    settings.OAUTH_SERVER = {
        **settings.OAUTH_SERVER,
        "user_code_failures_per_user": 2,
        "user_code_lockout_seconds": 600,
    }
    client.force_login(user)
    url = reverse("oauth2_provider:device")
    for _ in range(2):
        assert client.post(url, {"user_code": "BBBB-BBBB"}).status_code == 200

    response = client.post(url, {"user_code": "BBBB-BBBB"})

    assert response.status_code == 429
    assert 590 <= int(response["Retry-After"]) <= 600
    text = response.content.decode()
    assert "Too many wrong codes. Try again in 10 minutes" in text
    assert "UTC" in text


def test_user_codes_normalize():
    assert user_codes.normalize(" bcdf ghjk ") == "BCDF-GHJK"
    assert user_codes.normalize("BCDFGHJK") == "BCDF-GHJK"
    assert user_codes.normalize("bcdf-ghjka") == "BCDFGHJKA"  # too long: no match
    assert user_codes.normalize("AEIO-UBCD") == "AEIOUBCD"  # not our alphabet


def test_confirm_page_shows_the_code_to_compare(client, user, device_app):
    """The person sees the code to check against the device's screen (RFC 8628 §5.4:
    a remote phishing attempt shows a code that is not on the person's device)."""
    started = start_device(client, device_app)
    client.force_login(user)
    entered = client.post(
        reverse("oauth2_provider:device"), {"user_code": started["user_code"].lower()}
    )

    page = client.get(entered["Location"])

    assert page.status_code == 200
    html = page.content.decode()
    shown = html.split('class="user-code">')[1].split("<")[0]
    assert shown.replace("-", "") == started["user_code"].replace("-", "")
    assert "press Deny" in html
