"""Outbound URLs (services/outbound.py): what a webhook may point at, checked without DNS."""

from __future__ import annotations

import re
from collections.abc import Iterable

import pytest

from hindsight.errors import InvalidInputError
from hindsight.services.outbound import check_outbound_url


def resolver(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    def resolve(host: str, port: int) -> Iterable[str]:
        if host not in table:
            raise OSError("Name or service not known")
        return table[host]

    return resolve


DNS = resolver(
    {
        "hooks.example.com": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
        "sneaky.example.com": ["93.184.216.34", "10.1.2.3"],  # one private answer is enough
        "intranet.corp": ["192.168.1.20"],
        "localhost": ["127.0.0.1", "::1"],
    }
)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://127.0.0.1:8080/hook", "is a loopback address"),
        ("http://localhost/hook", "is a loopback address"),
        ("http://[::1]/hook", "is a loopback address"),
        ("http://[::ffff:127.0.0.1]/hook", "is a loopback address (::ffff:7f00:1)"),
        ("http://10.0.0.5/hook", "is a private address"),
        ("https://intranet.corp/hook", "is a private address (192.168.1.20)"),
        ("https://sneaky.example.com/hook", "is a private address (10.1.2.3)"),
        ("http://169.254.169.254/latest/meta-data", "is a link-local address"),
        ("http://[fe80::1]/x", "is a link-local address"),
        ("http://224.0.0.1/x", "is a multicast address"),
        ("http://240.0.0.1/x", "is a reserved address"),
        ("http://0.0.0.0/x", "is an unspecified address"),
        ("ftp://hooks.example.com/x", "is not a web address"),
        ("file:///etc/passwd", "is not a web address"),
        ("gopher://hooks.example.com/x", "is not a web address"),
        ("https://user:secret@hooks.example.com/x", "carries a user name or password"),
        ("https://token@hooks.example.com/x", "carries a user name or password"),
        ("https://hooks.example.com:99999/x", "has a bad port"),
    ],
)
def test_urls_that_reach_inside_the_network_or_are_not_web_addresses_are_refused(
    url: str, problem: str
) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(problem)) as refused:
        check_outbound_url(url, field="target", resolver=DNS)
    assert str(refused.value).startswith("target: ")


def test_public_addresses_pass_and_a_name_that_does_not_resolve_waits_for_delivery() -> None:
    for url in ("https://hooks.example.com/services/T0/B0/x", "http://93.184.216.34:8080/x"):
        assert check_outbound_url(url, field="target", resolver=DNS) == url
    assert check_outbound_url("https://h.invalid/x", field="target", resolver=DNS)
    with pytest.raises(InvalidInputError, match="could not be resolved"):
        check_outbound_url("https://h.invalid/x", field="target", resolver=DNS, must_resolve=True)


def test_the_admin_allowance_lets_private_targets_through_but_not_other_schemes() -> None:
    for url in ("http://127.0.0.1:8080/hook", "https://intranet.corp/hook", "http://10.0.0.5/"):
        assert check_outbound_url(url, field="target", resolver=DNS, allow_private=True) == url
    with pytest.raises(InvalidInputError, match="is not a web address"):
        check_outbound_url("file:///etc/passwd", field="target", allow_private=True)
    with pytest.raises(InvalidInputError, match="user name or password"):
        check_outbound_url("http://a:b@10.0.0.5/", field="target", allow_private=True)
