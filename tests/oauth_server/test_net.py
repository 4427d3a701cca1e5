"""The client address behind a configured number of trusted proxies."""

import pytest
from django.test import RequestFactory

from oauth_server.net import client_address


def address(settings, proxies: int, peer: str, forwarded: str | None = None) -> str:
    settings.OAUTH_SERVER = {**settings.OAUTH_SERVER, "trusted_proxy_count": proxies}
    meta = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/", **meta))


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        # No proxy: the header is whatever the client wrote.
        (0, None, "10.0.0.9"),
        (0, "203.0.113.7", "10.0.0.9"),
        # One proxy appends the address it saw; anything left of it is the client's.
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "198.51.100.1, 203.0.113.7", "203.0.113.7"),
        (1, "1.1.1.1,2.2.2.2,3.3.3.3, 203.0.113.7", "203.0.113.7"),
        # Two proxies: the outer one's view is second from the right.
        (2, "198.51.100.1, 203.0.113.7, 10.1.1.1", "203.0.113.7"),
        # Fewer entries than proxies, or no header: the peer.
        (2, "203.0.113.7", "10.0.0.9"),
        (1, None, "10.0.0.9"),
        (1, "", "10.0.0.9"),
        # Not an address where one should be: the peer, never the text.
        (1, "198.51.100.1, unknown", "10.0.0.9"),
        (1, "203.0.113.7, <script>", "10.0.0.9"),
        # Ports, brackets, zones and IPv4-mapped spellings of one address.
        (1, "203.0.113.7:4711", "203.0.113.7"),
        (1, "[2001:db8::1]:443", "2001:db8::1"),
        (1, "2001:DB8:0::1", "2001:db8::1"),
        (1, "fe80::1%eth0", "fe80::1"),
        (1, "::ffff:203.0.113.7", "203.0.113.7"),
    ],
)
def test_client_address(settings, proxies, forwarded, expected):
    assert address(settings, proxies, "10.0.0.9", forwarded) == expected


@pytest.mark.parametrize("peer", ["", "not-an-address", "10.0.0.9:1234x"])
def test_a_peer_that_is_no_address_gives_none(settings, peer):
    assert address(settings, 0, peer) == ""
