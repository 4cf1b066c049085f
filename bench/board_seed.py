"""Seeding for bench/leaderboard_load.py: a PostgreSQL board of N models on 12 private benchmarks.

Private benchmarks (a few generated items each) are registered in a private dir, since no built-in
suite has 12 benchmarks; models, finished requests, primary results and per-item scores (one item
set per benchmark, 200 to 1,850 items; each model's items right with its score's probability, the
score then being their mean) go in with bulk inserts; the board's index and its rank bootstrap are
then built by the real code, app.leaderboard.entries.rebuild_all.
"""

from __future__ import annotations

import json
import math
import random
import time
import zlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import create_engine, insert, text

from app.db import make_engine, session_scope, utcnow
from app.leaderboard import item_store
from app.leaderboard.entries import rebuild_all
from app.tables import EvalRequest, ItemScore, ItemSet, LlmModel, RequestStatus, Result
from benchmarks.private import PRIVATE_SUITE, PrivateBenchmark, register

ADMIN_URL = "postgresql+psycopg://root@127.0.0.1:5432/postgres"
MODEL_TYPES = ("pretrained", "continuously_pretrained", "fine_tuned", "chat", "merge")
PRECISIONS = ("float16", "bfloat16", "8bit", "4bit")
LICENCES = ("apache-2.0", "mit", "llama3.1", "cc-by-nc-4.0", "gemma", "other", None)
FLAGS = (["contaminated"], ["duplicate"], ["contaminated", "under-review"])
BATCH = 5000


def recreate_database(name: str, *, drop_only: bool = False) -> str:
    engine = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if not drop_only:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def register_benchmarks(private_dir: Path, count: int) -> list[PrivateBenchmark]:
    """`count` multiple-choice private benchmarks of 4 generated items each."""
    sources = private_dir.parent / "items"
    sources.mkdir(parents=True, exist_ok=True)
    registered = []
    for number in range(1, count + 1):
        data = sources / f"heldout_{number:02d}.jsonl"
        items = [
            {
                "question": f"Held-out question {number}.{item}?",
                "choices": ["a", "b", "c", "d"],
                "answer": item,
            }
            for item in range(4)
        ]
        data.write_text("".join(json.dumps(item) + "\n" for item in items))
        registered.append(
            register(
                private_dir,
                f"heldout_{number:02d}",
                data,
                "multiple_choice",
                f"Held-out {number}",
                f"비공개 평가 {number}",
                language="ko" if number % 3 == 0 else "en",
            )
        )
    return registered


def item_set_rows(benchmarks: list[PrivateBenchmark], n_items: dict[str, int]) -> list[dict[str, Any]]:
    """One item set per benchmark, ids "task:doc_id" as the harness records them; id = its position."""
    rows = []
    for number, spec in enumerate(benchmarks, start=1):
        ids = [f"{spec.task}:{doc}" for doc in range(n_items[spec.name])]
        rows.append(
            {
                "id": number,
                "digest": item_store.digest_of(ids, None),
                "n": len(ids),
                "ids": zlib.compress("\n".join(ids).encode(), 6),
                "weights": None,
            }
        )
    return rows


