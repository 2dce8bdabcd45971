"""The JSON form of a postmortem: the domain's plain data with a format marker."""

from __future__ import annotations

import json
from typing import Any

from hindsight.domain.codec import InvalidPostmortemError, postmortem_from_dict, postmortem_to_dict
from hindsight.domain.incidents import Postmortem
from hindsight.errors import DocumentError, Located
from hindsight.rendering.form import FORMAT_MARKER, FORMAT_VERSION


def render_json(postmortem: Postmortem) -> str:
    """Pretty, stable JSON (field order as declared), ending with a newline."""
    data: dict[str, Any] = {FORMAT_MARKER: FORMAT_VERSION, **postmortem_to_dict(postmortem)}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def read_json(text: str, source: str = "<text>") -> Postmortem:
    """Parse the JSON form; raise DocumentError with the line (syntax) or field (content)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise DocumentError(
            [Located(source, error.lineno, "", f"not valid JSON: {error.msg}")]
        ) from None
    if not isinstance(data, dict):
        raise DocumentError([Located(source, 1, "", "must be a JSON object")])
    marker = data.pop(FORMAT_MARKER, None)
    if marker != FORMAT_VERSION:
        raise DocumentError(
            [Located(source, 0, FORMAT_MARKER, f"must be {FORMAT_VERSION} (the format version)")]
        )
    try:
        return postmortem_from_dict(data)
    except InvalidPostmortemError as error:
        raise DocumentError(
            [Located(source, 0, problem.field, problem.message) for problem in error.problems]
        ) from None
