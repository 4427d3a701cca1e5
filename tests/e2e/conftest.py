"""Helpers for end-to-end tests against real servers on loopback."""

from html.parser import HTMLParser

# A loopback port nothing listens on: the browser's last hop, intercepted by tests.
CALLBACK = "http://127.0.0.1:9/callback"


class FormParser(HTMLParser):
    """Collects the inputs of the forms in a page: {form_id_or_index: {name: value}}."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append({})
        elif (
            tag == "input"
            and self.forms
            and attributes.get("name")
            and attributes.get("type") not in ("submit", "button")
        ):
            self.forms[-1][attributes["name"]] = attributes.get("value") or ""


def form_fields(html: str, index: int = -1) -> dict[str, str]:
    parser = FormParser()
    parser.feed(html)
    return parser.forms[index]
