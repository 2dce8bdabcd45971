"""Reports: every template on the demo incident (golden files), standalone HTML that parses and
loads nothing, PDFs whose text holds every part, and an external report that leaks nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import os
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pypdf import PdfReader

from hindsight.analysis.candidates import CandidateKind, Factor, RootCauseCandidate
from hindsight.domain.incidents import Participant
from hindsight.domain.rca import RootCauseAnalysis
from hindsight.domain.timeline import TimelineEvent
from hindsight.rendering.charts import timeline_svg
from hindsight.rendering.markdown_reader import read_markdown
from hindsight.rendering.reports import (
    BUILT_IN,
    ReportCandidates,
    ReportMetrics,
    UnknownTemplateError,
    render_pdf,
    render_report,
    standalone_html,
    template_names,
)
from hindsight.services.demo import demo_document
from tests.factories import make_postmortem

GOLDEN = Path(__file__).parent / "golden" / "reports"
DEMO = read_markdown(demo_document(), "demo.md")


class _Checker(HTMLParser):
    """Collects what a browser would fetch, and tags left open."""

    VOID = {
        "meta",
        "link",
        "br",
        "img",
        "input",
        "hr",
        "col",
        "area",
        "base",
        "source",
        "path",
        "circle",
        "line",
        "rect",
    }

    def __init__(self) -> None:
        super().__init__()
        self.fetches: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("img", "script", "iframe", "source") and values.get("src"):
            self.fetches.append(f"{tag} {values['src']}")
        if tag == "link" and values.get("href"):
            self.fetches.append(f"link {values['href']}")
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        return

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1:]}>"
        self.open.pop()


@pytest.mark.parametrize("template", BUILT_IN)
def test_each_template_renders_the_demo_as_in_its_golden_file(template: str) -> None:
    html = standalone_html(DEMO, template)
    golden = GOLDEN / f"{template}.html"
    if os.environ.get("HINDSIGHT_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(html, encoding="utf-8")
    assert html == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("template", BUILT_IN)
def test_standalone_html_parses_and_fetches_nothing(template: str) -> None:
    checker = _Checker()
    checker.feed(standalone_html(DEMO, template))
    checker.close()
    assert checker.fetches == []
    assert checker.open == []


def test_markdown_images_are_dropped_from_reports() -> None:
    pm = dataclasses.replace(DEMO, summary="See ![graph](https://grafana.example/x.png) here.")
    assert "grafana.example" not in standalone_html(pm, "google-sre")


@pytest.mark.parametrize("template", [t for t in BUILT_IN if t != "external"])
def test_the_pdf_text_holds_every_part(template: str) -> None:
    pdf = PdfReader(io.BytesIO(render_pdf(DEMO, template)))
    text = " ".join(page.extract_text() for page in pdf.pages)
    headline = "Duration" if template == "classic" else "Time to detect"
    for expected in ("reddit hugs mybinder", headline, "600"):
        assert expected in text, (template, expected)
    if template in ("google-sre", "pagerduty", "classic"):
        assert "Grafana does not count cordoned nodes" in text or "cordon" in text.lower()
        assert "Run the launch tests continuously" in text


def test_the_external_report_shows_only_the_public_summary_title_and_times() -> None:
    secret = "SECRET-MARKER"
    pm = make_postmortem(
        summary=f"Internal {secret} summary",
        public_summary="Checkout was unavailable for some customers; payments are safe.",
        services=[f"svc-{secret.lower()}"],
        tags=[f"tag-{secret.lower()}"],
        participants=[Participant(name=f"Ana {secret}", team=f"team {secret}")],
    )
    pm = dataclasses.replace(
        pm,
        timeline=tuple(
            dataclasses.replace(e, text=f"{e.text} {secret}", actor=f"a {secret}")
            for e in pm.timeline
        ),
        action_items=tuple(
            dataclasses.replace(a, title=f"{a.title} {secret}", owner=secret)
            for a in pm.action_items
        ),
        lessons=(f"lesson {secret}",),
        analysis=dataclasses.replace(
            pm.analysis, trigger=f"trigger {secret}", root_causes=(f"cause {secret}",)
        ),
        impact=dataclasses.replace(pm.impact, narrative=f"impact {secret}"),
        response=dataclasses.replace(
            pm.response, went_well=(f"well {secret}",), communications=f"comms {secret}"
        ),
    )
    html = standalone_html(pm, "external")
    assert secret not in html and secret.lower() not in html
    assert "Checkout was unavailable for some customers" in html
    pdf = PdfReader(io.BytesIO(render_pdf(pm, "external")))
    assert secret not in " ".join(page.extract_text() for page in pdf.pages)


def test_a_team_template_is_listed_used_and_errors_name_its_line(tmp_path: Path) -> None:
    (tmp_path / "weekly.html").write_text(
        '{% from "_parts.html" import header %}<article>{{ header(pm, metrics) }}'
        "<p>{{ pm.lessons | length }} lessons</p></article>"
    )
    assert "weekly" in template_names(tmp_path)
    assert "5 lessons" in render_report(DEMO, "weekly", tmp_path) or "lessons</p>" in (
        render_report(DEMO, "weekly", tmp_path)
    )
    (tmp_path / "broken.html").write_text("<article>\n{{ pm.no_such_field }}</article>")
    with pytest.raises(UnknownTemplateError, match=r"'broken' could not be rendered"):
        render_report(DEMO, "broken", tmp_path)
    with pytest.raises(UnknownTemplateError, match="no template named 'nope'"):
        render_report(DEMO, "nope", tmp_path)


def test_the_chart_is_accessible_and_marks_moments_and_the_impact_window() -> None:
    svg = timeline_svg(DEMO)
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert '<title id="chart-title">Timeline of reddit hugs mybinder</title>' in svg
    assert "impact started at 14:15 UTC" in svg  # the description says it in words
    for label in ("impact started", "detected", "acknowledged", "mitigated", "resolved"):
        assert f">{label}</text>" in svg
    assert "Impact window: 2h 50m" in svg and "10m to detect" in svg
    assert timeline_svg(make_postmortem(timeline=[])) == ""


def _candidates(count: int) -> ReportCandidates:
    start = dt.datetime(2024, 3, 5, 14, 0, tzinfo=dt.UTC)
    ranked = tuple(
        RootCauseCandidate(
            ref=f"evidence:{n}",
            event=TimelineEvent(at=start - dt.timedelta(minutes=n), text=f"Deploy {n} of checkout"),
            kind=CandidateKind.CHANGE,
            score=3.0 - n / 10,
            factors=(Factor("time", 2.0 - n / 10, f"{n} min before the impact started"),),
        )
        for n in range(1, count + 1)
    )
    return ReportCandidates(
        start, "the marked 'impact started' moment", ranked, (("evidence:2", "trigger"),)
    )


def test_reports_list_the_first_five_candidates_and_the_executive_summary_three() -> None:
    metrics = ReportMetrics(candidates=_candidates(7))
    full = render_report(DEMO, "google-sre", metrics=metrics)
    section = full.split('<section class="candidates">')[1].split("</section>")[0]
    rows = section.split("<tbody>")[1].split("<tr>")[1:]
    assert len(rows) == 5
    assert "Deploy 1 of checkout" in rows[0] and "2.9" in rows[0]
    assert "time +1.9 (1 min before the impact started)" in rows[0]
    assert "(taken as the trigger)" in rows[1] and "taken as" not in rows[0]
    empty = dataclasses.replace(DEMO, analysis=RootCauseAnalysis())
    brief = render_report(empty, "executive", metrics=metrics)
    shown = brief.split('<section class="candidates">')[1].split("</section>")[0]
    assert shown.count("<tr>") == 1 + 3
    # With the analysis written, the executive summary gives the analysis, not the candidates.
    assert '<section class="candidates">' not in render_report(DEMO, "executive", metrics=metrics)
    assert "Deploy 1" not in render_report(DEMO, "external", metrics=metrics)
