"""Storing and reading per-item scores (item_set, item_score), written with a request's results.

Compact because the board bootstraps thousands of models from them: a set of item ids is stored once
(by digest) however many models ran on it; a model's scores are packed bits when every score is 0 or
1 (accuracy, exact match: 1/32 of float32) and float32 otherwise. Read back many requests at a
time (load_blocks), with the board values the bootstrap averages them with (board_values).
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
from sqlalchemy import Integer, Text, bindparam, cast, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.db import QUERY_CHUNK
from app.tables import ItemScore, ItemSet, LeaderboardEntry

BITS, FLOAT32 = "bits", "f4"


@dataclass(frozen=True)
class ItemSetData:
    digest: str
    ids: tuple[str, ...]
    weights: np.ndarray | None  # None: every weight is 1


@dataclass(frozen=True)
class Items:
    """One request's scores on one benchmark, in its item set's order."""

    digest: str
    scores: np.ndarray  # float32 (n,)


# Item sets never change once written: decoded ones are kept by digest (the same in every database).
_sets: dict[str, ItemSetData] = {}


def digest_of(ids: list[str], weights: np.ndarray | None) -> str:
    hasher = hashlib.sha256("\n".join(ids).encode())
    if weights is not None:
        hasher.update(weights.astype("<f4").tobytes())
    return hasher.hexdigest()


def encode_scores(scores: np.ndarray) -> tuple[str, bytes]:
    if np.all((scores == 0.0) | (scores == 1.0)):
        return BITS, np.packbits(scores.astype(bool)).tobytes()
    return FLOAT32, scores.astype("<f4").tobytes()


def decode_scores(encoding: str, blob: bytes, n: int) -> np.ndarray:
    if encoding == BITS:
        return np.unpackbits(np.frombuffer(blob, dtype=np.uint8), count=n).astype(np.float32)
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)


def _weights(values: list[float]) -> np.ndarray | None:
    array = np.asarray(values, dtype=np.float32)
    return None if np.all(array == 1.0) else array


def save(session: Session, request_id: int, item_scores: dict[str, Any] | None) -> int:
    """Store a finished request's per-item scores ({benchmark: {ids, scores, weights}}, from
    harness/item_scores.py; None entries are benchmarks without any). Returns how many were stored."""
    stored = 0
    for benchmark, found in sorted((item_scores or {}).items()):
        if not found or not found.get("ids") or len(found["ids"]) != len(found.get("scores", ())):
            continue
        ids = [str(item) for item in found["ids"]]
        weights = _weights(found.get("weights") or [1.0] * len(ids))
        set_id = _item_set_id(session, ids, weights)
        encoding, blob = encode_scores(np.asarray(found["scores"], dtype=np.float32))
        session.add(
            ItemScore(
                request_id=request_id,
                benchmark=benchmark,
                item_set_id=set_id,
                encoding=encoding,
                scores=blob,
            )
        )
        stored += 1
    session.flush()
    return stored


def _item_set_id(session: Session, ids: list[str], weights: np.ndarray | None) -> int:
    """The set's row, inserted unless there: two workers storing the same new set at once both
    succeed (ON CONFLICT DO NOTHING) instead of one failing its whole transaction."""
    digest = digest_of(ids, weights)
    existing = session.scalar(select(ItemSet.id).where(ItemSet.digest == digest))
    if existing is not None:
        return existing
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    values = {
        "digest": digest,
        "n": len(ids),
        "ids": zlib.compress("\n".join(ids).encode(), 6),
        "weights": None if weights is None else weights.astype("<f4").tobytes(),
    }
    session.execute(insert(ItemSet).values(**values).on_conflict_do_nothing(index_elements=["digest"]))
    return int(session.scalar(select(ItemSet.id).where(ItemSet.digest == digest)) or 0)


@dataclass(frozen=True)
class ScoreBlock:
    """Several requests' scores on one benchmark and item set, decoded together: one row each."""

    benchmark: str
    digest: str
    binary: bool  # stored as bits: every score is 0 or 1
    request_ids: np.ndarray  # (requests,) int64
    scores: np.ndarray  # (requests, n): uint8 when binary, else float32


# On PostgreSQL the server concatenates each block's rows into one bytea: per row its request id
# (8 bytes, big-endian) and its scores, all of one length. A board's 100,000 rows arrive as a few
# dozen values instead of as 100,000 Python rows.
BLOCKS_POSTGRESQL = text(
    "SELECT benchmark, item_set_id, encoding, length(scores),"
    " string_agg(int8send(request_id::int8) || scores, ''::bytea)"
    " FROM item_score WHERE request_id = ANY(:ids) GROUP BY benchmark, item_set_id, encoding, length(scores)"
).bindparams(bindparam("ids", type_=ARRAY(Integer)))


