"""The board on both databases: real-data and sample-data results never share a ranking; normalized
suites show raw scores beside the normalized ones."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.db import session_scope
from app.runs import service as runs
from benchmarks.catalog import SUITES
from tests.integration.test_api import _finish, submit
from tests.support.auth import admin_client

FULL = {"mmlu_en_mini": 0.5, "kmmlu_ko_mini": 0.5, "short_answer": 0.5}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with admin_client(settings) as test_client:
        yield test_client


def test_hub_and_bundled_results_never_share_a_ranking(client: TestClient, settings: Settings) -> None:
    url = settings.resolved_database_url
    _, real = submit(client, precision="float32")
    _, sample = submit(client, precision="bfloat16")
    _, mixed = submit(client, precision="float16")
    _, legacy = submit(client, precision="8bit")
    _finish(url, real["request_ids"][0], {**FULL, "mmlu_en_mini": 0.1}, data_source="hub")
    _finish(url, sample["request_ids"][0], {**FULL, "mmlu_en_mini": 0.9}, data_source="bundled")
    _finish(url, mixed["request_ids"][0], FULL, data_source="mixed")
    _finish(url, legacy["request_ids"][0], FULL, data_source=None)  # finished before the label existed

    board = client.get("/api/v1/leaderboard?suite=smoke").json()  # hub is the default
    assert (board["data"], board["comparable"], board["total"]) == ("hub", True, 1)
    assert [(r["model_id"], r["rank"], r["data_source"]) for r in board["rows"]] == [
        (real["model_id"], 1, "hub")
    ]
    assert client.get("/api/v1/leaderboard?suite=smoke&data=hub").json() == board
    samples = client.get("/api/v1/leaderboard?suite=smoke&data=bundled").json()
    assert (samples["data"], samples["comparable"]) == ("bundled", False)
    assert "not comparable" in samples["data_note"]
    assert [r["model_id"] for r in samples["rows"]] == [
        sample["model_id"],
        mixed["model_id"],
        legacy["model_id"],
    ]
    assert [r["rank"] for r in samples["rows"]] == [1, 2, 3]
    assert {r["data_source"] for r in samples["rows"]} == {"bundled", "mixed", None}

    wrong = client.get("/api/v1/leaderboard?suite=smoke&data=everything")
    assert wrong.status_code == 422
    assert wrong.json() == {
        "detail": "unknown data 'everything'; use hub (real datasets) or bundled (bundled sample data: "
        "a pipeline check, not comparable)",
        "field": "data",
    }
    assert client.get(f"/api/v1/requests/{real['request_ids'][0]}").json()["data_source"] == "hub"
    assert client.get(f"/api/v1/requests/{legacy['request_ids'][0]}").json()["data_source"] is None

    real_page = client.get("/?suite=smoke&lang=en").text
    sample_page = client.get("/?suite=smoke&data=bundled&lang=en").text
    assert 'id="sample-data"' not in real_page and "Real datasets (1)" in real_page
    assert "not comparable with real-data scores" in sample_page.partition('id="sample-data"')[2]
    assert "<td>float32</td>" in real_page and "<td>bfloat16</td>" not in real_page
    assert "<td>bfloat16</td>" in sample_page and "<td>float32</td>" not in sample_page
    assert "<td>float16</td>" in sample_page and "<td>8bit</td>" in sample_page


def test_each_board_takes_a_models_latest_run_on_its_own_data(client: TestClient, settings: Settings) -> None:
    url = settings.resolved_database_url
    _, first = submit(client)
    _finish(url, first["request_ids"][0], FULL, data_source="hub")
    _, second = submit(client)  # a later check on the sample data does not hide the real result
    _finish(url, second["request_ids"][0], FULL, data_source="bundled")
    hub = client.get("/api/v1/leaderboard").json()["rows"]
    bundled = client.get("/api/v1/leaderboard?data=bundled").json()["rows"]
    assert [r["request_id"] for r in hub] == first["request_ids"]
    assert [r["request_id"] for r in bundled] == second["request_ids"]


def test_demo_with_only_bundled_results_still_shows_the_model(client: TestClient, settings: Settings) -> None:
    _, body = submit(client)
    _finish(settings.resolved_database_url, body["request_ids"][0], FULL, data_source="bundled")
    # With no real-data result at all, the page shows the sample-data board under its banner ...
    html = client.get("/?lang=en").text
    notice = html.partition('id="sample-data"')[2]
    assert "so the sample-data board is shown" in notice and "not comparable" in notice
    assert "SmolLM2-135M-Instruct" in notice and "50.00" in notice
    # ... but an explicit data=hub is honoured, and an empty suite says it is empty.
    hub = client.get("/?data=hub&lang=en").text
    assert 'id="sample-data"' not in hub and "SmolLM2-135M-Instruct" not in hub
    assert "No model has finished this suite on real datasets" in hub
    empty = client.get("/?suite=kobench&lang=en").text
    assert 'id="sample-data"' not in empty and "No model has finished this suite on real datasets" in empty


def test_normalized_cells_carry_the_raw_primary_metric(client: TestClient, settings: Settings) -> None:
    suite = SUITES["open-llm-v2"]
    assert suite.has_normalized
    _, body = submit(client, suites=["open-llm-v2"])
    rows = []
    for index, spec in enumerate(suite.benchmarks):
        task = spec.task_for("hub")
        normalized = 0.1 * (index + 1)
        common = {"benchmark": spec.name, "stderr": 0.01, "n": 10, "provenance": {}, "is_primary": False}
        rows += [
            {**common, "task": task, "metric": "score_normalized", "value": normalized, "is_primary": True},
            {**common, "task": task, "metric": spec.primary_metric, "value": 0.5 + index / 100},
            # A subtask's own raw metric is not the benchmark's raw score.
            {**common, "task": f"{task}_part", "metric": spec.primary_metric, "value": 0.99},
        ]
    with session_scope(settings.resolved_database_url) as session:
        runs.mark_finished(session, body["request_ids"][0], rows, "/tmp", "", data_source="hub")
    page = client.get("/api/v1/leaderboard?suite=open-llm-v2").json()
    assert all(column["normalized"] for column in page["benchmarks"])
    cells = page["rows"][0]["scores"]
    for index, spec in enumerate(suite.benchmarks):
        assert cells[spec.name]["metric"] == "score_normalized"
        assert cells[spec.name]["value"] == pytest.approx(0.1 * (index + 1))
        assert cells[spec.name]["raw"] == pytest.approx(0.5 + index / 100)
    assert "raw 50.00" in client.get("/?suite=open-llm-v2").text
    # Suites without normalization have no raw.
    _, smoke = submit(client, precision="bfloat16")
    _finish(settings.resolved_database_url, smoke["request_ids"][0], FULL)
    smoke_cells = client.get("/api/v1/leaderboard?suite=smoke").json()["rows"][0]["scores"]
    assert {cell["raw"] for cell in smoke_cells.values()} == {None}


def _finish_per_benchmark(
    url: str, request_id: int, scores: dict[str, tuple[float, str]], label: str
) -> None:
    """Results as the harness records them: each benchmark's own data source in its provenance."""
    metric = {"mmlu_en_mini": "acc", "kmmlu_ko_mini": "acc", "short_answer": "exact_match"}
    rows = [
        {
            "benchmark": name,
            "task": f"t_{name}",
            "metric": metric[name],
            "value": value,
            "stderr": 0.01,
            "n": 24,
            "is_primary": True,
            "provenance": {"data_source": source},
        }
        for name, (value, source) in scores.items()
    ]
    with session_scope(url) as session:
        runs.mark_finished(session, request_id, rows, "/tmp", "", data_source=label)


