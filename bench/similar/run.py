"""Relevance of similar incidents on real reports: precision@5 of the hybrid ranking, plain
BM25 and plain embeddings, side by side in one run, on the tuning and the held-out groups of
bench/similar/labels.toml (README.md gives the labelling rule).

    .venv/bin/python bench/similar/run.py            # the table
    .venv/bin/python bench/similar/run.py --tune     # the weight grid, on the tuning groups only
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import re
import sys
import tomllib
from pathlib import Path

from hindsight.analysis import similarity
from hindsight.analysis.similarity import MAX_TERMS, Corpus, Profile, score_candidates, tokenize
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
    "hybrid": None,
    "bm25": {"lexical": 1.0, "semantic": 0.0, "structured": 0.0},
    "embeddings": {"lexical": 0.0, "semantic": 1.0, "structured": 0.0},
}


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
        )
    return profiles


def precision_at_5(
    profiles: dict[str, Profile], groups: list[dict[str, object]], weights: dict[str, float] | None
) -> float:
    """Mean over every member of every group of: relevant results in the top 5, divided by
    min(5, other members of its group)."""
    pool = list(profiles.values())
    corpus = Corpus(pool)
    scores = []
    for group in groups:
        members = [str(m) for m in group["members"]]  # type: ignore[attr-defined]
        for member in members:
            query = profiles[member]
            ranking = score_candidates(query, pool, corpus=corpus, limit=5, weights=weights)
            relevant = {profiles[m].id for m in members if m != member}
            hits = sum(1 for m in ranking.matches if m.profile.id in relevant)
            scores.append(hits / min(5, len(relevant)))
    return sum(scores) / len(scores)


def recurrence_precision(
    profiles: dict[str, Profile], groups: list[dict[str, object]]
) -> tuple[int, int]:
    """How many queries get a recurrence suggestion (best match above the threshold), and how
    many of those suggestions are in the query's own group."""
    pool = list(profiles.values())
    corpus = Corpus(pool)
    above = right = 0
    for group in groups:
        members = [str(m) for m in group["members"]]  # type: ignore[attr-defined]
        for member in members:
            best = score_candidates(profiles[member], pool, corpus=corpus, limit=1).matches[0]
            if best.score >= similarity.RECURRENCE_THRESHOLD:
                above += 1
                right += int(best.profile.id in {profiles[m].id for m in members})
    return above, right


def tune(profiles: dict[str, Profile], groups: list[dict[str, object]]) -> None:
    """Grid over weights and the semantic floor, on the tuning groups only: each pair's parts
    are computed once (floor 0), then recombined for every setting."""
    pool = list(profiles.values())
    corpus = Corpus(pool)
    similarity.SEMANTIC_FLOOR = 0.0
    cases = []
    for group in groups:
        members = [str(m) for m in group["members"]]  # type: ignore[attr-defined]
        for member in members:
            query = profiles[member]
            matches = score_candidates(query, pool, corpus=corpus, limit=len(pool)).matches
            relevant = {profiles[m].id for m in members if m != member}
            parts = [(m.profile.id, m.lexical, m.semantic or 0.0, m.structured) for m in matches]
            cases.append((parts, relevant))
    results = []
    steps = [x / 20 for x in range(21)]
    for floor in (0.0, 0.3, 0.4, 0.5, 0.55, 0.6, 0.7, 0.8):
        for lex, sem in itertools.product(steps, steps):
            struct = round(1 - lex - sem, 2)
            if struct < 0:
                continue
            total = 0.0
            for parts, relevant in cases:
                ranked = sorted(
                    parts,
                    key=lambda p: (
                        -(lex * p[1] + sem * max(0.0, (p[2] - floor) / (1 - floor)) + struct * p[3])
                    ),
                )
                hits = sum(1 for p in ranked[:5] if p[0] in relevant)
                total += hits / min(5, len(relevant))
            results.append((total / len(cases), floor, (lex, sem, struct)))
    results.sort(key=lambda r: -r[0])
    for score, floor, weights in results[:5]:
        print(f"{score:.3f}  floor={floor}  lexical, semantic, structured = {weights}")
    print("best with every part at least 0.05 (the hybrid uses all three):")
    for score, floor, weights in [r for r in results if min(r[2]) >= 0.05][:5]:
        print(f"{score:.3f}  floor={floor}  lexical, semantic, structured = {weights}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tune", action="store_true")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"bench/similar needs the real reports in {DATA}")
    labels = tomllib.loads((HERE / "labels.toml").read_text())["group"]
    splits = {s: [g for g in labels if g["split"] == s] for s in ("tune", "held_out")}
    profiles = load_profiles(WordLlamaEmbedder())
    if args.tune:
        tune(profiles, splits["tune"])
        return
    queries = {s: sum(len(g["members"]) for g in groups) for s, groups in splits.items()}
    print(
        f"{len(profiles)} real reports; queries: tune {queries['tune']}, "
        f"held-out {queries['held_out']}"
    )
    print(f"{'ranking':<12} {'P@5 tune':>9} {'P@5 held-out':>13}")
    for mode, weights in MODES.items():
        row = [precision_at_5(profiles, splits[s], weights) for s in ("tune", "held_out")]
        print(f"{mode:<12} {row[0]:>9.3f} {row[1]:>13.3f}")
    print(f"weights {similarity.WEIGHTS}, semantic floor {similarity.SEMANTIC_FLOOR}")
    for split, groups in splits.items():
        above, right = recurrence_precision(profiles, groups)
        print(
            f"recurrence ({split}): {above} of {queries[split]} queries have a best match "
            f">= {similarity.RECURRENCE_THRESHOLD}; {right} of those are in the same group"
        )


if __name__ == "__main__":
    main()
