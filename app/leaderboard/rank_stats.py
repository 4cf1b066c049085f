"""Honest ranks: the bootstrap figures stored on each board row, kept up to date when results are written.

For each row with item scores (app/leaderboard/item_store.py), with 1,000 seeded resamples
(app/leaderboard/bootstrap.py):

- ci_low, ci_high: the 95 % percentile interval of the row's average, resampling its own items
  within each benchmark (a benchmark without item scores stays at its score);
- p_above_next: P(this row's average > the next rank's), a paired bootstrap over the benchmarks both
  rows average and, within each, the items both were scored on (the same draws for both); a tie in a
  round counts half. pair_stats holds the same per benchmark. tied_with_next: P < 0.95;
- rank_low, rank_high: from the intervals of every complete row on the board: 1 + the number of rows
  whose ci_low is above this ci_high, and the number of rows whose ci_high is at or above this ci_low
  (a row without item scores counts as its average). One SQL UPDATE.

Each row records which pair its figures are for (stats_key, "REQUEST>NEXT_REQUEST"). A write
recomputes the rows whose key no longer matches: the rows it rebuilt and the rows whose successor
changed (the new row's neighbour above, and the row above its old place); nothing else.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import bindparam, select, text, update
from sqlalchemy.orm import Session

from app.leaderboard import bootstrap, item_store
from app.leaderboard.item_store import Items, ItemSetData
from app.tables import LeaderboardEntry

CHUNK = 256  # stale rows computed together (their resampled means are held in memory at once)

STALE_ROWS = text(
    "SELECT id, request_id, next_request, complete FROM ("
    " SELECT id, model_id, request_id, rank, stats_key,"
    "  CASE WHEN average IS NULL THEN 0 ELSE 1 END AS complete,"
    "  LEAD(CASE WHEN average IS NOT NULL THEN request_id END) OVER (ORDER BY rank, id) AS next_request"
    " FROM leaderboard_entry WHERE suite = :suite AND board = :board"
    ") AS ordered WHERE stats_key IS NULL OR model_id IN :changed OR stats_key <>"
    " (CAST(request_id AS VARCHAR(20)) || '>' || COALESCE(CAST(next_request AS VARCHAR(20)), ''))"
    " ORDER BY rank, id"
).bindparams(bindparam("changed", expanding=True))

# Rank intervals in one pass over one sorted list of every complete row's interval ends (a row without
# an interval contributes its average as both): from the top, a running count of highs (H) and of lows
# (L). At a row's own high, the lows counted so far are those strictly above it (at an equal value H
# sorts before L): rank_low = 1 + that. At its own low, the highs counted so far are those at or
# above it: rank_high. Stored as their distances from the row's rank (see LeaderboardEntry), so only
# rows whose distances changed are written. One window sort and a GROUP BY; a join of two windowed
# lists instead is planned as a nested loop on PostgreSQL (seconds on 10,000 rows).
RANK_INTERVALS = text(
    "UPDATE leaderboard_entry SET rank_span_up = spans.up, rank_span_down = spans.down FROM ("
    " SELECT counted.id, entry.rank - MAX(CASE WHEN counted.kind = 0 THEN 1 + counted.lows END) AS up,"
    "  MAX(CASE WHEN counted.kind = 1 THEN counted.highs END) - entry.rank AS down FROM ("
    "  SELECT id, kind, has_interval, SUM(kind) OVER ends AS lows, SUM(1 - kind) OVER ends AS highs FROM ("
    "   SELECT id, COALESCE(ci_high, average) AS v, 0 AS kind, ci_low IS NOT NULL AS has_interval"
    "   FROM leaderboard_entry WHERE suite = :suite AND board = :board AND average IS NOT NULL"
    "   UNION ALL SELECT id, COALESCE(ci_low, average) AS v, 1 AS kind, ci_low IS NOT NULL AS has_interval"
    "   FROM leaderboard_entry WHERE suite = :suite AND board = :board AND average IS NOT NULL"
    "  ) AS interval_ends WINDOW ends AS (ORDER BY v DESC, kind ROWS UNBOUNDED PRECEDING)"
    " ) AS counted JOIN leaderboard_entry AS entry ON entry.id = counted.id"
    " WHERE counted.has_interval GROUP BY counted.id, entry.rank"
    ") AS spans WHERE leaderboard_entry.id = spans.id"
    " AND (leaderboard_entry.rank_span_up IS DISTINCT FROM spans.up"
    " OR leaderboard_entry.rank_span_down IS DISTINCT FROM spans.down)"
)


@dataclass(frozen=True)
class StaleRow:
    id: int
    request_id: int
    next_request: int | None  # the next complete row's request; None: last complete row or incomplete
    complete: bool


@dataclass
class Evidence:
    """What a chunk's figures are computed from: each request's averaged scores on this board, its
    item scores, the item sets, and each (request, benchmark)'s resampled means."""

    values: dict[int, dict[str, float]]
    items: dict[tuple[int, str], Items]
    sets: dict[str, ItemSetData]
    means: dict[tuple[int, str], np.ndarray]