def test_a_partly_real_run_ranks_on_the_real_board_with_its_real_benchmarks_only(
    client: TestClient, settings: Settings
) -> None:
    url = settings.resolved_database_url
    _, full = submit(client, precision="float32")
    _, partial = submit(client, precision="bfloat16")
    _finish_per_benchmark(
        url,
        full["request_ids"][0],
        {"mmlu_en_mini": (0.5, "hub"), "kmmlu_ko_mini": (0.5, "hub"), "short_answer": (0.5, "hub")},
        "hub",
    )
    # Two benchmarks on saved real data, one on the bundled sample (its dataset was not there).
    _finish_per_benchmark(
        url,
        partial["request_ids"][0],
        {"mmlu_en_mini": (0.8, "hub"), "kmmlu_ko_mini": (0.6, "hub"), "short_answer": (0.9, "bundled")},
        "mixed",
    )
    board = client.get("/api/v1/leaderboard?suite=smoke").json()
    assert [(r["model_id"], r["rank"]) for r in board["rows"]] == [
        (partial["model_id"], 1),
        (full["model_id"], 2),
    ]
    row = board["rows"][0]
    assert row["average"] == pytest.approx(0.7)  # the mean of its real benchmarks; the sample score left out
    assert row["scores"]["short_answer"]["value"] is None
    assert row["scores"]["short_answer"]["data"] == "bundled"
    assert {name: cell["data"] for name, cell in row["scores"].items()} == {
        "mmlu_en_mini": "hub", "kmmlu_ko_mini": "hub", "short_answer": "bundled"
    }  # fmt: skip
    # The sample-data board has the same run's sample benchmark only, never averaged with real ones.
    samples = client.get("/api/v1/leaderboard?suite=smoke&data=bundled").json()
    assert [r["model_id"] for r in samples["rows"]] == [partial["model_id"]]
    sample_row = samples["rows"][0]
    assert sample_row["average"] == pytest.approx(0.9)
    assert sample_row["scores"]["mmlu_en_mini"]["value"] is None
    assert sample_row["scores"]["mmlu_en_mini"]["data"] == "hub"

    page = client.get("/?suite=smoke&lang=en").text
    cell = page.partition(f'data-model-id="{partial["model_id"]}"')[2].partition("</tr>")[0]
    assert 'data-ran-on="bundled"' in cell and "sample only" in cell and "70.00" in cell
    korean = client.get("/?suite=smoke&lang=ko").text
    assert "샘플만" in korean
    sample_page = client.get("/?suite=smoke&data=bundled&lang=en").text
    assert (
        "real data"
        in sample_page.partition(f'data-model-id="{partial["model_id"]}"')[2].partition("</tr>")[0]
    )
    csv = client.get("/api/v1/leaderboard.csv?suite=smoke")
    assert csv.status_code == 200 and len(csv.text.strip().splitlines()) == 3
