"""Root-cause candidates in the reports, on SQLite and PostgreSQL: every internal template
lists the ranking with its reasons and marks the candidates the analysis already holds; the
customer-facing report and the Markdown and JSON round-trip forms never carry them (they are
computed from the evidence at export time, not part of the postmortem)."""

from __future__ import annotations

import io

import pypdf
import pytest
from sqlalchemy.orm import Session

from hindsight.domain.incidents import Postmortem
from hindsight.importers.base import ImportOptions, Source
from hindsight.services.candidates import accept_candidate, root_cause_candidates
from hindsight.services.documents import DocumentFormat, render_document
from hindsight.services.imports import import_evidence
from hindsight.services.incidents import create_postmortem, get_postmortem
from hindsight.services.reports import ReportFormat, export_report
from tests.factories import make_postmortem
from tests.integration.test_candidates import DEMO, GIT, with_git_evidence


def make_incident_from(session: Session, postmortem: Postmortem) -> None:
    create_postmortem(session, postmortem=postmortem, author="ana")


def _html(session: Session, template: str, key: str = DEMO) -> str:
    report = export_report(
        session,
        key=key,
        fmt=ReportFormat.HTML,
        template=template,
        team_dir=None,
        default_template="google-sre",
    )
    return report.content.decode()


def _section(html: str) -> str:
    return html.split('<section class="candidates">')[1].split("</section>")[0]


@pytest.mark.parametrize("template", ["google-sre", "pagerduty", "classic", "executive"])
def test_every_internal_report_lists_the_ranked_candidates_with_their_reasons(
    session: Session, template: str
) -> None:
    with_git_evidence(session)
    if template == "executive":
        # The executive summary shows candidates only while the analysis is still empty.
        pm = get_postmortem(session, key=DEMO).postmortem
        assert pm.analysis.trigger or pm.analysis.root_causes
        assert '<section class="candidates">' not in _html(session, template)
        return
    section = _section(_html(session, template))
    rows = section.split("<tbody>")[1].split("<tr>")[1:]
    ranked = root_cause_candidates(session, key=DEMO).candidates
    assert len(rows) == min(len(ranked), 5) >= 2  # a report lists the first five
    assert "Merge pull request #287" in rows[0] and "Merge pull request #285" in rows[1]
    # The score and the reasons that make it up, as the page and the CLI show them.
    top = ranked[0]
    assert f"{top.score:.1f}" in rows[0]
    assert "time +" in rows[0] and "config +0.5" in rows[0]
    assert "the marked &#39;impact started&#39; moment" in section


def test_a_candidate_taken_into_the_analysis_is_marked_in_the_report(session: Session) -> None:
    with_git_evidence(session)
    ranked = root_cause_candidates(session, key=DEMO).candidates
    accept_candidate(session, key=DEMO, ref=ranked[1].ref, as_="factor", author="ana")
    rows = _section(_html(session, "google-sre")).split("<tr>")[2:]
    assert "(taken as the contributing factor)" in rows[1]
    assert "taken as" not in rows[0]


def test_the_executive_summary_shows_the_candidates_while_the_analysis_is_empty(
    session: Session,
) -> None:
    # The reddit hug's impact start (06:15 PST) and the deploy history, nothing written yet.
    timeline = [
        {
            "at": "2018-01-18T14:15:00+00:00",
            "text": "Launches fail",
            "key_moment": "impact_started",
        },
        {"at": "2018-01-18T17:05:00+00:00", "text": "Launches work", "key_moment": "mitigated"},
    ]
    empty = make_postmortem(key="inc-cand", services=["mybinder"], timeline=timeline, analysis={})
    make_incident_from(session, empty)
    import_evidence(
        session,
        key="inc-cand",
        kind="git",
        source=Source.open(GIT),
        options=ImportOptions(),
        author="ana",
    )
    rows = _section(_html(session, "executive", key="inc-cand")).split("<tbody>")[1]
    # The ingress merge during the incident and the merge before it (at most three are shown).
    assert rows.count("<tr>") == 2
    assert "Merge pull request #287" in rows.split("<tr>")[1]


def test_the_customer_report_and_the_round_trip_forms_never_carry_candidates(
    session: Session,
) -> None:
    with_git_evidence(session)
    assert root_cause_candidates(session, key=DEMO).candidates
    external = _html(session, "external")
    assert '<section class="candidates">' not in external and "#287" not in external
    postmortem = get_postmortem(session, key=DEMO).postmortem
    for fmt in (ReportFormat.MARKDOWN, ReportFormat.JSON):
        exported = export_report(
            session,
            key=DEMO,
            fmt=fmt,
            template=None,
            team_dir=None,
            default_template="google-sre",
        ).content.decode()
        assert exported == render_document(postmortem, DocumentFormat(fmt.value))
        assert "Root-cause candidates" not in exported


def test_the_pdf_report_lists_the_candidates(session: Session) -> None:
    with_git_evidence(session)
    report = export_report(
        session,
        key=DEMO,
        fmt=ReportFormat.PDF,
        template="google-sre",
        team_dir=None,
        default_template="google-sre",
    )
    text = " ".join(
        page.extract_text() for page in pypdf.PdfReader(io.BytesIO(report.content)).pages
    )
    assert "Root-cause candidates" in text
    assert "Proposed by Hindsight from the evidence" in " ".join(text.split())


def test_a_report_without_evidence_has_no_candidates_section(session: Session) -> None:
    make_incident_from(session, make_postmortem(key="inc-bare", timeline=[]))
    html = _html(session, "google-sre", key="inc-bare")
    assert '<section class="candidates">' not in html
