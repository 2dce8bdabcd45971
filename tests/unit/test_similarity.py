"""The pure similarity scorer and recurrence summaries, and the embedding model's loading and
fallback (no database)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import replace

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from hindsight.analysis.recurrence import Earlier, recurrence_findings, summarize_actions
from hindsight.analysis.similarity import (
    Profile,
    Why,
    explain_match,
    fuse,
    rank,
    score_candidates,
    tokenize,
)
from hindsight.analysis.similarity_index import Parts, SimilarityIndex, one_blas_thread
from hindsight.domain.actions import ActionItem
from hindsight.services import embeddings
from hindsight.services.embeddings import decode_vector, default_embedder, encode_vector

T = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def _profile(id_: int, text: str, vector: list[float] | None = None, **fields: object) -> Profile:
    return Profile(
        id=id_,
        key=f"k{id_}",
        title=text[:20],
        created_at=T + dt.timedelta(days=id_),
        terms=tuple(tokenize(text)),
        vector=None if vector is None else np.asarray(vector, dtype=np.float32),
        **fields,  # type: ignore[arg-type]
    )


def test_tokenize_drops_stopwords_numbers_and_plural_s() -> None:
    assert tokenize("The certificates of 2 ingress-nginx pods were expired") == [
        "certificate",
        "ingress-nginx",
        "pod",
        "expired",
    ]


def test_shared_words_and_fields_rank_first_with_why() -> None:
    query = _profile(
        0,
        "certificate expired on the ingress",
        services=frozenset({"ingress"}),
        tags=frozenset({"tls"}),
        categories=frozenset({"change"}),
    )
    alike = _profile(
        1,
        "the ingress certificate expired",
        services=frozenset({"ingress"}),
        tags=frozenset({"tls", "web"}),
        categories=frozenset({"change"}),
    )
    other = _profile(2, "database disk ran out of space", services=frozenset({"db"}))
    ranking = score_candidates(query, [query, other, alike])
    assert ranking.mode == "lexical"  # no vectors
    # RRF ranks only what some ranking has: the disk incident shares no word or field.
    assert [m.id for m in ranking.matches] == [1]
    best = ranking.matches[0]
    assert best.why == Why(("ingress",), ("change",), ("tls",), best.why.terms)
    assert set(best.why.terms) == {"certificate", "expired", "ingress"}
    assert best.why.sentence().startswith("shares services ingress; factor categories change")
    assert 0 < best.score <= 1 and best.score == 1  # first in every ranking it is in
    assert Why().sentence() == "similar wording"


def test_vectors_add_meaning_where_words_differ() -> None:
    query = _profile(0, "cert lapsed", [1.0, 0.0, 0.1])
    same_meaning = _profile(1, "tls expiry broke https", [0.9, 0.1, 0.1])
    unrelated = _profile(2, "disk full", [-1.0, 0.2, 0.0])
    third = _profile(3, "queue backlog", [0.0, 1.0, 0.0])
    ranking = score_candidates(query, [same_meaning, unrelated, third])
    assert ranking.mode == "hybrid"
    assert ranking.matches[0].id == 1 and ranking.matches[0].semantic is not None
    assert score_candidates(query, [same_meaning], use_semantic=False).mode == "lexical"


def test_a_ranking_explained_later_matches_one_explained_at_once() -> None:
    query = _profile(0, "ingress certificate expired tls", [1.0, 0.0, 0.1], tags=frozenset({"tls"}))
    pool = [
        _profile(1, "the ingress certificate expired", [0.9, 0.1, 0.1], tags=frozenset({"tls"})),
        _profile(2, "certificate renewal failed on ingress", [0.5, 0.5, 0.0]),
        _profile(3, "tls handshake errors", [0.2, 0.9, 0.1], tags=frozenset({"tls"})),
        _profile(4, "disk full", [-1.0, 0.2, 0.0]),
    ]
    index = SimilarityIndex([*pool, query])
    eligible = index.ids != query.id
    at_once = rank(index, query, eligible, limit=4)
    later = rank(index, query, eligible, limit=4, explain=False)
    assert all(m.why == Why() for m in later.matches)
    explained = [explain_match(index, later, query, m) for m in later.matches]
    assert explained == at_once.matches and len(explained) >= 3
    assert explained[0].why.terms and explained[0].why.tags == ("tls",)
    with pytest.raises(AssertionError):
        explain_match(index, at_once, query, at_once.matches[0])


def test_an_incident_without_a_vector_has_no_cosine_and_the_others_are_unchanged() -> None:
    query = _profile(0, "ingress certificate expired", [1.0, 0.0, 0.1])
    pool = [
        _profile(1, "the ingress certificate expired", [0.9, 0.1, 0.1]),
        _profile(2, "certificate renewal failed", None),
        _profile(3, "disk full", [-1.0, 0.2, 0.0]),
    ]
    parts = SimilarityIndex([*pool, query]).parts(query)
    assert np.isnan(parts.semantic[1]) and not np.isnan(parts.semantic[[0, 2, 3]]).any()
    assert parts.semantic[0] > parts.semantic[2] and parts.semantic.dtype == np.float64
    assert parts.semantic[3] == pytest.approx(1.0)


_WORDS = [
    "certificate",
    "expired",
    "ingress",
    "disk",
    "full",
    "queue",
    "backlog",
    "dns",
    "timeout",
    "deploy",
    "rollback",
]


def _pool(seed: int, ids: range) -> list[Profile]:
    rng = np.random.default_rng(seed)
    return [
        _profile(
            n,
            " ".join(rng.choice(_WORDS, size=int(rng.integers(2, 9)))),
            None if n % 7 == 3 else rng.standard_normal(4).tolist(),
            services=frozenset(rng.choice(["api", "db", "web"], size=int(rng.integers(0, 3)))),
            tags=frozenset(rng.choice(["tls", "ops"], size=int(rng.integers(0, 2)))),
        )
        for n in ids
    ]


def _same_answers(patched: SimilarityIndex, fresh: SimilarityIndex) -> None:
    assert patched.ids_list == fresh.ids_list and patched.keys == fresh.keys
    for position in range(len(fresh)):
        query = replace(_pool(99, range(1))[0], id=-1, terms=(_WORDS[position % 11], "dns"))
        query = replace(query, services=frozenset({"api"}), happened_at=T + 100 * DAY)
        a, b = patched.parts(query), fresh.parts(query)
        for name in ("lexical", "semantic", "structured"):
            assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name
        assert a.self_score == b.self_score
        eligible = fresh.earlier_than(query)
        assert np.array_equal(patched.earlier_than(query), eligible)
        assert rank(patched, query, eligible, limit=10) == rank(fresh, query, eligible, limit=10)


DAY = dt.timedelta(days=1)


def test_a_patched_index_answers_as_one_built_again_from_the_whole_pool() -> None:
    pool = _pool(1, range(1, 31))
    changes = [
        replace(_pool(2, range(4, 5))[0], id=4),  # new words, vector and fields
        replace(pool[9], vector=None, terms=("brand-new-word", "disk")),  # loses its vector
        replace(pool[19], terms=(), services=frozenset()),  # loses every word and field
        *_pool(3, range(40, 42)),  # new incidents, after every indexed one
    ]
    by_id = {p.id: p for p in pool} | {p.id: p for p in changes}
    fresh = SimilarityIndex(by_id[i] for i in sorted(by_id))
    patched = SimilarityIndex(pool).with_changes(changes)
    assert patched is not None
    _same_answers(patched, fresh)
    # Patched again (and the first index left as it was for lookups still using it).
    again = patched.with_changes([replace(by_id[40], terms=("queue",))])
    assert again is not None
    _same_answers(
        again,
        SimilarityIndex(
            replace(by_id[i], terms=("queue",)) if i == 40 else by_id[i] for i in sorted(by_id)
        ),
    )
    _same_answers(SimilarityIndex(pool).with_changes([]) or fresh, SimilarityIndex(pool))


def test_a_patch_that_cannot_keep_the_order_or_the_vector_size_asks_for_a_rebuild() -> None:
    index = SimilarityIndex(_pool(1, range(10, 20)))
    assert index.with_changes(_pool(2, range(5, 6))) is None  # below the largest indexed id
    assert index.with_changes([replace(_pool(2, range(12, 13))[0], vector=[1.0, 2.0])]) is None


def _blas_threads() -> list[int]:
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def test_blas_runs_on_one_thread_while_any_lookup_holds_it_then_as_before() -> None:
    before = _blas_threads()
    with one_blas_thread():
        with one_blas_thread():
            assert all(n == 1 for n in _blas_threads())
        assert all(n == 1 for n in _blas_threads())  # the outer holder still has it
    assert _blas_threads() == before


def _item(title: str, kind: str, status: str = "open", reason: str = "") -> ActionItem:
    return ActionItem(title=title, kind=kind, status=status, reason=reason)  # type: ignore[arg-type]


def test_action_summaries_say_what_is_done_and_what_is_not() -> None:
    items = [
        _item("Alert on certificate expiry", "detect"),
        _item("Automate renewal", "prevent", "done"),
        _item("Renew by hand", "prevent", "wont_do", "automated instead"),
        _item("Write a runbook", "process"),
    ]
    assert summarize_actions(items) == (
        "1 of 3 preventive actions done; 'Alert on certificate expiry' still open; "
        "'Renew by hand' closed as won't do"
    )
    assert summarize_actions(items[3:]) == (
        "no preventive (prevent or detect) action items were recorded"
    )
    earlier = Earlier("first", "Certificate expired", tuple(items))
    messages = [f.message for f in recurrence_findings([earlier])]
    assert messages == [
        "this incident recurs 'Certificate expired' (first), whose detect action 'Alert on "
        "certificate expiry' is still open",
        "this incident recurs 'Certificate expired' (first), whose prevent action 'Renew by "
        "hand' was closed as won't do",
    ]


def test_vectors_survive_their_stored_form() -> None:
    vector = [0.25, -1.5, 3.0]
    decoded = decode_vector(encode_vector(vector))
    assert decoded is not None and decoded.tolist() == vector
    assert decode_vector("") is None


def test_the_shipped_model_loads_from_its_wheel_and_embeds_by_meaning() -> None:
    model = default_embedder()
    assert model is not None and model.name == embeddings.MODEL_NAME
    cert, lapsed, disk = model.embed(
        ["TLS certificate expired", "the SSL cert lapsed", "database disk is full"]
    )
    assert len(cert) == 256 and abs(float(np.linalg.norm(cert)) - 1) < 1e-4
    assert float(np.dot(cert, lapsed)) > float(np.dot(cert, disk))


def test_without_the_model_there_is_no_embedder_and_a_warning_says_why(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def missing() -> None:
        raise ImportError("No module named 'wordllama'")

    monkeypatch.setattr(embeddings, "WordLlamaEmbedder", missing)
    default_embedder.cache_clear()
    try:
        with caplog.at_level(logging.WARNING):
            assert default_embedder() is None
        assert "no embedding model (No module named 'wordllama')" in caplog.text
    finally:
        default_embedder.cache_clear()


def test_rank_fusion_favours_what_both_rankings_put_high() -> None:
    parts = Parts(
        lexical=np.array([3.0, 2.0, 1.0, 0.0]),
        semantic=np.array([0.1, 0.9, 0.8, np.nan]),
        structured=np.zeros(4),
        self_score=3.0,
        terms={},
        has_vector=True,
    )
    everyone = np.ones(4, dtype=bool)
    positions, scores = fuse(parts, everyone, weights={"lexical": 0.5, "semantic": 1.0}, k=1)
    # 1: 0.5/3 + 1/2; 0: 0.5/2 + 1/4; 2: 0.5/4 + 1/3; 3 is in no ranking.
    assert positions.tolist() == [1, 0, 2]
    assert scores[0] == pytest.approx((0.5 / 3 + 1 / 2) / (0.5 / 2 + 1 / 2))
    only_some = np.array([True, False, True, True])
    assert fuse(parts, only_some, weights={"lexical": 1.0}, k=1)[0].tolist() == [0, 2]


def test_earlier_is_when_it_happened_then_when_it_was_written_down() -> None:
    late_but_long_ago = replace(_profile(3, "late"), happened_at=T - dt.timedelta(days=30))
    index = SimilarityIndex([_profile(1, "a"), _profile(2, "b"), late_but_long_ago])
    query = _profile(2, "b")
    assert index.ids[index.earlier_than(query)].tolist() == [1, 3]
    assert index.ids[index.earlier_than(late_but_long_ago)].tolist() == []
