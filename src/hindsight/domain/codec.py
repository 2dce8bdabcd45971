"""Convert a postmortem to and from plain data (the JSON form), reporting every problem found."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from hindsight.domain.incidents import Postmortem
from hindsight.errors import HindsightError

FORMAT_VERSION = 1
_ADAPTER: TypeAdapter[Postmortem] = TypeAdapter(Postmortem)
_FIELD_PREFIX = re.compile(r"^([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+)?): (.*)$", re.DOTALL)
_INDEX = re.compile(r"\[(\d+)\]")

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where (a path of field names and list indexes) and why."""

    path: Path
    message: str

    @property
    def field(self) -> str:
        """The path written the way people read it: `timeline[3].at`."""
        text = ""
        for part in self.path:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
        return text or "(document)"

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class InvalidPostmortemError(HindsightError, ValueError):
    """Raised when data does not make a valid postmortem; `problems` lists every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(problem) for problem in problems))


def _split_field(message: str) -> tuple[Path, str]:
    """Domain checks start their message with the field name ('at: ...'); make it a path."""
    match = _FIELD_PREFIX.match(message)
    if not match:
        return (), message
    path: list[str | int] = []
    for part in match.group(1).split("."):
        name = _INDEX.sub("", part)
        path.append(name)
        path.extend(int(index) for index in _INDEX.findall(part))
    return tuple(path), match.group(2)


def problems_from_validation_error(error: ValidationError) -> list[Problem]:
    """Translate pydantic's error list into Problems with readable messages."""
    problems = []
    for item in error.errors(include_url=False):
        path: Path = tuple(part for part in item["loc"] if isinstance(part, str | int))
        message = str(item["msg"])
        if item["type"] == "value_error":
            message = message.removeprefix("Value error, ")
            extra, message = _split_field(message)
            path = path + extra
        elif item["type"] == "unexpected_keyword_argument":
            message = "is not a known field"
        elif item["type"] == "missing_argument":
            message = "is required"
        problems.append(Problem(path=path, message=message))
    return problems


def postmortem_from_dict(data: Mapping[str, Any]) -> Postmortem:
    """Build a postmortem from plain data (parsed JSON or YAML); raise InvalidPostmortemError."""
    try:
        return _ADAPTER.validate_python(dict(data))
    except ValidationError as error:
        raise InvalidPostmortemError(problems_from_validation_error(error)) from None


def postmortem_to_dict(postmortem: Postmortem) -> dict[str, Any]:
    """The postmortem as JSON-ready plain data (strings, numbers, lists, dicts, None)."""
    data: dict[str, Any] = _ADAPTER.dump_python(postmortem, mode="json")
    return data
