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

Stale rows are computed a chunk at a time: each benchmark's resampled means of all the chunk's rows
in one (rows, rounds) array, then averages, intervals and the probabilities of every (row, next row)
pair as whole-array operations; only a pair on different item sets (a run on part of a benchmark)
takes the per-pair path (_pair). The figures are those of computing row by row, to the bit: the
same float32 sums in the same order, the same float64 comparisons.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
from sqlalchemy import Boolean, Float, Integer, String, Text, bindparam, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from app.leaderboard import bootstrap, item_store
from app.leaderboard.bootstrap import run_of, take_rows
from app.leaderboard.entry_rows import RANK_ORDER
from app.leaderboard.item_store import Items, ItemSetData, ScoreBlock
from app.leaderboard.ties import tied
from app.tables import BoardRank, LeaderboardEntry

# Stale rows computed together. Their resampled means are held at once (12 benchmarks x 1,000 rounds
# x 4 bytes: 48 KB a row, 50 MB), in arrays every chunk reuses (bootstrap.Scratch). The matrix
# products are as fast on 1,024 rows as on 4,096; larger chunks only touch more fresh memory.
CHUNK = 1024
NO_ITEMS, UNRESAMPLED = -1, -2  # a (row, benchmark) without resampled means (see Evidence)
FIGURES = ("id", "ci_low", "ci_high", "p_above_next", "tied_with_next", "pair_stats", "stats_key")

# Rows in rank order (entries.renumber).
STALE_ROWS = text(
    "SELECT id, request_id, next_request, complete FROM ("
    " SELECT id, model_id, request_id, average, stats_key,"
    "  CASE WHEN average IS NULL THEN 0 ELSE 1 END AS complete,"
    "  LEAD(CASE WHEN average IS NOT NULL THEN request_id END)"
    f"   OVER (ORDER BY {RANK_ORDER}) AS next_request"
    " FROM leaderboard_entry WHERE suite = :suite AND board = :board"
    ") AS ordered WHERE stats_key IS NULL OR model_id IN :changed OR stats_key <>"
    " (CAST(request_id AS VARCHAR(20)) || '>' || COALESCE(CAST(next_request AS VARCHAR(20)), ''))"
    f" ORDER BY {RANK_ORDER}"
).bindparams(bindparam("changed", expanding=True))

# Rank intervals in one pass over one sorted list of every complete row's interval ends (a row without
# an interval contributes its average as both): from the top, a running count of highs (H) and of lows
# (L). At a row's own high, the lows counted so far are those strictly above it (at an equal value H
# sorts before L): rank_low = 1 + that. At its own low, the highs counted so far are those at or
# above it: rank_high. Stored as their distances from the row's rank (see LeaderboardEntry), so only
# rows whose distances changed are written. One window sort and a GROUP BY; a join of two windowed
# lists instead is planned as a nested loop on PostgreSQL (seconds on 10,000 rows).
RANK_INTERVALS = text(
    "UPDATE board_rank SET rank_span_up = spans.up, rank_span_down = spans.down FROM ("
    " SELECT counted.id, place.rank - MAX(CASE WHEN counted.kind = 0 THEN 1 + counted.lows END) AS up,"
    "  MAX(CASE WHEN counted.kind = 1 THEN counted.highs END) - place.rank AS down FROM ("
    "  SELECT id, kind, has_interval, SUM(kind) OVER ends AS lows, SUM(1 - kind) OVER ends AS highs FROM ("
    "   SELECT id, COALESCE(ci_high, average) AS v, 0 AS kind, ci_low IS NOT NULL AS has_interval"
    "   FROM leaderboard_entry WHERE suite = :suite AND board = :board AND average IS NOT NULL"
    "   UNION ALL SELECT id, COALESCE(ci_low, average) AS v, 1 AS kind, ci_low IS NOT NULL AS has_interval"
    "   FROM leaderboard_entry WHERE suite = :suite AND board = :board AND average IS NOT NULL"
    "  ) AS interval_ends WINDOW ends AS (ORDER BY v DESC, kind ROWS UNBOUNDED PRECEDING)"
    " ) AS counted JOIN board_rank AS place ON place.entry_id = counted.id"
    " WHERE counted.has_interval GROUP BY counted.id, place.rank"
    ") AS spans WHERE board_rank.entry_id = spans.id"
    " AND (board_rank.rank_span_up IS DISTINCT FROM spans.up"
    " OR board_rank.rank_span_down IS DISTINCT FROM spans.down)"
)

