"""Relevance of similar incidents on real reports: precision@5 of the hybrid ranking, plain
BM25 and plain embeddings, side by side in one run, on the tuning and the held-out groups of
bench/similar/labels.toml (README.md gives the labelling rule).

    .venv/bin/python bench/similar/run.py            # the table
    .venv/bin/python bench/similar/run.py --tune     # the grids, on the tuning groups only
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import re
import sys
import tomllib
from pathlib import Path

import numpy as np

from hindsight.analysis import similarity
from hindsight.analysis.similarity import MAX_TERMS, fuse, tokenize
from hindsight.analysis.similarity_index import Parts, Profile, SimilarityIndex
from hindsight.services.embeddings import WordLlamaEmbedder

HERE = Path(__file__).parent
DATA = HERE.parents[1].parent / "shared" / "data" / "postmortems"
COLLECTIONS = {  # each team's reports come from its own system: its service name
    "mybinder-incident-reports": "mybinder.org",
    "moj-cloud-platform-incidents": "cloud-platform",
    "2i2c-incident-reports": "2i2c-hubs",
    "univaf-incidents": "univaf",
}
MODES = {
    "hybrid": None,  # analysis.similarity.WEIGHTS
    "bm25": {"lexical": 1.0},
    "embeddings": {"semantic": 1.0},
}
# "Useful recall" for the recurrence threshold, fixed before tuning: at least a quarter of the
# tuning queries get a right suggestion; among those thresholds, the best precision.
RECALL_FLOOR = 0.25


def read_report(path: Path) -> tuple[str, str]:
    """(title, body) of a Markdown report, front matter dropped."""
    text = path.read_text(encoding="utf-8")
    title = ""
    if text.startswith("---"):
        end = text.find("\n---", 3)
        front, text = text[3:end], text[end + 4 :]
        found = re.search(r"^title:\s*(.+)$", front, re.M)
        title = found.group(1).strip().strip("\"'") if found else ""
    heading = re.search(r"^#\s+(.+)$", text, re.M)
    return (title or (heading.group(1) if heading else path.stem))[:200], text


def load_profiles(embedder: WordLlamaEmbedder) -> dict[str, Profile]:
    """Every real incident report as a profile, keyed by its path under DATA."""
    profiles = {}
    paths = sorted(p for c in COLLECTIONS for p in (DATA / c).glob("2*.md"))
    for n, path in enumerate(paths):
        title, body = read_report(path)
        # The report's text stands in for the parts an import would fill (title twice, as
        # analysis.similarity.profile_text weighs it); the service is the team's system.
        text = f"{title}\n{title}\n{body}"
        created = dt.datetime.fromisoformat(path.name[:10]).replace(tzinfo=dt.UTC)
        profiles[f"{path.parent.name}/{path.name}"] = Profile(
            id=n,
            key=path.stem,
            title=title,
            created_at=created,
            terms=tuple(tokenize(text)[:MAX_TERMS]),
            services=frozenset({COLLECTIONS[path.parent.name]}),
            vector=embedder.embed([text])[0],
            happened_at=created,
        )
    return profiles


Case = tuple[Parts, np.ndarray, set[int]]


def cases(
    index: SimilarityIndex, profiles: dict[str, Profile], groups: list[dict[str, object]]
) -> list[Case]:
    """(parts, eligible, relevant positions) of every member of every group as a query: the
    other reports are ranked, the rest of its group is relevant."""
    found = []
    for group in groups:
        members = [str(m) for m in group["members"]]  # type: ignore[attr-defined]
        for member in members:
            query = profiles[member]
            relevant = {index.position(profiles[m].id) for m in members if m != member}
            found.append((index.parts(query), index.ids != query.id, relevant))  # type: ignore[misc]
    return found


def precision_at_5(
    found: list[Case], weights: dict[str, float] | None, k: float = similarity.RRF_K
) -> float:
    """Mean over the queries of: relevant results in the top 5 over min(5, relevant)."""
    scores = []
    for parts, eligible, relevant in found:
        positions, _ = fuse(parts, eligible, weights=weights, k=k)
        hits = sum(1 for p in positions[:5].tolist() if p in relevant)
        scores.append(hits / min(5, len(relevant)))
    return sum(scores) / len(scores)


def best_matches(index: SimilarityIndex, found: list[Case]) -> list[tuple[float, float, bool]]:
    """(lexical share, centred cosine, right?) of each query's best hybrid match."""
    out = []
    for parts, eligible, relevant in found:
        positions, _ = fuse(parts, eligible)
        top = int(positions[0])
        lexical = min(1.0, parts.lexical[top] / parts.self_score) if parts.self_score else 0.0
        out.append((float(lexical), float(parts.semantic[top]), top in relevant))
    return out


