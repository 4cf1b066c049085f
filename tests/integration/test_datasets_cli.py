"""`evalboard datasets list|pull` on a machine without the hub (this one)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.config import get_settings


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EVALBOARD_HOME", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_list_shows_each_benchmarks_sample_and_where_it_would_run(home: Path) -> None:
    result = CliRunner().invoke(app, ["datasets", "list", "--suite", "kobench"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    lines = {line.split("│")[2].strip(): line for line in result.output.splitlines() if line.count("│") > 6}
    assert "kmmlu" in lines and "HAERAE-HUB/KMMLU" in lines["kmmlu"]
    assert "│ 24 " in lines["kmmlu"] and "bundled" in lines["kmmlu"]  # 24 bundled items, runs on them
    assert "sean0042/KorMedMCQA (doctor)" in lines["kormedmcqa"] and "│ no " in lines["kormedmcqa"]
    templates = CliRunner().invoke(app, ["datasets", "list", "--suite", "ko-llm-v2"], env={"COLUMNS": "200"})
    rows = {line.split("│")[2].strip(): line for line in templates.output.splitlines() if line.count("│") > 6}
    assert "private set: evalboard private add --template ko-llm-v2/ko_gpqa" in rows["ko_gpqa"]


def test_pull_without_the_hub_fails_fast_saying_what_to_do_and_changes_nothing(home: Path) -> None:
    result = CliRunner().invoke(app, ["datasets", "pull", "--suite", "open-llm-v1"])
    assert result.exit_code == 1
    assert "not reachable from this machine" in result.output and "connected machine" in result.output
    assert not (home / "datasets" / "pulled.json").exists()
    unknown = CliRunner().invoke(app, ["datasets", "pull", "--suite", "nope"])
    assert unknown.exit_code == 2 and "known suites" in unknown.output