# On PostgreSQL a chunk's figures go in one statement, as arrays joined to the rows by id, instead of
# one UPDATE per row (the same rows written, without the per-row parameter handling).
FIGURES_POSTGRESQL = text(
    "UPDATE leaderboard_entry SET ci_low = figures.ci_low, ci_high = figures.ci_high,"
    " p_above_next = figures.p_above_next, tied_with_next = figures.tied_with_next,"
    " pair_stats = CAST(figures.pair_stats AS JSON), stats_key = figures.stats_key"
    " FROM unnest(:id, :ci_low, :ci_high, :p_above_next, :tied_with_next, :pair_stats, :stats_key)"
    " AS figures(id, ci_low, ci_high, p_above_next, tied_with_next, pair_stats, stats_key)"
    " WHERE leaderboard_entry.id = figures.id"
).bindparams(
    bindparam("id", type_=ARRAY(Integer)),
    *(bindparam(name, type_=ARRAY(Float)) for name in ("ci_low", "ci_high", "p_above_next")),
    bindparam("tied_with_next", type_=ARRAY(Boolean)),
    bindparam("pair_stats", type_=ARRAY(Text)),
    bindparam("stats_key", type_=ARRAY(String)),
)


@dataclass(frozen=True)
class StaleRow:
    id: int
    request_id: int
    next_request: int | None  # the next complete row's request; None: last complete row or incomplete
    complete: bool


@dataclass
class Evidence:
    """What a chunk's figures are computed from. Each request with scores on this board has a row
    (`position`) in every benchmark's arrays: rounds[benchmark][row], its resampled means, or its score
    in every round where it has none; state[benchmark][row], the item set they were drawn on (its
    number in `digests`), NO_ITEMS or UNRESAMPLED (scores that do not fit their set);
    binary[benchmark][row], whether they are exact (bootstrap.resampled_means_binary). Rows that
    average the same benchmarks in the same order share a group (groups[row], group_names)."""

    values: dict[int, dict[str, float]]  # request -> the benchmarks it averages here, in its order
    position: dict[int, int]
    blocks: list[ScoreBlock]
    sets: dict[str, ItemSetData]
    groups: np.ndarray
    group_names: list[tuple[str, ...]]
    scratch: bootstrap.Scratch  # holds the arrays, for the next chunk to reuse
    digests: dict[str, int]
    rounds: dict[str, np.ndarray] = field(default_factory=dict)
    state: dict[str, np.ndarray] = field(default_factory=dict)
    binary: dict[str, np.ndarray] = field(default_factory=dict)

    def means(self, request_id: int, name: str) -> np.ndarray | None:
        row = self.position.get(request_id)
        if row is None or name not in self.state or self.state[name][row] < 0:
            return None
        return self.rounds[name][row]

    def items(self, request_id: int, name: str) -> Items | None:
        """A request's item scores on a benchmark it averages (looked up: only rare pairs ask)."""
        if name not in self.values.get(request_id, {}):
            return None
        for block in self.blocks:
            if block.benchmark == name and (found := np.flatnonzero(block.request_ids == request_id)).size:
                return Items(block.digest, block.scores[found[0]].astype(np.float32))
        return None


def update_neighbours(
    session: Session, suite: str, board: str, model_ids_changed: Iterable[int] = ()
) -> list[int]:
    """Recompute the figures of the board's rows that changed or whose next row changed (all of
    them after rebuild_all), then the board's rank intervals. Returns the recomputed rows' ids, sorted."""
    changed = sorted(set(model_ids_changed)) or [-1]
    stale = [
        StaleRow(int(row.id), int(row.request_id), row.next_request, bool(row.complete))
        for row in session.execute(STALE_ROWS, {"suite": suite, "board": board, "changed": changed})
    ]
    scratch = bootstrap.Scratch()
    for start in range(0, len(stale), CHUNK):
        rows = stale[start : start + CHUNK]
        _store(session, figures(rows, gather(session, suite, board, rows, scratch)))
    update_intervals(session, suite, board)
    # Bulk UPDATEs bypass the ORM: rows loaded earlier in this transaction must be read again.
    loaded = (LeaderboardEntry, BoardRank)
    for entry in [obj for obj in session.identity_map.values() if isinstance(obj, loaded)]:
        session.expire(entry)
    return sorted(row.id for row in stale)


