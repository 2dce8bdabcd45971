"""How every domain value is declared: a frozen, validated dataclass that refuses unknown fields."""

from __future__ import annotations

from pydantic import ConfigDict

# Pydantic dataclasses keep the domain plain (attributes, equality, `replace`) while giving
# typed validation with a path to the field at fault, which the CLI, API and importers report.
DOMAIN_CONFIG = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)
