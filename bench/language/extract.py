"""Write bench/language/sentences.tsv: every prose sentence of the chosen real reports in
../shared/data/postmortems, with its source file and line, and the split it belongs to.

Run once from the repository root (`python bench/language/extract.py`); the labels are kept
in labels-pass1.tsv, labels-pass2.tsv and labels.tsv beside it, keyed by sentence id.
"""

from __future__ import annotations

import csv
import hashlib
import sys
from pathlib import Path

from hindsight.analysis.sentences import markdown_sentences

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "postmortems"
HERE = Path(__file__).resolve().parent
# (report, split): alternate reports of each source go to held-out, so both parts see every
# layout and no report is split between them.
REPORTS = [
    ("moj-cloud-platform-incidents/2020-02-12.md", "dev"),
    ("moj-cloud-platform-incidents/2020-08-14-ingress-controllers-crashlooping.md", "dev"),
    ("moj-cloud-platform-incidents/2020-09-21-some-cloud-platform-components-destroyed.md", "dev"),
    ("moj-cloud-platform-incidents/2021-05-10-apply-pipeline-downtime.md", "dev"),
    ("moj-cloud-platform-incidents/2021-07-12-all-ingress-apps-live1-stop-working.md", "dev"),
    ("moj-cloud-platform-incidents/2022-01-22-some-dns-records-deleted.md", "dev"),
    ("moj-cloud-platform-incidents/2022-07-11-slow-performance-for-ingress-traffic.md", "dev"),
    ("moj-cloud-platform-incidents/2022-11-15-prometheus-ekslive-down.md", "dev"),
    (
        "2i2c-incident-reports/2023-01-23-Upgrading-ingress-nginx-caused-brief-outage-in-carbonplan.md",
        "dev",
    ),
    ("2i2c-incident-reports/2025-07-11-cloudbank-healthcheck.md", "dev"),
    ("2i2c-incident-reports/2025-07-21-openscapes-hub-pods-dying.md", "dev"),
    ("2i2c-incident-reports/2025-08-12-leap-outage.md", "dev"),
    ("2i2c-incident-reports/2025-05-12-earthscope-resource-provisioning-issue.md", "dev"),
    ("univaf-incidents/2021-06-03--database-full.md", "dev"),
    ("univaf-incidents/2021-06-28--external-id-migration.md", "dev"),
    ("univaf-incidents/2021-06-29--actions-budget-terraform-state.md", "dev"),
    ("mybinder-incident-reports/2018-02-22-nginx-down.md", "dev"),
    ("mybinder-incident-reports/2019-04-03-ingress-cordoned.md", "dev"),
    ("mybinder-incident-reports/2017-09-29-504.md", "dev"),
    ("mybinder-incident-reports/2018-07-08-podsnips-aplenty.md", "dev"),
    ("mybinder-incident-reports/2019-02-20-no-logs.md", "dev"),
    ("mybinder-incident-reports/2018-01-17-ubuntu-upgrade.md", "dev"),
]

# The second corpus (labelled before any rule was changed again): every remaining report of
# every layout, which is the held-out part from now on; the first held-out part was looked at
# while the first rules were written, so it moved to dev.
_FIRST = {report for report, _ in REPORTS}
_LAYOUTS = (
    "moj-cloud-platform-incidents",
    "2i2c-incident-reports",
    "univaf-incidents",
    "mybinder-incident-reports",
    "templates-dastergon",
    "templates-pagerduty",
)
_NOT_REPORTS = {"index.md"}
# The third corpus, the fresh held-out part: the real prose of ../shared/data/postmortems
# left out of the first two (the two incident logs' index pages, with one title per incident
# of 2020-2026, and lorin's list of major incidents with its articles' titles). Extracted and
# labelled in two passes before any rule was run on it; written to sentences-fresh.tsv.
FRESH = [
    "moj-cloud-platform-incidents/index.md",
    "mybinder-incident-reports/index.md",
    "lists/lorin-major-incidents.md",
]


def sentence_id(report: str, line: int, text: str) -> str:
    """A stable id: the report, the line and a digest of the text."""
    digest = hashlib.sha1(f"{report}:{line}:{text}".encode()).hexdigest()[:6]
    return f"{Path(report).stem[:24]}:{line}:{digest}"


def rows_of(reports: list[tuple[str, str]]) -> list[list[object]]:
    """One row per sentence of each report: id, split, file, line, text."""
    rows: list[list[object]] = []
    for report, split in reports:
        text = (DATA / report).read_text(encoding="utf-8")
        for sentence in markdown_sentences(text):
            rows.append(
                [
                    sentence_id(report, sentence.line, sentence.text),
                    split,
                    report,
                    sentence.line,
                    sentence.text,
                ]
            )
    return rows


def write(name: str, rows: list[list[object]]) -> None:
    with (HERE / name).open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter="\t", lineterminator="\n")
        writer.writerow(["id", "split", "file", "line", "text"])
        writer.writerows(rows)
    print(f"{name}: {len(rows)} sentences", file=sys.stderr)


def main() -> None:
    second = [
        (f"{layout}/{path.name}", "heldout")
        for layout in _LAYOUTS
        for path in sorted((DATA / layout).glob("*.md"))
        if path.name not in _NOT_REPORTS and f"{layout}/{path.name}" not in _FIRST
    ]
    write("sentences.tsv", rows_of([*REPORTS, *second]))
    write("sentences-fresh.tsv", rows_of([(report, "fresh") for report in FRESH]))


if __name__ == "__main__":
    main()
