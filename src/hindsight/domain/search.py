"""Full-text search queries, parsed once, and the plain values a search returns.

The syntax people type: words (all must match), "quoted phrases", `OR` between two items
(either may match), and `-word` or `-"a phrase"` to exclude. Parsing keeps only letters and
digits of each word, so what reaches a search engine is always rendered here from the parsed
value (`to_fts5`, `to_websearch`), never the user's text.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

MAX_QUERY_CHARS = 500
MAX_TERMS = 32
# Marks the search engines put around matched words in snippets: private-use characters that
# document text never keeps (storage strips them when indexing), so escaping the snippet and
# then turning these into <mark> cannot be fooled by the text itself.
MATCH_START = "\ue000"
MATCH_END = "\ue001"
# Put after each "<" before PostgreSQL's ts_headline reads the text, so its parser sees no HTML
# tags to drop ("<b>" is text to show, escaped), and taken out again from the snippet.
NOT_A_TAG = "\ue002"

_WORD = re.compile(r"\w+", re.UNICODE)
_TOKEN = re.compile(r'\s*(-?)("([^"]*)("?)|[^\s"]+)')


class QuerySyntaxError(ValueError):
    """The query cannot be read; the message says where and how to fix it."""


@dataclass(frozen=True)
class Term:
    """A word (one element) or a phrase (several, in order) after parsing."""

    words: tuple[str, ...]

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1


@dataclass(frozen=True)
class SearchQuery:
    """All `groups` must match (each group: any of its terms), and no `excluded` term may."""

    groups: tuple[tuple[Term, ...], ...]
    excluded: tuple[Term, ...] = ()

    def words(self) -> list[str]:
        """The words to look for, in order, once each."""
        seen: dict[str, None] = {}
        for group in self.groups:
            for term in group:
                seen.update(dict.fromkeys(term.words))
        return list(seen)


def _words(text: str) -> tuple[str, ...]:
    return tuple(word.lower() for word in _WORD.findall(text))


def _tokens(text: str) -> list[tuple[bool, str, Term | None]]:
    """(excluded, raw token, term or None for the OR keyword) for each token of `text`."""
    tokens: list[tuple[bool, str, Term | None]] = []
    for match in _TOKEN.finditer(text):
        minus, raw, phrase, closing = match.group(1, 2, 3, 4)
        if phrase is not None:
            if not closing:
                raise QuerySyntaxError(
                    f"the quote at character {match.start(2) + 1} is never closed; add a "
                    'closing " or remove it'
                )
            words = _words(phrase)
        elif raw == "OR" and not minus:
            tokens.append((False, raw, None))
            continue
        else:
            words = _words(raw)
        if words:
            tokens.append((bool(minus), raw, Term(words)))
    return tokens


_OR_SIDES = "OR needs a word or phrase on each side, as in: database OR dns"


def _group(tokens: list[tuple[bool, str, Term | None]]) -> tuple[list[list[Term]], list[Term]]:
    """Fold the tokens into OR groups and exclusions."""
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    pending_or = False
    for minus, raw, term in tokens:
        if term is None:
            if not groups or pending_or:
                raise QuerySyntaxError(_OR_SIDES)
            pending_or = True
        elif minus and pending_or:
            raise QuerySyntaxError(f"'OR {raw}': an excluded word cannot be one side of OR")
        elif minus:
            excluded.append(term)
        elif pending_or:
            groups[-1].append(term)
            pending_or = False
        else:
            groups.append([term])
    if pending_or:
        raise QuerySyntaxError(_OR_SIDES)
    return groups, excluded


def parse_query(text: str) -> SearchQuery:
    """Read the query syntax; QuerySyntaxError says what is wrong and where."""
    if len(text) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(
            f"the query has {len(text)} characters; at most {MAX_QUERY_CHARS} are searched, "
            "so shorten it"
        )
    groups, excluded = _group(_tokens(text))
    if not groups:
        if excluded:
            raise QuerySyntaxError(
                "every word is excluded (starts with '-'); add a word to look for"
            )
        raise QuerySyntaxError("type a word to search for")
    if sum(len(g) for g in groups) + len(excluded) > MAX_TERMS:
        raise QuerySyntaxError(f"at most {MAX_TERMS} words or phrases; remove some")
    return SearchQuery(tuple(tuple(g) for g in groups), tuple(excluded))


def _fts5_term(term: Term) -> str:
    # Words hold only \w characters, so a double-quoted FTS5 string needs no escaping.
    return '"' + " ".join(term.words) + '"'


def to_fts5(query: SearchQuery) -> str:
    """The query as an SQLite FTS5 MATCH expression."""
    groups = ["(" + " OR ".join(_fts5_term(t) for t in group) + ")" for group in query.groups]
    expression = " AND ".join(groups)
    for term in query.excluded:
        expression = f"({expression}) NOT {_fts5_term(term)}"
    return expression


def _web_term(term: Term) -> str:
    return '"' + " ".join(term.words) + '"' if term.is_phrase else term.words[0]


def to_websearch(query: SearchQuery) -> str:
    """The query in PostgreSQL's `websearch_to_tsquery` syntax (which never fails to parse)."""
    parts = [" OR ".join(_web_term(t) for t in group) for group in query.groups]
    parts += ["-" + _web_term(t) for t in query.excluded]
    return " ".join(parts)


