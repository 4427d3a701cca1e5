"""The browsable API under the site's Content-Security-Policy."""

from rest_framework import renderers


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """DRF's browsable API; its inline code style carries the CSP nonce."""

    template = "resources/browsable_api.html"