def suggestions(
    best: list[tuple[float, float, bool]], share: float, threshold: float
) -> tuple[int, int]:
    """How many queries get a suggestion at `threshold`, and how many of those are right."""
    above = right = 0
    for lexical, cosine, ok in best:
        if share * lexical + (1 - share) * max(0.0, cosine) >= threshold:
            above += 1
            right += int(ok)
    return above, right


def tune(index: SimilarityIndex, found: list[Case]) -> None:
    """Grids on the tuning groups only: RRF's k and the weights of the three rankings; then
    the recurrence score's mix and threshold."""
    results = []
    steps = [x / 4 for x in range(5)]  # 0, 0.25 … 1
    for k in (1, 5, 10, 20, 30, 60, 100):
        for lex, sem, struct in itertools.product(steps, steps, steps):
            if max(lex, sem) != 1.0:  # weights are relative: one of the two is 1
                continue
            weights = {"lexical": lex, "semantic": sem, "structured": struct}
            results.append((precision_at_5(found, weights, k), k, weights))
    results.sort(key=lambda r: -r[0])
    for score, k, weights in results[:8]:
        print(f"{score:.3f}  k={k}  {weights}")
    print("best that uses all three rankings:")
    for score, k, weights in [r for r in results if min(r[2].values()) > 0][:5]:
        print(f"{score:.3f}  k={k}  {weights}")
    best = best_matches(index, found)
    print(f"recurrence, {len(best)} tuning queries, best hybrid match of each:")
    grid = []
    for share in (0.0, 0.25, 0.5, 0.75, 1.0):
        for threshold in [t / 100 for t in range(5, 100, 1)]:
            above, right = suggestions(best, share, threshold)
            if above and right / len(best) >= RECALL_FLOOR:
                grid.append((right / above, right, share, threshold))
    grid.sort(key=lambda g: (-g[0], -g[1], g[3]))
    for precision, right, share, threshold in grid[:8]:
        print(
            f"precision {precision:.3f}  right {right}  lexical share {share}  "
            f"threshold {threshold}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tune", action="store_true")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"bench/similar needs the real reports in {DATA}")
    labels = tomllib.loads((HERE / "labels.toml").read_text())["group"]
    splits = {s: [g for g in labels if g["split"] == s] for s in ("tune", "held_out")}
    profiles = load_profiles(WordLlamaEmbedder())
    index = SimilarityIndex(profiles.values())
    if args.tune:  # the held-out groups are not even read
        tune(index, cases(index, profiles, splits["tune"]))
        return
    found = {split: cases(index, profiles, groups) for split, groups in splits.items()}
    queries = {split: len(c) for split, c in found.items()}
    print(
        f"{len(profiles)} real reports; queries: tune {queries['tune']}, "
        f"held-out {queries['held_out']}"
    )
    print(f"{'ranking':<12} {'P@5 tune':>9} {'P@5 held-out':>13}")
    for mode, weights in MODES.items():
        row = [precision_at_5(found[s], weights) for s in ("tune", "held_out")]
        print(f"{mode:<12} {row[0]:>9.3f} {row[1]:>13.3f}")
    print(f"RRF k {similarity.RRF_K}, weights {similarity.WEIGHTS}")
    share, threshold = similarity.RECURRENCE_LEXICAL_SHARE, similarity.RECURRENCE_THRESHOLD
    for split, c in found.items():
        above, right = suggestions(best_matches(index, c), share, threshold)
        print(
            f"recurrence ({split}): {above} of {queries[split]} queries get a suggestion "
            f"(score >= {threshold}, lexical share {share}); {right} of those are right"
        )


if __name__ == "__main__":
    main()