def figures_of_new_rows(session: Session, suite: str, board: str, rows: list[dict[str, Any]]) -> None:
    """The figures of one board's rows before they are written (rebuild_all), set in each row's
    values: rows in rank order, each written once with its figures instead of updated after."""
    dialect = session.get_bind().dialect.name
    averaged = {row["request_id"]: item_store.averaged(row["scores"]) for row in rows}
    known = {request: item_store.stored_order(values, dialect) for request, values in averaged.items()}
    stale = []
    for position, row in enumerate(rows):  # what STALE_ROWS reads off the stored rows
        below = rows[position + 1] if position + 1 < len(rows) else None
        next_request = below["request_id"] if below is not None and below["average"] is not None else None
        stale.append(StaleRow(position, row["request_id"], next_request, row["average"] is not None))
    scratch = bootstrap.Scratch()
    for start in range(0, len(stale), CHUNK):
        chunk = stale[start : start + CHUNK]
        for found in figures(chunk, gather(session, suite, board, chunk, scratch, known)):
            rows[found.pop("id")].update(found)


def update_intervals(session: Session, suite: str, board: str) -> None:
    """The board's rank intervals from its rows' figures (see RANK_INTERVALS)."""
    session.execute(RANK_INTERVALS, {"suite": suite, "board": board})


def _store(session: Session, updates: list[dict[str, Any]]) -> None:
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(update(LeaderboardEntry), updates)
        return
    columns = {name: [row[name] for row in updates] for name in FIGURES}
    columns["pair_stats"] = [orjson.dumps(stats).decode() for stats in columns["pair_stats"]]
    connection.execute(FIGURES_POSTGRESQL, columns)


def gather(
    session: Session,
    suite: str,
    board: str,
    rows: list[StaleRow],
    scratch: bootstrap.Scratch,
    known: dict[int, dict[str, float]] | None = None,
) -> Evidence:
    """The Evidence for these rows and their next rows. `known`: the values each request averages,
    for rows not written yet (else read from the board)."""
    # The rows' requests in rank order, then the next rows beyond them: a row and its next row are
    # mostly neighbours in the arrays, so that pairs are slices of them rather than copies.
    nexts = [row.next_request for row in rows if row.next_request is not None]
    wanted = list(dict.fromkeys([row.request_id for row in rows] + nexts))
    if known is None:
        values = item_store.board_values(session, suite, board, wanted)
    else:
        values = {request: known[request] for request in wanted if request in known}
    position = {request: row for row, request in enumerate(r for r in wanted if values.get(r))}
    blocks = item_store.load_blocks(session, position)
    sets = item_store.item_sets(session, {block.digest for block in blocks})
    members: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for request, row in position.items():
        members[tuple(values[request])].append(row)
    groups = np.zeros(len(position), dtype=np.intp)
    for group, rows_of_group in enumerate(members.values()):
        groups[rows_of_group] = group
    digests = {digest: number for number, digest in enumerate(sorted({block.digest for block in blocks}))}
    evidence = Evidence(values, position, blocks, sets, groups, list(members), scratch, digests)
    _resample(evidence)
    return evidence


