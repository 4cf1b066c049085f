"""The rank bootstrap computed a chunk at a time (app/leaderboard/rank_stats.py) gives, on both
databases, exactly the figures of the row-by-row computation it replaced, kept below as the
reference: every row's ci_low, ci_high, p_above_next, tied_with_next, pair_stats and stats_key,
compared with ==, on a board with every kind of evidence (0/1 and graded scores, weighted items, a
run on part of the items, benchmarks without item scores, incomplete runs, identical twins) in chunks
small enough that pairs cross chunk boundaries."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import session_scope
from app.leaderboard import bootstrap, item_store, rank_stats, ties
from app.leaderboard.item_store import Items, ItemSetData
from app.runs import service as runs
from app.tables import EvalRequest, ItemScore, ItemSet, LeaderboardEntry, LlmModel, RequestStatus
from tests.support.board_seed import SMOKE_METRICS, SeedModel, seed

BENCHMARKS = tuple(SMOKE_METRICS)
N = 40
FIGURES = ("ci_low", "ci_high", "p_above_next", "tied_with_next", "pair_stats", "stats_key")


# --- the row-by-row reference (the computation before chunks were vectorized) -------------------


@dataclass
class Evidence:
    values: dict[int, dict[str, float]]
    items: dict[tuple[int, str], Items]
    sets: dict[str, ItemSetData]
    means: dict[tuple[int, str], np.ndarray]


def _load(session: Session, request_ids: Iterable[int]) -> dict[tuple[int, str], Items]:
    rows = session.execute(
        select(ItemScore.request_id, ItemScore.benchmark, ItemScore.encoding, ItemScore.scores)
        .add_columns(ItemSet.digest, ItemSet.n)
        .join(ItemSet, ItemSet.id == ItemScore.item_set_id)
        .where(ItemScore.request_id.in_(sorted(set(request_ids))))
    )
    return {
        (request_id, benchmark): Items(digest, item_store.decode_scores(encoding, bytes(blob), n))
        for request_id, benchmark, encoding, blob, digest, n in rows
    }


def _gather(session: Session, suite: str, request_ids: set[int]) -> Evidence:
    values = {
        request_id: {
            name: float(cell["value"]) for name, cell in scores.items() if cell.get("value") is not None
        }
        for request_id, scores in session.execute(
            select(LeaderboardEntry.request_id, LeaderboardEntry.scores).where(
                LeaderboardEntry.suite == suite,
                LeaderboardEntry.board == "hub",
                LeaderboardEntry.request_id.in_(sorted(request_ids)),
            )
        )
    }
    items = {
        key: found for key, found in _load(session, request_ids).items() if key[1] in values.get(key[0], {})
    }
    sets = item_store.item_sets(session, {found.digest for found in items.values()})
    by_set: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for key, found in items.items():
        if found.digest in sets and len(found.scores) == len(sets[found.digest].ids):
            by_set[found.digest].append(key)
    means: dict[tuple[int, str], np.ndarray] = {}
    for digest, keys in by_set.items():
        counts = bootstrap.resample_counts(digest, len(sets[digest].ids))
        matrix = np.stack([items[key].scores for key in keys], axis=1)
        rounds = bootstrap.resampled_means(counts, matrix, sets[digest].weights)
        means.update({key: rounds[:, column] for column, key in enumerate(keys)})
    return Evidence(values, items, sets, means)


def _constant(value: float) -> np.ndarray:
    return np.full(bootstrap.ROUNDS, value, dtype=np.float32)


def _reference(row: rank_stats.StaleRow, evidence: Evidence) -> dict[str, Any]:
    figures: dict[str, Any] = dict.fromkeys(FIGURES[:4]) | {"pair_stats": {}}
    figures["stats_key"] = f"{row.request_id}>{row.next_request or ''}"
    values = evidence.values.get(row.request_id)
    if not row.complete or not values:
        return figures
    parts = [evidence.means.get((row.request_id, name)) for name in values]
    if any(part is not None for part in parts):
        filled = [
            _constant(values[name]) if part is None else part
            for name, part in zip(values, parts, strict=True)
        ]
        figures["ci_low"], figures["ci_high"] = bootstrap.percentile_interval(
            np.mean(np.stack(filled), axis=0)
        )
    if row.next_request is not None and row.next_request in evidence.values:
        p_average, figures["pair_stats"] = _reference_pair(row.request_id, row.next_request, evidence)
        figures["p_above_next"], figures["tied_with_next"] = p_average, ties.tied(p_average)
    return figures


def _reference_pair(upper: int, lower: int, evidence: Evidence) -> tuple[float | None, dict[str, float]]:
    ups, downs, per_benchmark = [], [], {}
    for name in [name for name in evidence.values[upper] if name in evidence.values[lower]]:
        rounds = _reference_rounds(upper, lower, name, evidence)
        if rounds is None:
            rounds = (_constant(evidence.values[upper][name]), _constant(evidence.values[lower][name]))
        else:
            per_benchmark[name] = round(bootstrap.p_above(*rounds), 6)
        ups.append(rounds[0])
        downs.append(rounds[1])
    if not per_benchmark:
        return None, {}
    return round(
        bootstrap.p_above(np.mean(np.stack(ups), axis=0), np.mean(np.stack(downs), axis=0)), 6
    ), per_benchmark


def _reference_rounds(
    upper: int, lower: int, name: str, evidence: Evidence
) -> tuple[np.ndarray, np.ndarray] | None:
    first, second = evidence.items.get((upper, name)), evidence.items.get((lower, name))
    if first is None or second is None:
        return None
    if first.digest == second.digest:
        a, b = evidence.means.get((upper, name)), evidence.means.get((lower, name))
        return (a, b) if a is not None and b is not None else None
    set_a, set_b = evidence.sets[first.digest], evidence.sets[second.digest]
    position = {item: index for index, item in enumerate(set_b.ids)}
    pairs = [(index, position[item]) for index, item in enumerate(set_a.ids) if item in position]
    in_a, in_b = np.array([a for a, _ in pairs]), np.array([b for _, b in pairs])
    weights = None if set_a.weights is None else set_a.weights[in_a]
    counts = bootstrap.resample_counts(
        item_store.digest_of([set_a.ids[i] for i in in_a], weights), len(pairs)
    )
    rounds = bootstrap.resampled_means(
        counts, np.stack([first.scores[in_a], second.scores[in_b]], 1), weights
    )
    return rounds[:, 0], rounds[:, 1]


def _reference_board(url: str) -> dict[int, dict[str, Any]]:
    """Every row's figures, row by row (all rows made stale first, as after rebuild_all)."""
    with session_scope(url) as session:
        session.execute(update(LeaderboardEntry).values(stats_key=None))
        stale = [
            rank_stats.StaleRow(int(row.id), int(row.request_id), row.next_request, bool(row.complete))
            for row in session.execute(
                rank_stats.STALE_ROWS, {"suite": "smoke", "board": "hub", "changed": [-1]}
            )
        ]
        wanted = {row.request_id for row in stale} | {row.next_request for row in stale if row.next_request}
        evidence = _gather(session, "smoke", wanted)
        return {row.id: _reference(row, evidence) for row in stale}


