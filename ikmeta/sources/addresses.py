"""Which network addresses a server may fetch from for its clients: only public ones.

A server that downloads any URL a client names can be turned on its own network (server-side
request forgery): ``http://127.0.0.1:2375/``, a router's admin page at ``10.0.0.1``, or the
cloud metadata service at ``169.254.169.254`` that hands out credentials. ``ikmeta serve``
fetches with :attr:`~ikmeta.sources.base.FetchOptions.public_only`: every address a host
name resolves to is checked here before the connection is made, and the connection is made
to the address checked (a name that resolves to a public address for the check and a private
one for the connect gains nothing), on every redirect too.

    >>> address_problem("169.254.169.254")
    'a link-local address (where cloud metadata services answer)'
    >>> address_problem("93.184.215.14") is None
    True
"""

from __future__ import annotations

import ipaddress
import socket

from ikmeta.errors import SourceError

NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class AddressRefused(SourceError):
    """A URL whose host is (or resolves to) an address that is not public, fetched for a
    server's client: refused (``ikmeta serve --allow-private-urls`` allows it)."""


def address_problem(address: str) -> str | None:
    """Why ``address`` (an IPv4 or IPv6 address) is not a public one to fetch from, else None.

    >>> address_problem("::ffff:127.0.0.1"), address_problem("10.1.2.3")
    ('a loopback address', 'a private address')
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # (an IPv6 zone: fe80::1%eth0)
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return address_problem(str(embedded))
        if ip.is_site_local:
            return "a private address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (where cloud metadata services answer)"
    if ip.is_unspecified:
        return "the unspecified address (this machine)"
    if ip.is_private:
        return "a private address"
    if ip.is_multicast or not ip.is_global:
        return "not a public address"
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries, where networks translate it to that address:
    IPv4-mapped (``::ffff:a.b.c.d``), NAT64 (``64:ff9b::/96``), 6to4 (``2002::/16``), Teredo's
    client."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def public_address(host: str, port: int) -> str:
    """The first address ``host`` resolves to, once every address it resolves to has been found
    public; raises :class:`AddressRefused` naming the first that is not, and lets
    ``socket.gaierror`` through for a name that does not resolve.

    >>> public_address("127.0.0.1", 80)
    Traceback (most recent call last):
    ikmeta.sources.addresses.AddressRefused: 127.0.0.1: refused: 127.0.0.1 is a loopback address
    """
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    found = [info[4][0] for info in socket.getaddrinfo(bare, port, type=socket.SOCK_STREAM)]
    for address in found:
        problem = address_problem(str(address))
        if problem is not None:
            named = str(address) if str(address) == bare else f"{bare} ({address})"
            raise AddressRefused(host, f"refused: {named} is {problem}")
    return str(found[0])
