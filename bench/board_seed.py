"""Seeding for bench/leaderboard_load.py: a PostgreSQL board of N models on 12 private benchmarks.

Private benchmarks (a few generated items each) are registered in a private dir, since no built-in
suite has 12 benchmarks; models, finished requests and primary results go in with bulk inserts;
the board's index is then built by the real code, app.leaderboard.entries.rebuild_all.
"""

from __future__ import annotations

import json
import math
import random
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text

from app.db import make_engine, session_scope, utcnow
from app.leaderboard.entries import rebuild_all
from app.tables import EvalRequest, LlmModel, RequestStatus, Result
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


def seed_rows(
    models: int, benchmarks: list[PrivateBenchmark], rng: random.Random
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows of model, eval_request and result, ids assigned here (plain bulk inserts, no RETURNING).
    5% of models also have an older finished request (the board must show the latest); 1% miss a
    benchmark on their latest request (no average: ranked last)."""
    now = utcnow()
    model_rows: list[dict[str, Any]] = []
    request_rows: list[dict[str, Any]] = []
    result_rows: list[dict[str, Any]] = []
    n_items = {spec.name: 200 + 150 * index for index, spec in enumerate(benchmarks)}
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
                value = min(1.0, max(0.0, quality + rng.gauss(0, 0.07) - (0.05 if run < runs - 1 else 0)))
                n = n_items[spec.name]
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
    return model_rows, request_rows, result_rows


def seed(url: str, models: int, benchmarks: list[PrivateBenchmark], rng: random.Random) -> dict[str, int]:
    rows = dict(zip(("model", "eval_request", "result"), seed_rows(models, benchmarks, rng), strict=True))
    tables = {"model": LlmModel, "eval_request": EvalRequest, "result": Result}
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
