"""bench/language: precision and recall of the blameless-language rules on the labelled
corpus, per rule and overall, beside the first helper's rules and the rules of today's main
(`prose_findings`) in the same run. Prints the fresh held-out part (sentences-fresh.tsv, the
figure to trust: labelled before any rule saw it), the held-out part (sentences.tsv, whose
figures have been read before), the real dev part, and the constructed dev sentences
(constructed.tsv, where the rules are written). `--dev-only` prints only the two dev parts,
for working on the rules without reading held-out figures; `--dev-misses` lists the dev and
constructed sentences where rules and labels disagree (never a held-out one).

A sentence counts once per rule: it is a true positive for a rule when it is labelled with
that rule and the rules report it. "Overall" asks only whether a sentence is flagged at all.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import platform
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from hindsight.analysis.language import RULES, is_mention, likely_names, review_sentence
from hindsight.analysis.lint import prose_findings

HERE = Path(__file__).resolve().parent
# The first helper's rules, frozen beside this file (loaded by path: `make bench` runs this
# script with runpy, which does not put its folder on sys.path).
_SPEC = importlib.util.spec_from_file_location("first_rules", HERE / "first_rules.py")
assert _SPEC is not None and _SPEC.loader is not None
first_rules = importlib.util.module_from_spec(_SPEC)
sys.modules["first_rules"] = first_rules  # dataclasses look their module up there
_SPEC.loader.exec_module(first_rules)
# How today's rule names map onto the four kinds the corpus is labelled with.
TODAY = {
    "blameless/human-error": "person-cause",
    "blameless/hindsight": "counterfactual",
    "blameless/failed-to": "counterfactual",
    "blameless/judgement": "normative",
    "blameless/obviously": "normative",
    "blameless/blame": "normative",
    "blameless/forgot": "person-cause",
    "blameless/person-as-cause": "person-cause",
}
Row = dict[str, str]
Detector = Callable[[str, list[str]], set[str]]


# The constructed sentences name people as a Hindsight postmortem's participants would.
CONSTRUCTED_PARTICIPANTS = ["Ana", "Bob", "Jordan", "Priya", "Sam"]


def load(sentences: str = "sentences.tsv", labels_file: str = "labels.tsv") -> list[Row]:
    """The sentences with their resolved labels (a sentence not in the labels is clean)."""
    with (HERE / sentences).open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    with (HERE / labels_file).open(encoding="utf-8") as f:
        labels = {r["id"]: r["labels"] for r in csv.DictReader(f, delimiter="\t")}
    unknown = set(labels) - {r["id"] for r in rows}
    if unknown:
        sys.exit(f"{labels_file} names sentences that do not exist: {sorted(unknown)[:3]}")
    for row in rows:
        row["labels"] = labels.get(row["id"], "")
    return rows


def load_constructed() -> list[Row]:
    """The constructed dev sentences, each with its labels and source, as one 'file'."""
    with (HERE / "constructed.tsv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    for row in rows:
        row["file"], row["split"] = "constructed.tsv", "constructed"
    return rows


def names_by_file(rows: list[Row]) -> dict[str, list[str]]:
    """The names lint would know per file: likely names in a report; the participants of
    the constructed sentences."""
    by_file: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        by_file[row["file"]].append(row["text"])
    names = {file: likely_names(texts) for file, texts in by_file.items()}
    if "constructed.tsv" in names:
        names["constructed.tsv"] = CONSTRUCTED_PARTICIPANTS
    return names


def today_rules(sentence: str, names: list[str]) -> set[str]:
    """The rules of today's main, mapped onto the corpus's four kinds."""
    return {TODAY[f.rule] for f in prose_findings(sentence, names=names) if f.rule in TODAY}


def new_rules(sentence: str, names: list[str]) -> set[str]:
    """What `hindsight lint` reports now: the language rules and today's rules together,
    today's only where they use a phrase rather than name it (as services/lint_archive)."""
    phrases = {
        TODAY[f.rule]
        for f in prose_findings(sentence, names=names)
        if f.rule in TODAY and not is_mention(sentence, f.start, f.end)
    }
    return {hit.rule for hit in review_sentence(sentence, names)} | phrases