def update_neighbours(session: Session, suite: str, board: str, model_ids_changed: Iterable[int] = ()) -> int:
    """Recompute the figures of the board's rows that changed or whose next row changed (all of
    them after rebuild_all), then the board's rank intervals. Returns the rows recomputed."""
    changed = sorted(set(model_ids_changed)) or [-1]
    stale = [
        StaleRow(int(row.id), int(row.request_id), row.next_request, bool(row.complete))
        for row in session.execute(STALE_ROWS, {"suite": suite, "board": board, "changed": changed})
    ]
    for start in range(0, len(stale), CHUNK):
        _compute(session, suite, board, stale[start : start + CHUNK])
    session.execute(RANK_INTERVALS, {"suite": suite, "board": board})
    # Bulk UPDATEs bypass the ORM: rows loaded earlier in this transaction must be read again.
    for entry in [obj for obj in session.identity_map.values() if isinstance(obj, LeaderboardEntry)]:
        session.expire(entry)
    return len(stale)


def _compute(session: Session, suite: str, board: str, rows: list[StaleRow]) -> None:
    wanted = {row.request_id for row in rows} | {row.next_request for row in rows if row.next_request}
    evidence = _gather(session, suite, board, wanted)
    updates = [{"id": row.id, **_figures(row, evidence)} for row in rows]
    session.execute(update(LeaderboardEntry), updates)


def _gather(session: Session, suite: str, board: str, request_ids: set[int]) -> Evidence:
    values: dict[int, dict[str, float]] = {}
    ordered = sorted(request_ids)
    for start in range(0, len(ordered), item_store.QUERY_CHUNK):
        for request_id, scores in session.execute(
            select(LeaderboardEntry.request_id, LeaderboardEntry.scores).where(
                LeaderboardEntry.suite == suite,
                LeaderboardEntry.board == board,
                LeaderboardEntry.request_id.in_(ordered[start : start + item_store.QUERY_CHUNK]),
            )
        ):
            values[request_id] = _averaged(scores or {})
    items = {
        key: found
        for key, found in item_store.load(session, request_ids).items()
        if key[1] in values.get(key[0], {})  # benchmarks this board averages for that row
    }
    sets = item_store.item_sets(session, {found.digest for found in items.values()})
    return Evidence(values, items, sets, _resampled(items, sets))


def _averaged(scores: dict[str, Any]) -> dict[str, float]:
    """The benchmarks a row averages on this board (others show without a value here)."""
    return {name: float(cell["value"]) for name, cell in scores.items() if cell.get("value") is not None}


def _resampled(
    items: dict[tuple[int, str], Items], sets: dict[str, ItemSetData]
) -> dict[tuple[int, str], np.ndarray]:
    """Every (request, benchmark)'s resampled means; one matrix product per item set."""
    by_set: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for key, found in items.items():
        if found.digest in sets and len(found.scores) == len(sets[found.digest].ids):
            by_set[found.digest].append(key)
    means: dict[tuple[int, str], np.ndarray] = {}
    for digest, keys in by_set.items():
        item_set = sets[digest]
        counts = bootstrap.resample_counts(digest, len(item_set.ids))
        matrix = np.stack([items[key].scores for key in keys], axis=1)
        rounds = bootstrap.resampled_means(counts, matrix, item_set.weights)
        for column, key in enumerate(keys):
            means[key] = rounds[:, column]
    return means