def _resample(evidence: Evidence) -> None:
    """Every (request, benchmark)'s resampled means: one matrix product per block of scores."""
    count = len(evidence.position)
    averaged: dict[str, np.ndarray] = {}  # benchmark -> which rows average it
    for group, names in enumerate(evidence.group_names):
        for name in names:
            averaged.setdefault(name, np.zeros(count, dtype=bool))[evidence.groups == group] = True
    for name in averaged:
        evidence.rounds[name] = evidence.scratch.get(f"rounds {name}", (count, bootstrap.ROUNDS))
        evidence.state[name] = np.full(count, NO_ITEMS, dtype=np.int32)
        evidence.binary[name] = np.zeros(count, dtype=bool)
    requests = np.fromiter(evidence.position, dtype=np.int64, count=count)  # by row
    by_id = np.argsort(requests)
    for block in evidence.blocks:
        if block.benchmark in averaged and count:
            found = by_id[np.minimum(np.searchsorted(requests, block.request_ids, sorter=by_id), count - 1)]
            sources = np.flatnonzero(
                (requests[found] == block.request_ids) & averaged[block.benchmark][found]
            )
            order = np.argsort(found[sources])
            _resample_block(evidence, block, found[sources][order], sources[order])
    ordered = list(evidence.position)
    for name, rounds in evidence.rounds.items():  # no resampled means: the score in every round
        for row in np.flatnonzero((evidence.state[name] < 0) & averaged[name]).tolist():
            rounds[row] = np.float32(evidence.values[ordered[row]][name])


def _resample_block(evidence: Evidence, block: ScoreBlock, rows: np.ndarray, sources: np.ndarray) -> None:
    """The state and resampled means of a block's `sources` rows, which are the chunk's `rows` (sorted)."""
    name, item_set = block.benchmark, evidence.sets.get(block.digest)
    if not len(rows):
        return
    if item_set is None or block.scores.shape[1] != len(item_set.ids):
        evidence.state[name][rows] = UNRESAMPLED
        return
    evidence.state[name][rows] = evidence.digests[block.digest]
    counts = bootstrap.resample_counts(block.digest, len(item_set.ids))
    buffer = evidence.scratch.get("scores", (len(rows), block.scores.shape[1]), block.scores.dtype.type)
    scores = np.take(block.scores, sources, axis=0, out=buffer)
    run = run_of(rows)
    if block.binary and item_set.weights is None and scores.shape[1] <= bootstrap.BINARY_MAX_ITEMS:
        evidence.binary[name][rows] = True
        target = None if run is None else evidence.rounds[name][run]
        means = bootstrap.resampled_means_binary(counts, scores, target, evidence.scratch)
    else:  # the models as columns, as they were always multiplied
        matrix = np.ascontiguousarray(scores.T, dtype=np.float32)
        means, run = bootstrap.resampled_means(counts, matrix, item_set.weights).T, None
    if run is None:
        evidence.rounds[name][rows] = means


def figures(rows: list[StaleRow], evidence: Evidence) -> list[dict[str, Any]]:
    """Each row's FIGURES."""
    averages, resampled = _averages(evidence)
    own = [evidence.position.get(row.request_id, -1) for row in rows if row.complete]
    own = [row for row in own if row >= 0 and resampled[row]]
    intervals: dict[int, tuple[float, float]] = {}
    if own:
        own_rounds = take_rows(averages, np.array(own, dtype=np.intp))
        lows, highs = bootstrap.percentile_intervals(own_rounds, scratch=evidence.scratch)
        intervals = dict(zip(own, zip(lows.tolist(), highs.tolist(), strict=True), strict=True))
    pairs = _pairs(rows, evidence, averages)
    found = []
    for row in rows:
        low, high = intervals.get(evidence.position.get(row.request_id, -1), (None, None))
        p, stats = pairs.get(row.id, (None, {}))
        key = f"{row.request_id}>{row.next_request or ''}"
        found.append(dict(zip(FIGURES, (row.id, low, high, p, tied(p), stats, key), strict=True)))
    return found


def _averages(evidence: Evidence) -> tuple[np.ndarray, np.ndarray]:
    """Every row's resampled average (its benchmarks' rounds in its order, as bootstrap.mean_rounds
    averages them) and whether any of its benchmarks was resampled."""
    averages = evidence.scratch.get("averages", (len(evidence.position), bootstrap.ROUNDS))
    resampled = np.zeros(len(evidence.position), dtype=bool)
    for group, names in enumerate(evidence.group_names):
        index = np.flatnonzero(evidence.groups == group)
        run = run_of(index)
        out = averages[run] if run is not None else np.empty((len(index), bootstrap.ROUNDS), np.float32)
        bootstrap.mean_rounds([take_rows(evidence.rounds[name], index) for name in names], out)
        if run is None:
            averages[index] = out
        resampled[index] = np.any([evidence.state[name][index] >= 0 for name in names], axis=0)
    return averages, resampled