def first(sentence: str, names: list[str]) -> set[str]:
    """The first helper's rules (a frozen copy in first_rules.py) with today's rules."""
    hits = first_rules.review_sentence(sentence, names)
    return {hit.rule for hit in hits} | today_rules(sentence, names)


def tally(count: list[int], labelled: bool, flagged: bool) -> None:
    """Add one sentence to [true positives, false positives, false negatives]."""
    if labelled and flagged:
        count[0] += 1
    elif flagged:
        count[1] += 1
    elif labelled:
        count[2] += 1


def score(rows: list[Row], detect: Detector) -> dict[str, tuple[int, int, int]]:
    """(true positives, false positives, false negatives) per rule and overall."""
    names_of = names_by_file(rows)
    counts = {rule: [0, 0, 0] for rule in (*RULES, "overall")}
    for row in rows:
        truth = set(filter(None, row["labels"].split("+")))
        found = detect(row["text"], names_of[row["file"]])
        for rule, (labelled, flagged) in {
            **{rule: (rule in truth, rule in found) for rule in RULES},
            "overall": (bool(truth), bool(found)),
        }.items():
            tally(counts[rule], labelled, flagged)
    return {rule: (c[0], c[1], c[2]) for rule, c in counts.items()}


def ratio(a: int, b: int) -> str:
    return f"{a / b:.2f}" if b else "—"


def table(title: str, rows: list[Row]) -> None:
    positives = sum(1 for r in rows if r["labels"])
    print(f"\n## {title}: {len(rows)} sentences, {positives} labelled as breaking a rule")
    print(
        "| Rule | Labelled | New P | New R | New TP/FP/FN | First P | First R | Today P | Today R |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    began = time.perf_counter()
    new, old, today = score(rows, new_rules), score(rows, first), score(rows, today_rules)
    elapsed = time.perf_counter() - began
    for rule in (*RULES, "overall"):
        tp, fp, fn = new[rule]
        ftp, ffp, ffn = old[rule]
        ttp, tfp, tfn = today[rule]
        print(
            f"| {rule} | {tp + fn} | {ratio(tp, tp + fp)} | {ratio(tp, tp + fn)} | "
            f"{tp}/{fp}/{fn} | {ratio(ftp, ftp + ffp)} | {ratio(ftp, ftp + ffn)} | "
            f"{ratio(ttp, ttp + tfp)} | {ratio(ttp, ttp + tfn)} |"
        )
    print(f"(three rule sets over {len(rows)} sentences in {elapsed * 1000:.0f} ms)")


def misses(rows: list[Row]) -> None:
    """The dev part's disagreements, for tuning (never printed for held-out)."""
    names = names_by_file(rows)
    for row in rows:
        if row["split"] not in ("dev", "constructed"):
            continue
        truth = set(filter(None, row["labels"].split("+")))
        found = new_rules(row["text"], names[row["file"]])
        if truth != found:
            print(f"  {row['id']}: labelled {sorted(truth)} found {sorted(found)}: {row['text']}")


def main() -> None:
    rows = load()
    fresh = load("sentences-fresh.tsv", "labels-fresh.tsv")
    constructed = load_constructed()
    print(
        f"# bench/language · {dt.date.today()} · {platform.machine()} · "
        f"Python {sys.version.split()[0]}"
    )
    if "--dev-only" not in sys.argv:
        table("fresh held-out (labelled before any rule ran on it)", fresh)
        table("held-out (read before)", [r for r in rows if r["split"] == "heldout"])
    table("dev (real reports; rules were tuned here)", [r for r in rows if r["split"] == "dev"])
    table("constructed (dev; rules were written here)", constructed)
    if "--dev-misses" in sys.argv:
        misses([r for r in rows if r["split"] == "dev"])
        misses(constructed)


if __name__ == "__main__":
    main()
