"""Any valid postmortem survives the Markdown and JSON forms unchanged."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings

from hindsight.domain.codec import postmortem_from_dict, postmortem_to_dict
from hindsight.domain.incidents import Postmortem
from hindsight.rendering.json_form import read_json, render_json
from hindsight.rendering.markdown import render_markdown
from hindsight.rendering.markdown_reader import read_markdown
from tests.strategies import postmortems

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FORMS = {"markdown": (render_markdown, read_markdown), "json": (render_json, read_json)}


@pytest.mark.parametrize("form", FORMS)
@PROPERTY
@given(postmortem=postmortems)
def test_any_postmortem_survives_export_import_export(form: str, postmortem: Postmortem) -> None:
    render: Callable[[Postmortem], str] = FORMS[form][0]
    read: Callable[[str, str], Postmortem] = FORMS[form][1]
    document = render(postmortem)
    again = read(document, f"property.{form}")
    assert again == postmortem
    assert render(again) == document


@PROPERTY
@given(postmortems)
def test_any_postmortem_survives_plain_data(postmortem: Postmortem) -> None:
    assert postmortem_from_dict(postmortem_to_dict(postmortem)) == postmortem