# A pair to compute: (row id, its request, the next row's request, their rows in the Evidence arrays).
Pair = tuple[int, int, int, int, int]
PairFigures = tuple[float | None, dict[str, float]]  # p_above_next, pair_stats


def _pairs(rows: list[StaleRow], evidence: Evidence, averages: np.ndarray) -> dict[int, PairFigures]:
    """The pair figures of each complete row that has a next row with scores, by row id."""
    found: dict[int, PairFigures] = {}
    alike: dict[int, list[Pair]] = defaultdict(list)
    for row in rows:
        if not row.complete or row.next_request is None:
            continue
        upper, lower = evidence.position.get(row.request_id), evidence.position.get(row.next_request)
        if upper is None or lower is None:
            continue
        if evidence.groups[upper] == evidence.groups[lower]:
            pair = (row.id, row.request_id, row.next_request, upper, lower)
            alike[int(evidence.groups[upper])].append(pair)
        else:  # different benchmarks, or in another order: the per-pair path
            found[row.id] = _pair(row.request_id, row.next_request, evidence)
    for group, members in alike.items():
        found.update(_pairs_alike(evidence.group_names[group], members, evidence, averages))
    return found


def _pairs_alike(
    names: tuple[str, ...], members: list[Pair], evidence: Evidence, averages: np.ndarray
) -> dict[int, PairFigures]:
    """Pairs of rows averaging the same benchmarks in the same order. Where, on each benchmark, both
    rows were resampled on the same item set or neither has item scores, a pair's rounds are the rows'
    own (those _pair would stack): all such pairs at once. The others: _pair."""
    upper = np.array([member[3] for member in members], dtype=np.intp)
    lower = np.array([member[4] for member in members], dtype=np.intp)
    alike = np.ones(len(members), dtype=bool)
    for name in names:
        state = evidence.state[name]
        alike &= (state[upper] == state[lower]) & (state[upper] != UNRESAMPLED)
    chosen = np.flatnonzero(alike)
    upper, lower = upper[chosen], lower[chosen]
    per_benchmark: dict[str, list[float]] = {}  # P of each chosen pair; NaN: no item scores there
    for name in names:
        on_items, rounds = evidence.state[name][upper] >= 0, evidence.rounds[name]
        if not on_items.any():
            continue
        exact = on_items & evidence.binary[name][upper] & evidence.binary[name][lower]
        p = np.full(len(chosen), np.nan)
        if (where := np.flatnonzero(exact)).size:
            ups, downs = take_rows(rounds, upper[where]), take_rows(rounds, lower[where])
            p[where] = bootstrap.p_above_binary_rows(ups, downs)
        if (where := np.flatnonzero(on_items & ~exact)).size:
            ups, downs = take_rows(rounds, upper[where]), take_rows(rounds, lower[where])
            p[where] = bootstrap.p_above_rows(ups, downs, evidence.scratch)
        per_benchmark[name] = p.tolist()
    p_average = bootstrap.p_above_rows(
        take_rows(averages, upper), take_rows(averages, lower), evidence.scratch
    )
    found = {
        member[0]: _pair(member[1], member[2], evidence)
        for member, same in zip(members, alike.tolist(), strict=True)
        if not same
    }
    for pair, (index, p_pair) in enumerate(zip(chosen.tolist(), p_average.tolist(), strict=True)):
        stats = {name: round(p[pair], 6) for name, p in per_benchmark.items() if not math.isnan(p[pair])}
        found[members[index][0]] = (round(p_pair, 6), stats) if stats else (None, {})
    return found


def _constant(value: float) -> np.ndarray:
    return np.full(bootstrap.ROUNDS, value, dtype=np.float32)


def _pair(upper: int, lower: int, evidence: Evidence) -> PairFigures:
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
    first, second = evidence.items(upper, name), evidence.items(lower, name)
    if first is None or second is None:
        return None
    if first.digest == second.digest:
        a, b = evidence.means(upper, name), evidence.means(lower, name)
        return (a, b) if a is not None and b is not None else None
    set_a, set_b = evidence.sets.get(first.digest), evidence.sets.get(second.digest)
    if set_a is None or set_b is None:
        return None
    return bootstrap.shared_item_rounds(set_a, first.scores, set_b, second.scores)
