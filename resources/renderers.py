"""Renderers: the browsable API under the site's CSP, and always well-formed XML."""

import re

from rest_framework import renderers
from rest_framework_xml import renderers as xml_renderers


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """DRF's browsable API; its inline code style carries the CSP nonce."""

    template = "resources/browsable_api.html"


# Characters XML 1.0 cannot carry (§2.2): C0 controls but tab, newline and carriage
# return, lone surrogates, U+FFFE and U+FFFF.
NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
NOT_NAME_START = re.compile(r"^[^A-Za-z_]")
NOT_NAME_CHAR = re.compile(r"[^A-Za-z0-9._-]")


def xml_name(key: object) -> str:
    """`key` as an element name: characters a name cannot hold become `_`."""
    name = NOT_NAME_CHAR.sub("_", str(key))
    return "_" + name if not name or NOT_NAME_START.match(name) else name


def xml_safe(data: object) -> object:
    """`data` with strings XML can carry and keys that are element names."""
    if isinstance(data, dict):
        return {xml_name(key): xml_safe(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [xml_safe(item) for item in data]
    if isinstance(data, str):
        return NOT_XML_CHAR.sub("\ufffd", data)
    return data


class XMLRenderer(xml_renderers.XMLRenderer):
    """djangorestframework-xml's renderer, robust to any data.

    Text stored before control characters were refused (or echoed from a request
    in an error) would make Django's XML generator raise, and a key that is not
    an XML name (an unknown field echoed in a 400) would make the output
    malformed, or inject markup. Such characters become U+FFFD and such keys
    get `_` for each character an element name cannot hold.
    """

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return super().render(xml_safe(data), accepted_media_type, renderer_context)
