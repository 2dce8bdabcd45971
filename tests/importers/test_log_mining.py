"""Log-template grouping accuracy on the loghub 2k samples, against drain3's defaults.

Grouping accuracy (Zhu et al., ICSE-SEIP 2019): a line counts as correct when the group it was
put in holds exactly the lines that share its ground-truth event id. Both parsers get the same
`Content` column; drain3 runs with `TemplateMiner()`'s defaults, line by line, as its README
shows.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import pytest
from drain3 import TemplateMiner as Drain3Miner

from hindsight.importers.logs.mining import group_lines

DATA = Path(__file__).parent.parent / "data" / "loghub"
SYSTEMS = sorted(p.name.split("_")[0] for p in DATA.glob("*_2k.log_structured.csv.gz"))


def grouping_accuracy(truth: Sequence[str], found: Sequence[object]) -> float:
    """The share of lines whose found group equals their true group exactly."""
    true_groups: dict[str, set[int]] = defaultdict(set)
    found_groups: dict[object, set[int]] = defaultdict(set)
    for index, (expected, got) in enumerate(zip(truth, found, strict=True)):
        true_groups[expected].add(index)
        found_groups[got].add(index)
    correct = 0
    for members in found_groups.values():
        first = next(iter(members))
        if true_groups[truth[first]] == members:
            correct += len(members)
    return correct / len(truth)


def load(system: str) -> tuple[list[str], list[str]]:
    with gzip.open(DATA / f"{system}_2k.log_structured.csv.gz", "rt", encoding="utf-8") as f:
        rows = list(csv.DictReader(io.StringIO(f.read())))
    return [row["Content"] for row in rows], [row["EventId"] for row in rows]


def drain3_default(contents: Sequence[str]) -> list[int]:
    logging.getLogger("drain3").setLevel(logging.WARNING)
    miner = Drain3Miner()
    return [miner.add_log_message(content)["cluster_id"] for content in contents]


def test_grouping_accuracy_measure_is_exact_on_known_cases() -> None:
    assert grouping_accuracy(["a", "a", "b"], [1, 1, 2]) == 1.0
    assert grouping_accuracy(["a", "a", "b"], [1, 1, 1]) == 0.0
    assert grouping_accuracy(["a", "a", "b"], [1, 2, 3]) == pytest.approx(1 / 3)


def test_the_samples_cover_all_sixteen_loghub_systems() -> None:
    assert len(SYSTEMS) == 16


@pytest.mark.parametrize("system", SYSTEMS)
def test_template_grouping_is_at_least_as_accurate_as_drain3_defaults(system: str) -> None:
    contents, truth = load(system)
    ours = grouping_accuracy(truth, group_lines(contents))
    theirs = grouping_accuracy(truth, drain3_default(contents))
    print(f"{system}: hindsight {ours:.3f}, drain3 default {theirs:.3f}")
    assert ours >= theirs
