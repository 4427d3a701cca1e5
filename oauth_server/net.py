"""Who is on the other end of a request: the client address behind trusted proxies."""

import ipaddress

from django.http import HttpRequest

from oauth_server.conf import server_settings


def client_address(request: HttpRequest) -> str:
    """The client's IP address, as the outermost trusted proxy saw it.

    With `trusted_proxy_count` 0 the peer (`REMOTE_ADDR`) is the client and
    X-Forwarded-For is ignored. With N, each of N proxies appends the address it
    received the request from, so the N-th entry from the right is the client; what
    stands further left was sent by the client and proves nothing (RFC 7239 §8.1).
    A header with fewer entries than N, or an entry that is not an address, leaves
    the peer address, as Werkzeug's ProxyFix does. "" when there is no address.
    """
    peer = _parse(request.META.get("REMOTE_ADDR", ""))
    count = server_settings().trusted_proxy_count
    if count <= 0:
        return peer
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    if len(hops) < count:
        return peer
    return _parse(hops[-count]) or peer


def _parse(value: str) -> str:
    """`value` as a canonical IP address ("" if it is none), ports and brackets dropped.

    One spelling per address, so "::ffff:192.0.2.1" and "192.0.2.1" count as one.
    """
    value = value.strip()
    port = ""
    if value.startswith("["):  # "[2001:db8::1]:443"
        value, _, port = value[1:].partition("]")
        port = port.removeprefix(":")
    elif value.count(":") == 1:  # "192.0.2.1:443"
        value, _, port = value.partition(":")
    if port and not port.isdigit():
        return ""
    try:
        address = ipaddress.ip_address(value.partition("%")[0])  # no IPv6 zone
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return str(address)