def loosened(query: SearchQuery) -> SearchQuery:
    """A query that matches every incident `query` matches, with positions to check for
    none of its words where possible: a phrase that is a group of its own becomes a group
    for each of its words, and the excluded terms are dropped (a phrase within OR stays)."""
    groups: list[tuple[Term, ...]] = []
    for group in query.groups:
        if len(group) == 1 and group[0].is_phrase:
            groups += [(Term((word,)),) for word in group[0].words]
        else:
            groups.append(group)
    return SearchQuery(tuple(groups))


def has_phrases(query: SearchQuery) -> bool:
    """Whether `query` has a phrase (looked for or excluded): matching it needs the words'
    positions, which PostgreSQL's GIN index does not hold (each row it proposes is checked)."""
    terms = [*(term for group in query.groups for term in group), *query.excluded]
    return any(term.is_phrase for term in terms)


def to_text(query: SearchQuery) -> str:
    """The query written back in the syntax people type (for links and suggestions)."""
    return to_websearch(query)


@dataclass(frozen=True)
class Segment:
    """A piece of a snippet; `match` says whether it is a matched word."""

    text: str
    match: bool = False


@dataclass(frozen=True)
class Snippet:
    """Where a hit matched: the part's name and the text around the matched words."""

    part: str
    segments: tuple[Segment, ...]

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments)


def split_marked(text: str) -> tuple[Segment, ...]:
    """Turn an engine's marked snippet into segments (marks never nest)."""
    segments: list[Segment] = []
    for index, piece in enumerate(re.split(f"[{MATCH_START}{MATCH_END}]", text)):
        if piece:
            segments.append(Segment(piece, match=index % 2 == 1))
    return tuple(segments)


def strip_marks(text: str) -> str:
    """Remove the mark characters from text about to be indexed."""
    return text.replace(MATCH_START, "").replace(MATCH_END, "").replace(NOT_A_TAG, "")


FACETS = (
    "service",
    "severity",
    "status",
    "review",
    "category",
    "tag",
    "year",
    "open_actions",
    "recurring",
)


@dataclass(frozen=True)
class SearchHit:
    """One ranked result."""

    incident_id: int
    key: str
    title: str
    severity: str
    status: str
    review_status: str
    visibility: str
    created_at: dt.datetime
    archived: bool
    score: float
    snippets: tuple[Snippet, ...] = ()


@dataclass(frozen=True)
class SearchResults:
    """A page of hits, how many matched in all (or, if `total_is_lower_bound`, that more
    than `total` matched: hits are counted up to a bound), and facet counts over the best
    `facets_over` of them (all of them unless there are very many)."""

    hits: list[SearchHit]
    total: int
    limit: int
    offset: int
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    facets_over: int = 0
    total_is_lower_bound: bool = False

    @property
    def counted(self) -> str:
        """The total for people: "123", or "more than 1,000" past the bound."""
        return f"more than {self.total:,}" if self.total_is_lower_bound else f"{self.total:,}"

    @property
    def facets_are_a_sample(self) -> bool:
        """Whether the facet counts cover only the best-ranked hits, not every hit."""
        return self.total_is_lower_bound or self.facets_over < self.total
