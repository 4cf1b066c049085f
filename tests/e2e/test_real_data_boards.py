"""Real data reaches the real board, benchmark by benchmark.

- KoBench on saved real-schema datasets: the datasets are written where `evalboard datasets pull`
  leaves them (tests/support/saved_datasets.py: `datasets`' own builder, the hub cache's folder
  names, pulled.json) and nothing else is faked; lm-eval runs its own task configs on them offline
  and the run is `hub`. (A partly real run's board rows: tests/integration/test_leaderboard.py.)
- A private-set template activated with `evalboard private add ... --template ko-llm-v2/...` runs
  on the operator's items and ranks on the real board with that benchmark alone.

The runs are real `evalboard eval` processes with the bundled model, one item per task and 16-token
generations (Korean costs this CPU about 3 tokens a character; the data paths, not the scores, are
under test); their rows are stored with the worker's own `mark_finished` on SQLite and PostgreSQL and
read back through the board's API and page.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.db import session_scope
from app.runs import service as runs
from benchmarks.bundled_data import BUNDLED_DATA_DIR, read_jsonl
from benchmarks.catalog import SUITES
from tests.conftest import SHARED_MODEL_CACHE
from tests.integration.test_api import submit
from tests.support.auth import admin_client
from tests.support.saved_datasets import save_suite_like_pull

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
KOBENCH = SUITES["kobench"]


def evalboard(home: Path, *args: str, timeout: int = 1200) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("EVALBOARD_", "HF_DATASETS_CACHE"))},
        "EVALBOARD_HOME": str(home),
        "EVALBOARD_MODEL_CACHE_DIR": str(SHARED_MODEL_CACHE),
        "EVALBOARD_DATASETS_DIR": str(home / "datasets"),
        "EVALBOARD_PRIVATE_DIR": str(home / "private"),
        "HF_HUB_OFFLINE": "1",  # no hub here: only what is saved counts as real
    }
    completed = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    return completed


def evaluate(home: Path, suite: str, name: str) -> dict[str, Any]:
    output = home / f"{name}.json"
    evalboard(
        home, "eval", "bundled:smollm2-135m-instruct", "--suite", suite, "--data-source", "auto",
        "--limit", "1", "--max-gen-toks", "16", "--output", str(output),
    )  # fmt: skip
    return dict(json.loads(output.read_text()))


@pytest.fixture(scope="module")
def kobench_run(tmp_path_factory: pytest.TempPathFactory, converted_model_dir: Path) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("kobench-real")
    saved = save_suite_like_pull(home / "datasets", KOBENCH)
    assert saved == [spec.name for spec in KOBENCH.benchmarks]  # every KoBench benchmark has a dataset
    return evaluate(home, "kobench", "kobench")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with admin_client(settings) as test_client:
        yield test_client


def store(settings: Settings, request_id: int, report: dict[str, Any]) -> None:
    """A finished run's rows, stored as the worker stores them."""
    rows = [
        {
            "benchmark": m["benchmark"],
            "task": m["task"],
            "metric": m["metric"],
            "value": m["value"],
            "stderr": m["stderr"],
            "n": m["n"],
            "is_primary": m["is_primary"],
            "provenance": {"data_source": m["data_source"]},
        }
        for m in report["metrics"]
    ]
    with session_scope(settings.resolved_database_url) as session:
        runs.mark_finished(
            session, request_id, rows, "/tmp", "", data_source=report["data_source"],
            private_dir=settings.resolved_private_dir,
        )  # fmt: skip


def primary_sources(report: dict[str, Any]) -> dict[str, str]:
    return {m["benchmark"]: m["data_source"] for m in report["metrics"] if m["is_primary"]}


