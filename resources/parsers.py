"""Body parsers that refuse bodies no client of this API sends, with a 400.

A JSON or XML body nested thousands of levels deep makes the parsers recurse until
Python raises RecursionError (a 500); JSON's `\\ud800` escapes make strings that no
database or renderer can encode. Both are a DRF `ParseError` here.
"""

from xml.etree.ElementTree import TreeBuilder

from defusedxml import ElementTree as etree
from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework_xml import parsers as xml_parsers

# Our bodies are an object of fields, some holding a list or an object: 32 levels
# leave room for any client while bounding the work on a body.
MAX_DEPTH = 32
TOO_DEEP = f"The request body is nested more than {MAX_DEPTH} levels deep."


def check_body(data: object) -> None:
    """Raise ParseError if `data` nests deeper than MAX_DEPTH or holds a lone
    surrogate (in a key or a string). Iterative: the data may be deep."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = [*value.keys(), *value.values()]
        elif isinstance(value, list):
            children = value
        else:
            if isinstance(value, str) and not value.isascii():
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    raise ParseError(
                        "The request body holds a lone surrogate (\\ud800-\\udfff), "
                        "which is not Unicode text."
                    ) from None
            continue
        if depth > MAX_DEPTH:
            raise ParseError(TOO_DEEP)
        stack.extend((child, depth + 1) for child in children)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with a nesting limit and no lone surrogates."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:  # json's C scanner stops at Python's recursion limit
            raise ParseError(TOO_DEEP) from None
        check_body(data)
        return data


class DepthLimitedTreeBuilder(TreeBuilder):
    """Builds the element tree, stopping at the first element nested too deep.

    Expat does not recurse, but building and converting a tree 100,000 levels
    deep took seconds of CPU per request before the conversion hit Python's
    recursion limit.
    """

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0

    def start(self, tag, attrs):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ParseError(TOO_DEEP)
        return super().start(tag, attrs)

    def end(self, tag):
        self.depth -= 1
        return super().end(tag)


class XMLParser(xml_parsers.XMLParser):
    """djangorestframework-xml's parser, refusing bodies nested too deep while
    parsing (still defused: no DTD, no entities)."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        parser = etree.DefusedXMLParser(
            target=DepthLimitedTreeBuilder(), encoding=encoding, forbid_dtd=True
        )
        try:
            tree = etree.parse(stream, parser=parser, forbid_dtd=True)
        except (etree.ParseError, ValueError) as exc:
            raise ParseError(f"XML parse error - {exc}") from None
        return self._xml_convert(tree.getroot())
