"""The search syntax, read once: words, "phrases", OR, -exclusion, and clear mistakes."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hindsight.domain.search import (
    MATCH_END,
    MATCH_START,
    QuerySyntaxError,
    Segment,
    Term,
    parse_query,
    split_marked,
    to_fts5,
    to_websearch,
)


def test_words_phrases_or_and_exclusions_are_read_into_groups() -> None:
    query = parse_query('Disk "config push" OR dns -staging -"load test"')
    assert query.groups == (
        (Term(("disk",)),),
        (Term(("config", "push")), Term(("dns",))),
    )
    assert query.excluded == (Term(("staging",)), Term(("load", "test")))
    assert to_fts5(query) == (
        '((("disk") AND ("config push" OR "dns")) NOT "staging") NOT "load test"'
    )
    assert to_websearch(query) == 'disk "config push" OR dns -staging -"load test"'


def test_punctuation_is_dropped_from_words_and_lowercase_or_is_a_word() -> None:
    query = parse_query("title:foo* NEAR(a) or 'x'")
    assert [t.words for g in query.groups for t in g] == [
        ("title", "foo"),
        ("near", "a"),
        ("or",),
        ("x",),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('"unclosed', "the quote at character 1 is never closed"),
        ("OR dns", "OR needs a word or phrase on each side"),
        ("dns OR", "OR needs a word or phrase on each side"),
        ("dns OR OR db", "OR needs a word or phrase on each side"),
        ("dns OR -db", "an excluded word cannot be one side of OR"),
        ("-staging", "every word is excluded"),
        ("  !!! ", "type a word to search for"),
        ("x" * 501, "at most 500 are searched"),
        (" ".join(f"w{n}" for n in range(33)), "at most 32 words or phrases"),
    ],
)
def test_mistakes_are_named(text: str, message: str) -> None:
    with pytest.raises(QuerySyntaxError, match=re.escape(message)):
        parse_query(text)


@given(st.text(max_size=200))
def test_any_text_is_a_query_or_our_own_error_and_renders_only_safe_characters(
    text: str,
) -> None:
    try:
        query = parse_query(text)
    except QuerySyntaxError:
        return
    # Inside FTS5's double-quoted strings only word characters and spaces; outside, only the
    # operators and brackets this module writes.
    for quoted in re.findall(r'"([^"]*)"', to_fts5(query)):
        assert re.fullmatch(r"[\w ]+", quoted)
    outside = re.sub(r'"[^"]*"', "", to_fts5(query))
    assert re.fullmatch(r"[()\sANDORT]*", outside)


def test_marked_snippets_split_into_matched_and_plain_segments() -> None:
    marked = f"the {MATCH_START}cert{MATCH_END} expired <b>{MATCH_START}x{MATCH_END}"
    assert split_marked(marked) == (
        Segment("the "),
        Segment("cert", match=True),
        Segment(" expired <b>"),
        Segment("x", match=True),
    )
