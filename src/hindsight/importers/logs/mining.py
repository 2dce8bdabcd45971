"""Log-template mining: mask the variable parts of lines in bulk, then cluster what remains.

Masking runs as one regular expression over whole columns of lines (polars, in Rust); only the
distinct masked lines reach the clustering step, so a million lines that differ only in their
numbers, addresses and ids cost one clustering step each per distinct shape, not per line.

Clustering is Drain (He et al., ICWS 2017) as implemented by drain3, with one change measured
on the loghub samples: where both the template and the line hold a masked variable at the same
position, that counts as half a match (drain3 counts it as none, which splits lines whose
variables are all masked). With the masks below and a similarity threshold of 0.5 this groups
lines at least as accurately as drain3 with its default settings on each of the 16 loghub
systems (tests/integration/test_log_mining.py prints the table).
"""

from __future__ import annotations

from collections.abc import Sequence

from drain3.drain import Drain, LogCluster

PARAM = "<*>"

# Order matters: the first alternative that matches at a position wins.
MASKS: tuple[str, ...] = (
    # Per-request noise of access logs: a quoted user agent ("Mozilla/5.0 (X11; …)",
    # "UniversalFeedParser/4.2 …") or referrer URL differs on every line and is no shape.
    r'"[^"\n]*\([^"\n]*\)[^"\n]*"',
    r'"[A-Za-z][\w.+-]*/\d[^"\n]*"',
    r'"\w+://[^"\s]*"',
    r"\w+://\S+",  # URLs
    r"[\w.-]+:\d+\b",  # host:port, times such as 12:03
    r"\d{1,3}(?:\.\d{1,3}){3}",  # IPv4 addresses
    r"\b0[xX][0-9a-fA-F]+\b",  # hex numbers
    r"\b[0-9a-fA-F]{8,}\b",  # long hex ids, hashes
    r"(?:\b|_)[-+]?\d+(?:\.\d+)?\b",  # numbers, also after an underscore (blk_123)
)
MASK_PATTERN = "|".join(f"(?:{mask})" for mask in MASKS)


class _HalfCreditDrain(Drain):  # type: ignore[misc]
    """Drain whose similarity gives half credit to a variable matched by a variable."""

    def get_seq_distance(
        self, seq1: Sequence[str], seq2: Sequence[str], include_params: bool
    ) -> tuple[float, int]:
        if not seq1:
            return 1.0, 0
        similar = 0.0
        params = 0
        for template_token, token in zip(seq1, seq2, strict=False):
            if template_token == self.param_str:
                params += 1
                if token == self.param_str:
                    similar += 0.5
                continue
            if template_token == token:
                similar += 1
        if include_params:
            similar += params
        return similar / len(seq1), params


class TemplateMiner:
    """Assigns each masked line to a template, learning templates as lines arrive."""

    def __init__(self, similarity: float = 0.5, depth: int = 4) -> None:
        self._drain = _HalfCreditDrain(sim_th=similarity, depth=depth, param_str=PARAM)

    def add(self, masked_line: str) -> int:
        """The template id of this (already masked) line, learning from it."""
        cluster, _change = self._drain.add_log_message(masked_line)
        assert isinstance(cluster, LogCluster)
        return int(cluster.cluster_id)

    def template(self, template_id: int) -> str:
        """The template's text, variables shown as <*>."""
        cluster = self._drain.id_to_cluster.get(template_id)
        return str(cluster.get_template()) if cluster is not None else ""


def mask_lines(lines: Sequence[str]) -> list[str]:
    """Mask the variable parts of some lines (the same masks as the bulk path)."""
    import polars as pl

    return [
        str(value)
        for value in pl.Series(lines, dtype=pl.String)
        .str.replace_all(MASK_PATTERN, PARAM)
        .to_list()
    ]


def group_lines(lines: Sequence[str]) -> list[int]:
    """The template id of each line: mask, then mine over the distinct masked lines."""
    miner = TemplateMiner()
    ids: dict[str, int] = {}
    masked = mask_lines(lines)
    for line in masked:
        if line not in ids:
            ids[line] = miner.add(line)
    return [ids[line] for line in masked]