# --- the board ----------------------------------------------------------------------------------


def _seed_weighted(url: str, name: str, right: list[float], weights: list[float]) -> None:
    """A model whose kmmlu_ko_mini items carry weights (subtasks of different sizes): its own set."""
    with session_scope(url) as session:
        model = LlmModel(reference=f"org/{name}", source="hub", name=name, precision="bfloat16",
                         weight_type="original", model_type="pretrained", params_b=1.0)  # fmt: skip
        session.add(model)
        session.flush()
        request = EvalRequest(model_id=model.id, suite="smoke", status=RequestStatus.RUNNING)
        session.add(request)
        session.flush()
        value = float(np.average(right, weights=weights))
        rows = [
            {"benchmark": benchmark, "task": f"t_{benchmark}", "metric": SMOKE_METRICS[benchmark],
             "value": value, "stderr": 0.01, "n": N, "is_primary": True, "provenance": {}}
            for benchmark in BENCHMARKS
        ]  # fmt: skip
        ids = [f"t_kmmlu_ko_mini:{index}" for index in range(N)]
        items = {"kmmlu_ko_mini": {"ids": ids, "scores": right, "weights": weights}}
        runs.mark_finished(session, request.id, rows, "/tmp", "", data_source="hub", item_scores=items)


def _board(url: str) -> None:
    rng = random.Random(11)
    models = []
    for index in range(16):  # 0/1 scores on the same items: the exact path
        skill = rng.uniform(0.3, 0.8)
        items = {b: [float(rng.random() < skill) for _ in range(N)] for b in BENCHMARKS}
        models.append(SeedModel(f"binary-{index}", {b: sum(s) / N for b, s in items.items()}, items=items))
    models.append(SeedModel("twin", models[3].scores, items=models[3].items))  # tied with binary-3
    graded = {b: [rng.choice([0.0, 0.25, 0.5, 1.0]) for _ in range(N)] for b in BENCHMARKS}
    models.append(SeedModel("graded", {b: sum(s) / N for b, s in graded.items()}, items=graded))
    part = {b: [float(rng.random() < 0.6) for _ in range(N // 2)] for b in BENCHMARKS}  # first 20 items
    models.append(SeedModel("first-half", {b: sum(s) / len(s) for b, s in part.items()}, items=part))
    some = {b: [float(rng.random() < 0.5) for _ in range(N)] for b in BENCHMARKS[:2]}
    models.append(SeedModel("two-of-three", {b: rng.uniform(0.3, 0.7) for b in BENCHMARKS}, items=some))
    for index in range(3):  # without item scores: their scores in every round
        models.append(SeedModel(f"no-items-{index}", {b: 0.52 + 0.001 * index for b in BENCHMARKS}))
    models.append(SeedModel("incomplete", {b: 0.6 for b in BENCHMARKS[:2]}, items=some))
    seed(url, models)
    weights = [0.25] * 24 + [1.0] * 16
    for index in range(2):  # the same weighted set: the float path; against the others: shared items
        _seed_weighted(url, f"weighted-{index}", [float(rng.random() < 0.55) for _ in range(N)], weights)
    with session_scope(url) as session:  # graded scores that do not fit their set: never resampled
        entry = session.scalars(select(LeaderboardEntry).where(LeaderboardEntry.name == "graded")).one()
        cut = ItemScore.request_id == entry.request_id, ItemScore.benchmark == "short_answer"
        blob = session.scalars(select(ItemScore.scores).where(*cut)).one()
        session.execute(update(ItemScore).where(*cut).values(scores=blob[: 4 * (N - 1)]))
    if url.startswith("sqlite"):  # SQLite keeps JSON keys as written: a row averaging in another order
        with session_scope(url) as session:
            row = session.scalars(select(LeaderboardEntry).where(LeaderboardEntry.name == "binary-5")).one()
            session.execute(
                text("UPDATE leaderboard_entry SET scores = :scores WHERE id = :id"),
                {"scores": _json_reversed(row.scores), "id": row.id},
            )


def _json_reversed(scores: dict[str, Any]) -> str:
    return json.dumps(dict(reversed(list(scores.items()))))


def _stored(url: str) -> dict[int, dict[str, Any]]:
    with session_scope(url) as session:
        rows = session.scalars(select(LeaderboardEntry)).all()
        return {row.id: {name: getattr(row, name) for name in FIGURES} for row in rows}


@pytest.fixture
def board_url(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(rank_stats, "CHUNK", 5)  # several chunks; pairs across their boundaries
    url = settings.resolved_database_url
    _board(url)
    return url


def test_chunks_give_the_row_by_row_figures_exactly(board_url: str) -> None:
    expected = _reference_board(board_url)
    with session_scope(board_url) as session:
        recomputed = rank_stats.update_neighbours(session, "smoke", "hub")
    assert recomputed == sorted(expected)
    stored = _stored(board_url)
    assert stored == expected
    # The board exercises every path: ties, intervals, rows without any figures, pairs per benchmark.
    assert any(figures["p_above_next"] == 0.5 for figures in expected.values())
    assert sum(figures["ci_low"] is None for figures in expected.values()) >= 3
    assert any(figures["pair_stats"] and len(figures["pair_stats"]) < 3 for figures in expected.values())


def test_scattered_stale_rows_give_the_same_figures(board_url: str) -> None:
    expected = _reference_board(board_url)
    with session_scope(board_url) as session:
        rank_stats.update_neighbours(session, "smoke", "hub")
        ids = sorted(expected)[::3]  # not neighbours: their next rows are read outside the chunk
        session.execute(update(LeaderboardEntry).where(LeaderboardEntry.id.in_(ids)).values(stats_key=None))
        session.execute(update(LeaderboardEntry).where(LeaderboardEntry.id.in_(ids)).values(ci_low=-1.0))
        assert rank_stats.update_neighbours(session, "smoke", "hub") == ids
    assert _stored(board_url) == expected
