"""Which URLs Hindsight may send to: the check behind every user-set outbound address.

A notification channel's URL is chosen by any signed-in person, and the worker POSTs to it from
inside the network Hindsight runs in. Without a check, that is a way to reach what only the
server can reach (a cloud metadata service at 169.254.169.254, an admin port on localhost, a
database on the private network): server-side request forgery. So a URL is refused, when it is
saved and again before each delivery, unless it is http(s), carries no user name or password,
and every address its host resolves to is a public unicast one (not loopback, private,
link-local, multicast, reserved or unspecified; IPv4-mapped IPv6 addresses are judged as the
IPv4 address they carry). `HINDSIGHT_WEBHOOK_ALLOW_PRIVATE=1` lets an admin allow private
targets for a self-hosted intranet (docs/notifications.md).

Steps at delivery: resolve the host, check each address, then send without following redirects
(a 3xx answer is logged as a failure), so a public endpoint cannot bounce the request inward.
What remains is the moment between this resolution and the connection's own: a name whose
DNS answer changes in between (rebinding) is not caught; a network that must exclude that too
blocks the server's egress to private ranges.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from hindsight.errors import InvalidInputError

Resolver = Callable[[str, int], Iterable[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (raises OSError when it resolves to none)."""
    found: list[Any] = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in found})


def forbidden_reason(address: IPAddress) -> str | None:
    """Why a target address is not a public unicast one, or None when it is."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    checks = (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
    )
    return next((name for name, hit in checks if hit), None)


def check_outbound_url(
    url: str,
    *,
    field: str,
    allow_private: bool = False,
    resolver: Resolver = resolve,
    must_resolve: bool = False,
) -> str:
    """`url` if Hindsight may send to it, else InvalidInputError naming `field` and why.
    A host that does not resolve passes unless `must_resolve` (at save time a name may not
    resolve yet; at delivery nothing is sent to it)."""
    value = url.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError(
            f"{field}: {value!r} is not a web address; give the full http:// or https:// URL, "
            "e.g. https://hooks.slack.com/services/…"
        )
    if parts.username is not None or parts.password is not None:
        raise InvalidInputError(
            f"{field}: the URL carries a user name or password; remove them (a webhook's "
            "secret belongs in its path or its signing secret)"
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise InvalidInputError(f"{field}: {value!r} has a bad port ({error})") from error
    if allow_private:
        return value
    host = parts.hostname
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    try:
        addresses = (
            [literal] if literal else [ipaddress.ip_address(a) for a in resolver(host, port)]
        )
    except OSError as error:
        if must_resolve:
            raise InvalidInputError(
                f"{field}: host {host!r} could not be resolved ({error})"
            ) from error
        return value
    for address in addresses:
        reason = forbidden_reason(address)
        if reason:
            article = "an" if reason[0] in "aeiou" else "a"
            raise InvalidInputError(
                f"{field}: host {host!r} is {article} {reason} address ({address}); Hindsight "
                "sends only to public addresses unless an admin sets "
                "HINDSIGHT_WEBHOOK_ALLOW_PRIVATE=1"
            )
    return value
