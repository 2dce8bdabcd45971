"""Any valid postmortem survives the Markdown and JSON forms unchanged."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from hindsight.domain.codec import postmortem_from_dict, postmortem_to_dict
from hindsight.domain.incidents import Postmortem
from hindsight.rendering.json_form import read_json, render_json
from hindsight.rendering.markdown import render_markdown
from hindsight.rendering.markdown_reader import read_markdown
from tests.strategies import postmortems

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(postmortems)
def test_any_postmortem_survives_the_markdown_form(postmortem: Postmortem) -> None:
    document = render_markdown(postmortem)
    again = read_markdown(document, "property.md")
    assert again == postmortem
    assert render_markdown(again) == document


@PROPERTY
@given(postmortems)
def test_any_postmortem_survives_the_json_form(postmortem: Postmortem) -> None:
    document = render_json(postmortem)
    again = read_json(document, "property.json")
    assert again == postmortem
    assert render_json(again) == document


@PROPERTY
@given(postmortems)
def test_any_postmortem_survives_plain_data(postmortem: Postmortem) -> None:
    assert postmortem_from_dict(postmortem_to_dict(postmortem)) == postmortem