def seed_rows(
    models: int, benchmarks: list[PrivateBenchmark], rng: random.Random
) -> tuple[list[dict[str, Any]], ...]:
    """Rows of model, eval_request, result, item_set and item_score, ids assigned here (plain bulk
    inserts, no RETURNING). 5% of models also have an older finished request (the board must show
    the latest); 1% miss a benchmark on their latest request (no average: ranked last)."""
    now = utcnow()
    model_rows: list[dict[str, Any]] = []
    request_rows: list[dict[str, Any]] = []
    result_rows: list[dict[str, Any]] = []
    item_rows: list[dict[str, Any]] = []
    n_items = {spec.name: 200 + 150 * index for index, spec in enumerate(benchmarks)}
    set_ids = {spec.name: number for number, spec in enumerate(benchmarks, start=1)}
    draws = np.random.default_rng(rng.getrandbits(64))
    for model_id in range(1, models + 1):
        reference = f"org-{model_id // 20}/model-{model_id}"
        adapter = rng.random() < 0.1
        model_type = rng.choice(MODEL_TYPES)
        params = round(math.exp(rng.uniform(math.log(0.1), math.log(180))), 2)
        submitted = now - timedelta(days=rng.uniform(1, 365))
        model_rows.append(
            {
                "id": model_id,
                "reference": reference,
                "source": "hub",
                "name": reference,
                "revision": "main",
                "commit_sha": f"{rng.getrandbits(160):040x}",
                "precision": rng.choice(PRECISIONS),
                "weight_type": "adapter" if adapter else "original",
                "base_model": f"org-{rng.randrange(50)}/base-{rng.randrange(200)}" if adapter else None,
                "model_type": model_type,
                "params_b": params,
                "licence": rng.choice(LICENCES),
                "use_chat_template": model_type == "chat",
                "tokenizer": None,
                "flags": rng.choice(FLAGS) if rng.random() < 0.03 else [],
                "submitted_at": submitted,
            }
        )
        # Bigger models score higher on average, with spread; each benchmark adds its own noise.
        quality = min(0.9, max(0.25, 0.35 + 0.07 * math.log10(params * 10) + rng.gauss(0, 0.08)))
        runs = 2 if rng.random() < 0.05 else 1
        for run in range(runs):
            request_id = len(request_rows) + 1
            started = submitted + timedelta(hours=1 + run * 24)
            request_rows.append(
                {
                    "id": request_id,
                    "model_id": model_id,
                    "suite": PRIVATE_SUITE,
                    "status": RequestStatus.FINISHED.value,
                    "progress": 1.0,
                    "worker": "bench:1",
                    "attempts": 1,
                    "artifacts_path": f"/srv/evalboard/artifacts/{request_id}",
                    "data_source": "hub",
                    "created_at": submitted + timedelta(minutes=run * 24 * 60),
                    "started_at": started,
                    "finished_at": started + timedelta(minutes=rng.uniform(5, 240)),
                }
            )
            missing = rng.randrange(len(benchmarks)) if run == runs - 1 and rng.random() < 0.01 else -1
            for index, spec in enumerate(benchmarks):
                if index == missing:
                    continue
                chance = min(1.0, max(0.0, quality + rng.gauss(0, 0.07) - (0.05 if run < runs - 1 else 0)))
                n = n_items[spec.name]
                right = draws.random(n) < chance
                value = float(right.mean())
                item_rows.append(
                    {
                        "id": len(item_rows) + 1,
                        "request_id": request_id,
                        "benchmark": spec.name,
                        "item_set_id": set_ids[spec.name],
                        "encoding": item_store.BITS,
                        "scores": np.packbits(right).tobytes(),
                    }
                )
                result_rows.append(
                    {
                        "id": len(result_rows) + 1,
                        "request_id": request_id,
                        "benchmark": spec.name,
                        "task": spec.task,
                        "metric": "acc",
                        "value": value,
                        "stderr": math.sqrt(value * (1 - value) / n),
                        "n": n,
                        "is_primary": True,
                        "provenance": {"lm_eval_version": "0.4.9", "num_fewshot": 0, "backend": "vllm"},
                        "created_at": started,
                    }
                )
    return model_rows, request_rows, result_rows, item_set_rows(benchmarks, n_items), item_rows


TABLES = {
    "model": LlmModel,
    "eval_request": EvalRequest,
    "result": Result,
    "item_set": ItemSet,
    "item_score": ItemScore,
}


def seed(url: str, models: int, benchmarks: list[PrivateBenchmark], rng: random.Random) -> dict[str, int]:
    rows = dict(zip(TABLES, seed_rows(models, benchmarks, rng), strict=True))
    tables = TABLES
    engine = make_engine(url, one_shot=True)
    with engine.begin() as connection:
        for name, table_rows in rows.items():
            for start in range(0, len(table_rows), BATCH):
                connection.execute(insert(tables[name]), table_rows[start : start + BATCH])
            # Ids were given explicitly: move each sequence past them.
            connection.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))")
            )
    engine.dispose()
    return {name: len(table_rows) for name, table_rows in rows.items()}


def index_board(url: str, private_dir: Path) -> tuple[float, int]:
    started = time.perf_counter()
    with session_scope(url) as session:
        entries = rebuild_all(session, private_dir)
    seconds = time.perf_counter() - started
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("VACUUM ANALYZE"))  # what autovacuum would have done on a live board
    engine.dispose()
    return seconds, entries


def time_writes(
    url: str, private_dir: Path, benchmarks: list[PrivateBenchmark], count: int, rng: random.Random
) -> list[float]:
    """Seconds per finished request written the way a worker writes it (runs.mark_finished: results,
    item scores, the board row, ranks and the rank bootstrap of the rows whose neighbour changed), each
    a new mid-board model in its own transaction."""
    from app.runs import service as runs

    n_items = {spec.name: 200 + 150 * index for index, spec in enumerate(benchmarks)}
    draws = np.random.default_rng(rng.getrandbits(64))
    timings = []
    for number in range(count):
        with session_scope(url) as session:
            model = LlmModel(
                reference=f"bench-writes/model-{number}",
                source="hub",
                name=f"bench-writes/model-{number}",
                precision="bfloat16",
                weight_type="original",
                model_type="chat",
                params_b=7.0,
            )
            session.add(model)
            session.flush()
            request = EvalRequest(model_id=model.id, suite=PRIVATE_SUITE, status=RequestStatus.RUNNING)
            session.add(request)
            session.flush()
            rows, item_scores = [], {}
            for spec in benchmarks:
                right = draws.random(n_items[spec.name]) < rng.uniform(0.4, 0.6)
                ids = [f"{spec.task}:{doc}" for doc in range(len(right))]
                item_scores[spec.name] = {"ids": ids, "scores": right.astype(float).tolist()}
                rows.append(
                    {"benchmark": spec.name, "task": spec.task, "metric": "acc", "value": float(right.mean()),
                     "stderr": 0.01, "n": len(right), "is_primary": True, "provenance": {}}
                )  # fmt: skip
            started = time.perf_counter()
            runs.mark_finished(
                session, request.id, rows, "/tmp", "", data_source="hub", item_scores=item_scores,
                private_dir=private_dir,
            )  # fmt: skip
            session.commit()
            timings.append(time.perf_counter() - started)
    return timings
