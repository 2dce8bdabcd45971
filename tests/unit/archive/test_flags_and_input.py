"""Nothing is fixed: inconsistent facts are kept as written and flagged. Bad input is refused
with the file, the line and what to do. Teams extend the heading table. PDFs are read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hindsight.analysis.archive import (
    DEFAULT_HEADINGS,
    ArchiveError,
    HeadingTable,
    read_report,
)

ARCHIVE = Path(__file__).parents[2] / "data" / "archive"
MOJ = ARCHIVE / "moj-cloud-platform-incidents" / "2022-11-15-prometheus-ekslive-down.md"


def _variant(old: bytes, new: bytes) -> bytes:
    data = MOJ.read_bytes()
    assert old in data
    return data.replace(old, new, 1)


def _flags(data: bytes) -> dict[int, str]:
    report = read_report(data, "moj/variant.md", zone="Europe/London")
    report.to_postmortem()  # still a valid postmortem: nothing refused, nothing fixed
    return {flag.line: flag.code for flag in report.flags}


def test_resolved_before_declared_is_kept_and_flagged() -> None:
    data = _variant(b"Resolved 2022-11-15 16:30", b"Resolved 2022-11-15 15:30")
    report = read_report(data, "moj/variant.md", zone="Europe/London")
    assert _flags(data)[12] == "moment-order"
    resolved = report.to_postmortem().key_moments()
    assert resolved["resolved"].local_time.hour == 15  # as written
    assert (
        "'resolved' (2022-11-15 15:30 Europe/London, line 12) is before" in report.flags[0].message
    )


def test_time_tbc_is_kept_as_a_note_and_flagged() -> None:
    data = _variant(b"  - Repaired 2022-11-15 16:30", b"  - Time TBC: service repaired")
    assert _flags(data)[11] == "time-tbc"
    pm = read_report(data, "moj/variant.md", zone="Europe/London").to_postmortem()
    assert "Time TBC: service repaired" in pm.summary


def test_a_year_typo_is_kept_as_written_and_flagged() -> None:
    data = _variant(b"Repaired 2022-11-15 16:30", b"Repaired 22022-11-15 16:30")
    flags = read_report(data, "moj/variant.md", zone="Europe/London").flags
    assert [(f.line, f.code) for f in flags if f.code == "bad-date"] == [(11, "bad-date")]
    assert "22022" in flags[0].message
    pm = read_report(data, "moj/variant.md", zone="Europe/London").to_postmortem()
    assert "Repaired 22022-11-15 16:30" in pm.summary


def test_a_duration_that_disagrees_with_the_times_is_flagged() -> None:
    data = _variant(b"**Time to repair**: 27m", b"**Time to repair**: 2h 7m")
    flags = read_report(data, "moj/variant.md", zone="Europe/London").flags
    [flag] = [f for f in flags if f.code == "duration"]
    assert flag.line == 14
    assert "written as 2h 07m, but the key times give 0h 25m, 0h 27m" in flag.message


def test_pst_written_in_summer_is_read_as_pacific_daylight_time_and_flagged() -> None:
    text = b"# Outage\n\n## Timeline\n\n### 2021-07-01 09:00 PST\n\nIt broke.\n"
    report = read_report(text, "t/x.md")
    [event] = report.to_postmortem().timeline
    assert event.at == dt.datetime(2021, 7, 1, 16, 0, tzinfo=dt.UTC)
    assert report.flags[0].code == "zone-name" and "PDT" in report.flags[0].message


def test_a_zone_named_by_option_is_used_when_the_report_names_none() -> None:
    text = b"# Outage\n\n## Timeline\n\n- 2024-03-31 00:30 before the change\n- 02:30 after it\n"
    pm = read_report(text, "t/x.md", zone="Europe/London").to_postmortem()
    assert [e.at.hour for e in pm.timeline] == [0, 1]  # GMT, then BST from 01:00 UTC
    assert [e.local_time.tzname() for e in pm.timeline] == ["GMT", "BST"]


def test_times_in_the_shapes_reports_use() -> None:
    text = (
        b"# Outage\n\nAll times UK\n\n## Timeline\n\n**12 March 2024**\n\n"
        b"| Time | Event |\n|---|---|\n| 14.43 | Alert fires |\n| 1600 | Fixed |\n"
        b"- 9:05 pm paged\n"
    )
    pm = read_report(text, "t/x.md").to_postmortem()
    got = [(e.local_time.strftime("%Y-%m-%d %H:%M"), e.text) for e in pm.timeline]
    assert got == [
        ("2024-03-12 14:43", "Alert fires"),
        ("2024-03-12 16:00", "Fixed"),
        ("2024-03-12 21:05", "paged"),
    ]
    assert {e.zone for e in pm.timeline} == {"Europe/London"}


@pytest.mark.parametrize(
    ("data", "line", "words"),
    [
        (b"\x00\x01\x02binary", 1, "binary, not text"),
        (b"# ok\n\n\xff\xfe broken", 3, "not UTF-8 text"),
        (b"", 0, "is empty"),
        (b"%PDF-1.7\n%garbage", 0, "not a readable PDF"),
    ],
)
def test_unreadable_input_names_the_file_and_line(data: bytes, line: int, words: str) -> None:
    with pytest.raises(ArchiveError) as error:
        read_report(data, "team/report.md")
    assert (error.value.name, error.value.line) == ("team/report.md", line)
    assert words in error.value.message


def test_a_file_over_the_limit_is_refused_without_reading_it() -> None:
    with pytest.raises(ArchiveError, match="at most 5,242,880 bytes"):
        read_report(b"x" * (5 * 1024 * 1024 + 1), "team/huge.md")


def test_a_report_with_no_known_heading_is_a_summary_only_draft_with_a_flag() -> None:
    report = read_report(b"Some notes.\n\n## Musings\n\nMore notes.\n", "t/notes.md")
    pm = report.to_postmortem()
    assert [f.code for f in report.flags] == ["no-title", "no-headings"]
    assert pm.title == "notes" and "More notes." in pm.summary and not pm.timeline


def test_a_team_extends_the_heading_table() -> None:
    text = b"# Outage\n\n## Blast zone\n\nHalf the users.\n"
    assert read_report(text, "t/x.md").to_postmortem().impact.narrative == ""
    table = DEFAULT_HEADINGS.extended({"impact": ["blast zone"]})
    assert read_report(text, "t/x.md", headings=table).to_postmortem().impact.narrative == (
        "Half the users."
    )
    with pytest.raises(ValueError, match="'effects' is not a part"):
        HeadingTable({"effects": ["x"]})


def test_headings_map_by_meaning_the_longest_phrase_winning() -> None:
    match = DEFAULT_HEADINGS.match
    assert match("What Didn't Go So Well?") == "went_wrong"
    assert match("Lessons Learned") == "lessons"
    assert match("Follow-up timeline (times in BST)") == "timeline"
    assert match("Follow-up improvements") == "action_items"
    assert match("Root cause and mitigation") == "analysis"
    assert match("Summary of impact") == "impact"
    assert match("Musings") is None


def test_a_pdf_rendered_from_a_real_report_is_read() -> None:
    import weasyprint

    from hindsight.rendering.html import markdown_to_html

    source = ARCHIVE / "mybinder-incident-reports" / "2018-01-18-reddit-hug.md"
    html = f"<html><body>{markdown_to_html(source.read_text(encoding='utf-8'))}</body></html>"
    pdf = weasyprint.HTML(string=html).write_pdf()
    report = read_report(pdf, "mybinder/2018-01-18-reddit-hug.pdf")
    pm = report.to_postmortem()
    assert report.layout == "pdf"
    assert pm.title == "2018-01-18, reddit hugs mybinder"
    assert report.zone == "America/Los_Angeles"
    assert pm.timeline[0].at == dt.datetime(2018, 1, 18, 12, 19, tzinfo=dt.UTC)
    assert len(pm.timeline) == 25
    assert any("Run the py.tests constantly" in a.title for a in pm.action_items)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_give_a_report_or_our_error_never_a_traceback(data: bytes) -> None:
    try:
        read_report(data, "fuzz/x.md").to_postmortem()
    except ArchiveError as error:
        assert error.name == "fuzz/x.md"


@settings(max_examples=60, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("#-*|: 0123456789\nAPMaptimeslTBC.[]()x")), max_size=300)
)
def test_arbitrary_markdown_like_text_always_reads(text: str) -> None:
    try:
        read_report(text.encode(), "fuzz/x.md").to_postmortem()
    except ArchiveError as error:
        assert error.message == "is empty; there is no report to import"