def test_kobench_runs_on_saved_real_datasets_and_ranks_on_the_real_board(
    kobench_run: dict[str, Any], client: TestClient, settings: Settings
) -> None:
    assert kobench_run["data_source"] == "hub"
    assert primary_sources(kobench_run) == {spec.name: "hub" for spec in KOBENCH.benchmarks}
    tasks = {m["task"] for m in kobench_run["metrics"]}
    assert {"kmmlu", "click", "hrm8k_gsm8k", "global_mmlu_ko", "kormedmcqa"} <= tasks  # lm-eval's own
    assert not any(task.startswith("evalboard_bundled_") for task in tasks)
    for spec in KOBENCH.benchmarks:
        score = kobench_run["benchmarks"][spec.name]
        assert 0.0 <= score["score"] <= 1.0 and score["n"] >= 1, (spec.name, score)

    _, body = submit(client, suites=["kobench"])
    store(settings, body["request_ids"][0], kobench_run)
    board = client.get("/api/v1/leaderboard?suite=kobench").json()
    assert (board["data"], board["comparable"]) == ("hub", True)
    assert [row["model_id"] for row in board["rows"]] == [body["model_id"]]
    row = board["rows"][0]
    assert {name: cell["data"] for name, cell in row["scores"].items()} == {
        spec.name: "hub" for spec in KOBENCH.benchmarks
    }
    scores = kobench_run["benchmarks"]
    assert row["average"] == pytest.approx(sum(s["score"] for s in scores.values()) / len(scores))
    assert client.get("/api/v1/leaderboard?suite=kobench&data=bundled").json()["total"] == 0
    page = client.get("/?suite=kobench&lang=en").text
    assert 'id="sample-data"' not in page and f'data-model-id="{body["model_id"]}"' in page


def held_gpqa_items(count: int) -> list[dict[str, Any]]:
    """The operator's Ko-GPQA items: the template's schema, content of their own."""
    template = read_jsonl(BUNDLED_DATA_DIR / "ko_gpqa" / "test.jsonl")
    return [{**template[index % len(template)]} for index in range(count)]


@pytest.fixture(scope="module")
def template_run(tmp_path_factory: pytest.TempPathFactory, converted_model_dir: Path) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("ko-llm-v2")
    data = home / "ko_gpqa.jsonl"
    data.write_text("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in held_gpqa_items(6)))
    added = evalboard(
        home, "private", "add", "ko_gpqa", "--template", "ko-llm-v2/ko_gpqa", "--data", str(data)
    )
    assert "registered ko_gpqa: 6 template items" in added.stderr and "'ko-llm-v2'" in added.stderr
    listed = evalboard(home, "private", "templates").stdout
    assert "ko-llm-v2/ko_gpqa" in listed
    return {"home": home, "report": evaluate(home, "ko-llm-v2", "ko-llm-v2")}


def test_a_registered_template_runs_on_the_operators_items_and_ranks(
    template_run: dict[str, Any], tmp_path: Path, database_url: str
) -> None:
    from tests.conftest import make_settings

    report = template_run["report"]
    sources = primary_sources(report)
    assert sources["ko_gpqa"] == "private" and report["data_source"] == "mixed"
    assert {source for name, source in sources.items() if name != "ko_gpqa"} == {"bundled"}
    gpqa_rows = [m for m in report["metrics"] if m["benchmark"] == "ko_gpqa"]
    assert {m["task"] for m in gpqa_rows} == {"evalboard_private_ko_gpqa"}

    settings = make_settings(tmp_path, database_url, private_dir=template_run["home"] / "private")
    with admin_client(settings) as client:
        _, body = submit(client, suites=["ko-llm-v2"])
        store(settings, body["request_ids"][0], report)
        board = client.get("/api/v1/leaderboard?suite=ko-llm-v2").json()
        assert [row["model_id"] for row in board["rows"]] == [body["model_id"]]
        row = board["rows"][0]
        assert row["average"] == pytest.approx(report["benchmarks"]["ko_gpqa"]["score"])
        assert [name for name, cell in row["scores"].items() if cell["value"] is not None] == ["ko_gpqa"]
        assert row["scores"]["ko_gpqa"]["data"] == "private"
