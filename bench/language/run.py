"""bench/language: precision and recall of the blameless-language rules on the labelled
corpus (sentences.tsv + labels.tsv), per rule and overall, beside the rules of today's main
(`prose_findings`) in the same run. Prints the held-out part (the figure to quote) and dev.

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

from hindsight.analysis.language import RULES, likely_names, review_sentence
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


def load() -> list[Row]:
    """The sentences with their resolved labels (a sentence not in labels.tsv is clean)."""
    with (HERE / "sentences.tsv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    with (HERE / "labels.tsv").open(encoding="utf-8") as f:
        labels = {r["id"]: r["labels"] for r in csv.DictReader(f, delimiter="\t")}
    unknown = set(labels) - {r["id"] for r in rows}
    if unknown:
        sys.exit(f"labels.tsv names sentences that do not exist: {sorted(unknown)[:3]}")
    for row in rows:
        row["labels"] = labels.get(row["id"], "")
    return rows


def today_rules(sentence: str, names: list[str]) -> set[str]:
    """The rules of today's main, mapped onto the corpus's four kinds."""
    return {TODAY[f.rule] for f in prose_findings(sentence, names=names) if f.rule in TODAY}


def new_rules(sentence: str, names: list[str]) -> set[str]:
    """What `hindsight lint` reports now: the language rules and today's rules together."""
    return {hit.rule for hit in review_sentence(sentence, names)} | today_rules(sentence, names)


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
    names_of: dict[str, list[str]] = {}
    by_file: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        by_file[row["file"]].append(row["text"])
    for file, texts in by_file.items():
        names_of[file] = likely_names(texts)
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
    names: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        names[row["file"]].append(row["text"])
    for row in rows:
        truth = set(filter(None, row["labels"].split("+")))
        found = new_rules(row["text"], likely_names(names[row["file"]]))
        if truth != found:
            print(f"  {row['id']}: labelled {sorted(truth)} found {sorted(found)}: {row['text']}")


def main() -> None:
    rows = load()
    print(
        f"# bench/language · {dt.date.today()} · {platform.machine()} · "
        f"Python {sys.version.split()[0]}"
    )
    table("held-out", [r for r in rows if r["split"] == "heldout"])
    table("dev (rules were tuned here)", [r for r in rows if r["split"] == "dev"])
    if "--dev-misses" in sys.argv:
        misses([r for r in rows if r["split"] == "dev"])


if __name__ == "__main__":
    main()
