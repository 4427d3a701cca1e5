"""Admin command line: registerapp, rotatesecret, listapps, deactivateapp, loaddemo."""

import json
from io import StringIO

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from oauth2_provider.models import get_access_token_model

from oauth_server.models import Application
from tests.factories import AccessTokenFactory

AccessToken = get_access_token_model()


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_registerapp_prints_credentials_once_as_json():
    """--json ends with exactly one JSON object; the secret is stored hashed."""
    output = run(
        "registerapp",
        "--name=Partner",
        "--client-type=confidential",
        "--grant-type=authorization-code",
        "--redirect-uri=https://partner.example/cb",
        "--scopes=openid books:read",
        "--json",
    )

    credentials = json.loads(output.strip().splitlines()[-1])
    app = Application.objects.get(client_id=credentials["client_id"])
    assert app.allowed_scopes == "openid books:read"
    assert app.algorithm == "RS256"
    assert len(credentials["client_secret"]) >= 43
    assert app.client_secret.startswith("generated_secret_sha256$")
    assert credentials["client_secret"] not in app.client_secret  # only a hash
    assert check_password(credentials["client_secret"], app.client_secret)


@pytest.mark.django_db
def test_public_client_has_null_secret():
    output = run(
        "registerapp",
        "--name=CLI",
        "--client-type=public",
        "--grant-type=device-code",
        "--scopes=books:read",
        "--json",
    )

    assert json.loads(output.strip().splitlines()[-1])["client_secret"] is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scopes=books:read nope"], "Unknown scope"),
        (["--scopes=books:read", "--no-redirect"], "redirect_uris"),
        (["--scopes=books:read", "--redirect-uri=not a uri"], "redirect_uris"),
        (
            ["--scopes=books:read", "--redirect-uri=http://partner.example/cb"],
            "loopback",
        ),
        (
            ["--scopes=books:read", "--redirect-uri=https://p.example/cb#frag"],
            "fragment",
        ),
        (["--scopes="], "at least one scope"),
    ],
)
def test_registerapp_refuses_bad_arguments_and_creates_nothing(args, message):
    """Bad input exits non-zero with a clear message and leaves no application."""
    base = [
        "registerapp",
        "--name=Bad",
        "--client-type=confidential",
        "--grant-type=authorization-code",
    ]
    if "--no-redirect" in args:
        args = [a for a in args if a != "--no-redirect"]
    elif not any(a.startswith("--redirect-uri") for a in args):
        args = [*args, "--redirect-uri=https://p.example/cb"]

    with pytest.raises(CommandError, match=message):
        run(*base, *args)

    assert not Application.objects.exists()


@pytest.mark.django_db
def test_client_credentials_app_cannot_hold_user_scopes():
    with pytest.raises(CommandError, match="signed-in user"):
        run(
            "registerapp",
            "--name=M2M",
            "--client-type=confidential",
            "--grant-type=client-credentials",
            "--scopes=openid books:read",
        )


def test_unknown_grant_type_is_a_usage_error():
    with pytest.raises(CommandError, match="invalid choice"):
        run(
            "registerapp",
            "--name=X",
            "--client-type=public",
            "--grant-type=password",
            "--scopes=books:read",
        )


def test_rotatesecret_replaces_the_secret(web_app):
    """The new secret works, the old one no longer does."""
    output = run("rotatesecret", web_app.client_id, "--json")

    new_secret = json.loads(output.strip().splitlines()[-1])["client_secret"]
    web_app.refresh_from_db()
    assert check_password(new_secret, web_app.client_secret)
    assert not check_password(web_app.cleartext_secret, web_app.client_secret)


def test_rotatesecret_refuses_public_clients(public_app):
    with pytest.raises(CommandError, match="no secret"):
        run("rotatesecret", public_app.client_id)


@pytest.mark.django_db
def test_rotatesecret_unknown_client():
    with pytest.raises(CommandError, match="No application"):
        run("rotatesecret", "nope")


def test_listapps_and_deactivateapp(web_app, user):
    """Deactivation switches the app off and revokes its tokens."""
    AccessTokenFactory(user=user, application=web_app)

    output = run("deactivateapp", web_app.client_id)

    assert "Deactivated" in output
    web_app.refresh_from_db()
    assert web_app.is_active is False
    assert not AccessToken.objects.filter(application=web_app).exists()
    rows = json.loads(run("listapps", "--json"))
    assert rows == [
        {
            "client_id": web_app.client_id,
            "name": web_app.name,
            "client_type": "confidential",
            "grant_type": "authorization-code",
            "scopes": web_app.allowed_scopes,
            "active": False,
        }
    ]
    assert json.loads(run("listapps", "--json", "--active")) == []


@pytest.mark.django_db
def test_loaddemo_is_idempotent(settings, tmp_path):
    """Running the demo loader twice keeps the same credentials."""
    settings.OAUTH_SERVER = {
        **settings.OAUTH_SERVER,
        "demo_credentials_file": tmp_path / "demo.json",
    }
    first = run("loaddemo")
    second = run("loaddemo")

    assert first == second
    state = json.loads((tmp_path / "demo.json").read_text())
    assert set(state["clients"]) >= {
        "marginalia-web",
        "marginalia-cli",
        "catalogue-sync",
        "bookshelf-mcp",
    }
    assert state["clients"]["bookshelf-mcp"]["client_secret"]
    assert (tmp_path / "demo.json").stat().st_mode & 0o777 == 0o600


@pytest.mark.django_db
def test_cleartokens_forgets_expired_code_records(web_app):
    """Records of redeemed codes go once the tokens they name cannot live any more."""
    from datetime import timedelta

    from django.utils import timezone

    from oauth_server.models import RedeemedCode

    def record(checksum: str, expires_in: timedelta) -> RedeemedCode:
        return RedeemedCode.objects.create(
            code_checksum=checksum,
            application=web_app,
            access_token_checksum="a" * 64,
            expires=timezone.now() + expires_in,
        )

    record("1" * 64, timedelta(seconds=-1))
    kept = record("2" * 64, timedelta(days=1))

    output = run("cleartokens")

    assert list(RedeemedCode.objects.all()) == [kept]
    assert "redeemed codes: 1 deleted" in output.splitlines()
