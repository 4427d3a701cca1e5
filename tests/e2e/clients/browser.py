"""A `requests` session that acts as a browser: follows redirects, submits forms."""

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests

TIMEOUT = 15


@dataclass
class Form:
    action: str
    method: str
    id: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: dict[str, str] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(
                Form(
                    a.get("action", ""), a.get("method", "get").lower(), a.get("id", "")
                )
            )
        elif self.forms and tag == "input" and a.get("name"):
            if a.get("type") == "submit":
                self.forms[-1].buttons[a["name"]] = a.get("value", "")
            else:
                self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif self.forms and tag in {"select", "textarea"} and a.get("name"):
            self.forms[-1].fields[a["name"]] = ""
        elif self.forms and tag == "button" and a.get("name"):
            self.forms[-1].buttons[a["name"]] = a.get("value", "")


def forms_of(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


class Browser:
    """One user agent: one cookie jar shared by every origin on 127.0.0.1."""

    def __init__(self) -> None:
        self.http = requests.Session()

    def get(self, url: str, **kwargs) -> requests.Response:
        return self.http.get(url, timeout=TIMEOUT, **kwargs)

    def form(self, page: requests.Response, *, id: str = "", has: str = "") -> Form:
        for form in forms_of(page.text):
            if (id and form.id == id) or (has and has in {*form.fields, *form.buttons}):
                return form
        raise AssertionError(f"no form id={id!r} has={has!r} on {page.url}")

    def submit(
        self,
        page: requests.Response,
        form: Form,
        data: dict[str, str] | None = None,
        *,
        button: str | None = None,
        follow: bool = True,
    ) -> requests.Response:
        """Submit `form` from `page` as a browser would (hidden fields, one button)."""
        payload = {**form.fields, **(data or {})}
        if button:
            payload[button] = form.buttons[button]
        url = urljoin(page.url, form.action or page.url)
        return self.http.request(
            form.method.upper(),
            url,
            data=payload,
            allow_redirects=follow,
            timeout=TIMEOUT,
            headers={"Referer": page.url},
        )