def _figures(row: StaleRow, evidence: Evidence) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "ci_low": None,
        "ci_high": None,
        "p_above_next": None,
        "tied_with_next": None,
        "pair_stats": {},
        "stats_key": f"{row.request_id}>{row.next_request or ''}",
    }
    values = evidence.values.get(row.request_id)
    if not row.complete or not values:
        return figures
    own = _average_rounds(row.request_id, list(values), evidence)
    if own is not None:
        figures["ci_low"], figures["ci_high"] = bootstrap.percentile_interval(own)
    if row.next_request is not None and row.next_request in evidence.values:
        p_average, per_benchmark = _pair(row.request_id, row.next_request, evidence)
        figures["p_above_next"] = p_average
        figures["tied_with_next"] = bootstrap.tied(p_average)
        figures["pair_stats"] = per_benchmark
    return figures


def _constant(value: float) -> np.ndarray:
    return np.full(bootstrap.ROUNDS, value, dtype=np.float32)


def _average_rounds(request_id: int, benchmarks: list[str], evidence: Evidence) -> np.ndarray | None:
    """The row's resampled average; None when none of its benchmarks has item scores."""
    parts = [evidence.means.get((request_id, name)) for name in benchmarks]
    if all(part is None for part in parts):
        return None
    values = evidence.values[request_id]
    filled = [
        part if part is not None else _constant(values[name])
        for name, part in zip(benchmarks, parts, strict=True)
    ]
    return np.mean(np.stack(filled), axis=0)


def _pair(upper: int, lower: int, evidence: Evidence) -> tuple[float | None, dict[str, float]]:
    """P(upper's average > lower's) over the benchmarks both average, and P per benchmark."""
    shared = [name for name in evidence.values[upper] if name in evidence.values[lower]]
    ups: list[np.ndarray] = []
    downs: list[np.ndarray] = []
    per_benchmark: dict[str, float] = {}
    for name in shared:
        rounds = _paired_rounds(upper, lower, name, evidence)
        if rounds is None:  # no item scores on one side: both stay at their scores in every round
            rounds = (_constant(evidence.values[upper][name]), _constant(evidence.values[lower][name]))
        else:
            per_benchmark[name] = round(bootstrap.p_above(*rounds), 6)
        ups.append(rounds[0])
        downs.append(rounds[1])
    if not per_benchmark:
        return None, {}
    p_average = bootstrap.p_above(np.mean(np.stack(ups), axis=0), np.mean(np.stack(downs), axis=0))
    return round(p_average, 6), per_benchmark


def _paired_rounds(
    upper: int, lower: int, name: str, evidence: Evidence
) -> tuple[np.ndarray, np.ndarray] | None:
    """Both rows' resampled means on one benchmark under the same draws: their own (shared) draws
    when they were scored on the same items, else a resampling of the items they share."""
    first, second = evidence.items.get((upper, name)), evidence.items.get((lower, name))
    if first is None or second is None:
        return None
    if first.digest == second.digest:
        a, b = evidence.means.get((upper, name)), evidence.means.get((lower, name))
        return (a, b) if a is not None and b is not None else None
    set_a, set_b = evidence.sets.get(first.digest), evidence.sets.get(second.digest)
    if set_a is None or set_b is None:
        return None
    position = {item: index for index, item in enumerate(set_b.ids)}
    pairs = [(index, position[item]) for index, item in enumerate(set_a.ids) if item in position]
    if not pairs:
        return None
    in_a = np.array([a for a, _ in pairs])
    in_b = np.array([b for _, b in pairs])
    weights = None if set_a.weights is None else set_a.weights[in_a]
    digest = item_store.digest_of([set_a.ids[index] for index in in_a], weights)
    counts = bootstrap.resample_counts(digest, len(pairs))
    rounds = bootstrap.resampled_means(
        counts, np.stack([first.scores[in_a], second.scores[in_b]], 1), weights
    )
    return rounds[:, 0], rounds[:, 1]
