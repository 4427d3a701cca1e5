"""The curl walkthrough of docs/integrating.md, run as written.

The shell blocks of "The steps, in code and in curl" run in bash against the live
server, with only what differs from `make run` substituted: the servers' ports, the
demo clients' ids and the file their secrets come from. The one step a person does
in the browser (sign in, allow, copy `code` from the address bar) is played by a
`requests` session.
"""

import json
import re
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.e2e.clients.conftest import (
    CLI_CLIENT_ID,
    MACHINE_CLIENT_ID,
    MACHINE_SECRET,
    PASSWORD,
    REPO,
    WEB_CLIENT_ID,
    WEB_CLIENT_SECRET,
    join_catalogue_readers,
)
from tests.factories import BookFactory

GUIDE = REPO / "docs" / "integrating.md"
STEPS = re.compile(r"^### The steps, in code and in curl$(.*?)^### ", re.S | re.M)
SHELL = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)
PASTE = "CODE=paste-the-code-here\n"
KEPT = ("S", "CB", "SECRET", "T", "VERIFIER", "STATE", "NONCE")


def walkthrough() -> str:
    """The shell lines of the steps, in order, as a reader pastes them."""
    steps = STEPS.search(GUIDE.read_text(encoding="utf-8")).group(1)
    return "".join(SHELL.findall(steps))


def localised(script: str, *, issuer: str, client_url: str, demo: Path, book: int):
    script = script.replace("http://127.0.0.1:8000", issuer)
    script = script.replace("http://127.0.0.1:8001", client_url)
    script = script.replace("var/demo.json", str(demo))
    script = re.sub(r"\bmarginalia-web\b", WEB_CLIENT_ID, script)
    script = re.sub(r"\bmarginalia-cli\b", CLI_CLIENT_ID, script)
    script = re.sub(r"\bcatalogue-sync\b", MACHINE_CLIENT_ID, script)
    return script.replace("/books/1/", f"/books/{book}/")


def bash(script: str) -> str:
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def allow_in_browser(visitor, url: str) -> str:
    """Sign in as the person, press Allow, read `code` from the address bar."""
    page = visitor.get(url)
    page = visitor.submit(
        page,
        visitor.form(page, has="username"),
        {"username": "alice", "password": PASSWORD},
    )
    answer = visitor.submit(
        page, visitor.form(page, id="authorizationForm"), button="allow", follow=False
    )
    assert answer.status_code == 302, answer.text[:300]
    return parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]


def test_curl_walkthrough_runs_as_written(
    world, web_client, issuer, visitor, tmp_path, dot_settings
):
    join_catalogue_readers(world)
    world.user_permissions.add(*_editor_permissions())
    book = BookFactory()
    demo = tmp_path / "demo.json"
    demo.write_text(
        json.dumps(
            {
                "clients": {
                    WEB_CLIENT_ID: {"client_secret": WEB_CLIENT_SECRET},
                    MACHINE_CLIENT_ID: {"client_secret": MACHINE_SECRET},
                }
            }
        )
    )
    script = localised(
        walkthrough(), issuer=issuer, client_url=web_client.url, demo=demo, book=book.pk
    )
    assert script.count(PASTE) == 1
    before, after = script.split(PASTE)
    kept = tmp_path / "variables.sh"

    shown = bash(f"{before}\ndeclare -p {' '.join(KEPT)} > {kept}\n")
    code = allow_in_browser(visitor, shown.strip().splitlines()[-1])
    out = bash(f"source {kept}\nCODE={code}\n{after}")

    answers = json_objects(out)
    issued = [answer for answer in answers if "access_token" in answer]
    assert len(issued) == 3, out  # code exchange, refresh, client credentials
    assert "'nonce': " in out, out  # the verified ID token's claims
    assert any(answer.get("rating") == 5 for answer in answers), out  # the review
    assert any(answer.get("sub") == str(world.pk) for answer in answers), out
    revoked = [answer for answer in answers if "detail" in answer]
    assert revoked, out  # the API refuses the revoked access token
    token_dir = Path(re.search(r'^declare -- T="(.+)"$', kept.read_text(), re.M)[1])
    assert not token_dir.is_relative_to(REPO)  # token files outside the repository
    assert not token_dir.exists()  # and removed at the end


def json_objects(text: str) -> list[dict]:
    """Every JSON object in `text`; curl prints its answers without newlines."""
    decoder, found, start = json.JSONDecoder(), [], text.find("{")
    while start != -1:
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            start = text.find("{", start + 1)
            continue
        if isinstance(value, dict):
            found.append(value)
        start = text.find("{", end)
    return found


def _editor_permissions():
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(
        content_type__app_label="resources", codename__startswith="can_"
    )
