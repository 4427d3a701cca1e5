"""What an administrator meets: command messages, listapps, the admin's add form."""

import ast
import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from oauth_server import capabilities, services
from oauth_server.models import Application
from tests.factories import ApplicationFactory, admin_application_form

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = ROOT / "oauth_server" / "management" / "commands"


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def register(**options: str) -> str:
    """registerapp with defaults for a public code client; the CommandError text."""
    options = {
        "name": "Partner",
        "client-type": "public",
        "grant-type": "authorization-code",
        "scopes": "books:read",
        **options,
    }
    args = [f"--{key}={value}" for key, value in options.items() if value is not None]
    with pytest.raises(CommandError) as error:
        run("registerapp", *args)
    assert not Application.objects.exists()
    return str(error.value)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"name": "", "redirect-uri": "https://p.example/cb"}, "name: Name the app"),
        ({"name": "   ", "redirect-uri": "https://p.example/cb"}, "name: Name the"),
        (
            {"redirect-uri": "https://p.example/cb#frag"},
            "redirect_uris: https://p.example/cb#frag: a redirect URI must not have "
            "a fragment.",
        ),
        (
            {"scopes": "", "redirect-uri": "https://p.example/cb"},
            "allowed_scopes: Name at least one scope.",
        ),
        (
            {
                "grant-type": "client-credentials",
                "client-type": "confidential",
                "redirect-uri": "https://p.example/cb",
            },
            "redirect_uris: This grant never redirects",
        ),
        (
            {"grant-type": "device-code", "redirect-uri": "https://p.example/cb"},
            "redirect_uris: This grant never redirects",
        ),
        (
            {
                "grant-type": "client-credentials",
                "client-type": "confidential",
                "scopes": "openid",
            },
            "allowed_scopes: Client credentials have no signed-in user, so they "
            "cannot be allowed openid.",
        ),
    ],
)
def test_registerapp_says_each_problem_once(options, expected):
    """One problem, one line, that names the field and says what to do."""
    message = register(**options)
    assert message.splitlines() == [message]
    assert message.startswith(expected), message


@pytest.mark.django_db
def test_registerapp_grant_choices_are_the_capabilities():
    with pytest.raises(CommandError, match="invalid choice") as error:
        run("registerapp", "--name=X", "--client-type=public", "--grant-type=implicit")
    for name in capabilities.APPLICATION_GRANT_TYPES:
        assert name in str(error.value)


def test_listapps_aligns_columns_with_full_grant_names(db):
    ApplicationFactory(name="A web app with a long name")
    ApplicationFactory(
        name="TV",
        client_type="public",
        authorization_grant_type=capabilities.DEVICE_CODE,
        redirect_uris="",
        post_logout_redirect_uris="",
        allowed_scopes="books:read",
    )
    lines = run("listapps").splitlines()
    header, *rows = lines
    assert header.split() == [
        *("CLIENT", "ID", "NAME", "CLIENT", "TYPE", "GRANT", "STATE", "SCOPES")
    ]
    assert len(rows) == 2
    grant_column = header.index("GRANT")
    assert {row[grant_column:].split()[0] for row in rows} == {
        "authorization-code",
        "device-code",
    }
    state_column = header.index("STATE")
    assert all(row[state_column:].startswith("active") for row in rows)


def test_listapps_json_is_one_array(db):
    app = ApplicationFactory()
    assert json.loads(run("listapps", "--json"))[0]["client_id"] == app.client_id


def test_rotatesecret_does_not_import_another_command():
    """Commands share helpers through modules, not through each other."""
    for path in COMMANDS.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                module = node.module
                assert "oauth_server.management.commands" not in module, path.name


def test_loaddemo_command_only_calls_the_service():
    source = (COMMANDS / "loaddemo.py").read_text()
    assert "services.demo_load(" in source
    assert "Application" not in source
    assert "get_user_model" not in source


@pytest.mark.django_db
def test_demo_load_service_is_idempotent(tmp_path):
    first = services.demo_load(path=tmp_path / "demo.json")
    second = services.demo_load(path=tmp_path / "demo.json")
    assert first == second
    assert Application.objects.filter(client_id="marginalia-web").exists()


# --- manage.py and its settings ---------------------------------------------------


def manage(args: list[str], **env: str) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "SECRET_KEY", "ENV_FILE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_missing_setting_is_one_line(tmp_path):
    """No traceback: one line naming the setting and where to put it."""
    result = manage(
        ["listapps"], ENV_FILE=str(tmp_path / "none"), VAR_DIR=str(tmp_path)
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "ImproperlyConfigured: SECRET_KEY is required when DEBUG is off. Set it in "
        "the environment or in .env (README, Configuration); for development: "
        "echo DEBUG=true >> .env"
    ]


def test_env_file_reaches_management_commands(tmp_path):
    """A .env file supplies what the environment lacks."""
    env_file = tmp_path / "dotenv"
    env_file.write_text(f"DEBUG=true\nVAR_DIR={tmp_path / 'var'}\n")
    result = manage(["check"], ENV_FILE=str(env_file))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "var").is_dir()


# --- Django admin: Add application ---------------------------------------------------


def test_admin_add_offers_only_supported_choices(admin_client):
    response = admin_client.get(reverse("admin:oauth_server_application_add"))
    form = response.context["adminform"].form
    grants = {
        value for value, _label in form.fields["authorization_grant_type"].choices
    }
    assert grants == set(capabilities.APPLICATION_GRANT_TYPES.values())
    algorithms = {value for value, _label in form.fields["algorithm"].choices}
    assert algorithms == {"", "RS256"}
    assert form["algorithm"].value() == "RS256"
    html = response.content.decode()
    for refused in ("implicit", "openid-hybrid", "password", "HS256"):
        assert f'value="{refused}"' not in html


def test_admin_shows_contacts_as_lines(admin_client):
    app = ApplicationFactory(contacts=["a@example.com", "b@example.com"])
    response = admin_client.get(
        reverse("admin:oauth_server_application_change", args=[app.pk])
    )
    html = response.content.decode()
    assert "a@example.com\nb@example.com</textarea>" in html
    assert "[&quot;a@example.com" not in html


def test_admin_saves_contacts_from_lines(admin_client):
    response = admin_client.post(
        reverse("admin:oauth_server_application_add"),
        admin_application_form(contacts="a@example.com\n\n b@example.com \n"),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    app = Application.objects.get(client_id="partner")
    assert app.contacts == ["a@example.com", "b@example.com"]


def test_admin_refuses_hmac_signing(admin_client, web_app):
    response = admin_client.post(
        reverse("admin:oauth_server_application_add"),
        {
            "name": "Partner",
            "client_id": "partner",
            "client_type": "confidential",
            "authorization_grant_type": "authorization-code",
            "redirect_uris": "https://partner.example/cb",
            "allowed_scopes": "openid",
            "algorithm": "HS256",
            "contacts": "",
        },
    )
    assert response.status_code == 200
    assert "algorithm" in response.context["adminform"].form.errors
    assert not Application.objects.filter(client_id="partner").exists()
