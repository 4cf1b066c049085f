"""Storing and reading per-item scores (item_set, item_score), written with a request's results.

Compact because the board bootstraps thousands of models from them: a set of item ids is stored once
(by digest) however many models ran on it; a model's scores are packed bits when every score is 0 or
1 (accuracy, exact match: 1/32 of float32) and float32 otherwise.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.tables import ItemScore, ItemSet

BITS, FLOAT32 = "bits", "f4"
QUERY_CHUNK = 900  # request ids per IN list (SQLite allows 999 parameters)


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
    benchmarks/item_scores.py; None entries are benchmarks without any). Returns how many were stored."""
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


def load(session: Session, request_ids: Iterable[int]) -> dict[tuple[int, str], Items]:
    """(request id, benchmark) -> its item scores, for the given requests."""
    wanted = sorted(set(request_ids))
    found: dict[tuple[int, str], Items] = {}
    for start in range(0, len(wanted), QUERY_CHUNK):
        rows = session.execute(
            select(ItemScore.request_id, ItemScore.benchmark, ItemScore.encoding, ItemScore.scores)
            .add_columns(ItemSet.digest, ItemSet.n)
            .join(ItemSet, ItemSet.id == ItemScore.item_set_id)
            .where(ItemScore.request_id.in_(wanted[start : start + QUERY_CHUNK]))
        )
        for request_id, benchmark, encoding, blob, digest, n in rows:
            found[(request_id, benchmark)] = Items(digest, decode_scores(encoding, bytes(blob), n))
    return found


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