def load_blocks(session: Session, request_ids: Iterable[int]) -> list[ScoreBlock]:
    """The given requests' item scores, one block per (benchmark, item set, encoding, blob length):
    a board's thousands of rows decode in a few numpy calls instead of one per row and benchmark."""
    wanted = sorted(set(request_ids))
    connection = session.connection()  # Core rows: the ORM's per-row work is not needed here
    groups: list[tuple[str, int, str, np.ndarray, np.ndarray]] = []  # ..., request ids, blobs
    if connection.dialect.name == "postgresql":
        for benchmark, set_id, encoding, length, joined in connection.execute(
            BLOCKS_POSTGRESQL, {"ids": wanted}
        ):
            records = np.frombuffer(joined, dtype=np.uint8).reshape(-1, 8 + length)
            requests = records[:, :8].copy().view(">i8").ravel().astype(np.int64)
            groups.append((benchmark, set_id, encoding, requests, records[:, 8:]))
    else:
        grouped: dict[tuple[str, int, str, int], tuple[list[int], list[bytes]]] = {}
        for start in range(0, len(wanted), QUERY_CHUNK):
            for request_id, benchmark, set_id, encoding, blob in connection.execute(
                select(
                    ItemScore.request_id,
                    ItemScore.benchmark,
                    ItemScore.item_set_id,
                    ItemScore.encoding,
                    ItemScore.scores,
                ).where(ItemScore.request_id.in_(wanted[start : start + QUERY_CHUNK]))
            ):
                requests_of, blobs = grouped.setdefault((benchmark, set_id, encoding, len(blob)), ([], []))
                requests_of.append(request_id)
                blobs.append(blob)
        for (benchmark, set_id, encoding, length), (requests_of, blobs) in grouped.items():
            joined = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(len(blobs), length)
            groups.append((benchmark, set_id, encoding, np.array(requests_of, dtype=np.int64), joined))
    described = _described_sets(session, {group[1] for group in groups})
    return [
        _decoded(benchmark, *described[set_id], encoding, requests, blobs)
        for benchmark, set_id, encoding, requests, blobs in groups
    ]


def _described_sets(session: Session, set_ids: set[int]) -> dict[int, tuple[str, int]]:
    """Item set id -> (digest, n)."""
    ordered = sorted(set_ids)
    found: dict[int, tuple[str, int]] = {}
    for start in range(0, len(ordered), QUERY_CHUNK):
        for set_id, digest, n in session.connection().execute(
            select(ItemSet.id, ItemSet.digest, ItemSet.n).where(
                ItemSet.id.in_(ordered[start : start + QUERY_CHUNK])
            )
        ):
            found[set_id] = (digest, n)
    return found


def _decoded(
    benchmark: str, digest: str, n: int, encoding: str, requests: np.ndarray, blobs: np.ndarray
) -> ScoreBlock:
    """decode_scores of each row of `blobs` (requests, blob length) uint8, all at once."""
    if encoding == BITS:
        return ScoreBlock(benchmark, digest, True, requests, np.unpackbits(blobs, axis=1, count=n))
    return ScoreBlock(
        benchmark, digest, False, requests, np.ascontiguousarray(blobs).view("<f4").astype(np.float32)
    )


# On PostgreSQL only each row's benchmark names and values leave the server, in the order of its
# scores' keys (the order its average adds them in; one pass gives both arrays the same order).
VALUES_POSTGRESQL = text(
    "SELECT entry.request_id, cells.names, cells.numbers FROM leaderboard_entry AS entry"
    " CROSS JOIN LATERAL (SELECT array_agg(key) AS names, array_agg((value ->> 'value')::float8) AS numbers"
    " FROM jsonb_each(entry.scores)) AS cells"
    " WHERE entry.suite = :suite AND entry.board = :board AND entry.request_id = ANY(:ids)"
).bindparams(bindparam("ids", type_=ARRAY(Integer)))


def board_values(
    session: Session, suite: str, board: str, request_ids: list[int]
) -> dict[int, dict[str, float]]:
    """The benchmarks each request averages on this board, and their values, in the order of its
    scores (the order its average adds them in); others show without a value there."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        found = connection.execute(VALUES_POSTGRESQL, {"suite": suite, "board": board, "ids": request_ids})
        return {
            request: {
                name: value
                for name, value in zip(names or (), numbers or (), strict=True)
                if value is not None
            }
            for request, names, numbers in found
        }
    values: dict[int, dict[str, float]] = {}
    for start in range(0, len(request_ids), QUERY_CHUNK):
        for request_id, scores in connection.execute(
            select(LeaderboardEntry.request_id, cast(LeaderboardEntry.scores, Text)).where(
                LeaderboardEntry.suite == suite,
                LeaderboardEntry.board == board,
                LeaderboardEntry.request_id.in_(request_ids[start : start + QUERY_CHUNK]),
            )
        ):  # the JSON as text, for orjson: several times faster to read than as JSON
            values[request_id] = averaged(orjson.loads(scores) if scores else {})
    return values


def averaged(scores: dict[str, Any]) -> dict[str, float]:
    """The benchmarks a row's scores average (those with a value) and their values, in their order."""
    return {name: float(cell["value"]) for name, cell in scores.items() if cell.get("value") is not None}


def item_sets(session: Session, digests: Iterable[str]) -> dict[str, ItemSetData]:
    """The ids and weights of these sets (decoded once per process)."""
    missing = sorted(set(digests) - set(_sets))
    for start in range(0, len(missing), QUERY_CHUNK):
        for digest, ids, weights in session.execute(
            select(ItemSet.digest, ItemSet.ids, ItemSet.weights).where(
                ItemSet.digest.in_(missing[start : start + QUERY_CHUNK])
            )
        ):
            decoded = tuple(zlib.decompress(bytes(ids)).decode().split("\n"))
            array = None if weights is None else np.frombuffer(bytes(weights), dtype="<f4").copy()
            _sets[digest] = ItemSetData(digest, decoded, array)
    return {digest: _sets[digest] for digest in set(digests) if digest in _sets}


def stored_order(values: dict[str, float], dialect: str) -> dict[str, float]:
    """`values` in the order board_values reads them back once stored: PostgreSQL's jsonb keeps an
    object's keys shortest first, then bytewise; SQLite's JSON text keeps them as written. (A row's
    average over its bootstrap rounds adds benchmarks in this order, and must not depend on whether
    the row was read back or is about to be written.)"""
    if dialect != "postgresql":
        return values
    ordered = sorted(values, key=lambda name: (len(name.encode()), name.encode()))
    return {name: values[name] for name in ordered}
