"""`evalboard eval MODEL --suite smoke --output r.json`: one-shot evaluation, no server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SHARED_MODEL_CACHE

pytestmark = pytest.mark.e2e


def test_eval_writes_per_benchmark_scores_with_stderr(tmp_path: Path, converted_model_dir: Path) -> None:
    output = tmp_path / "r.json"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli",
            "eval",
            "bundled:smollm2-135m-instruct",
            "--suite",
            "smoke",
            "--output",
            str(output),
        ],
        env={
            "EVALBOARD_HOME": str(tmp_path),
            "EVALBOARD_MODEL_CACHE_DIR": str(SHARED_MODEL_CACHE),
            "HF_HUB_OFFLINE": "1",
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        timeout=600,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(output.read_text())
    assert set(report["benchmarks"]) == {"mmlu_en_mini", "kmmlu_ko_mini", "short_answer"}
    for score in report["benchmarks"].values():
        assert 0.0 <= score["score"] <= 1.0 and score["stderr"] > 0 and score["n"] == 24
    assert report["average"] == pytest.approx(sum(s["score"] for s in report["benchmarks"].values()) / 3)
    assert "mmlu_en_mini" in completed.stdout and "average" in completed.stdout  # the printed table


def test_eval_rejects_unknown_suite_and_model_clearly(tmp_path: Path) -> None:
    base = [sys.executable, "-m", "app.cli", "eval"]
    env = {"EVALBOARD_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    bad_suite = subprocess.run(
        [*base, "bundled:smollm2-135m-instruct", "--suite", "nope"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad_suite.returncode == 2 and "unknown suite 'nope'" in bad_suite.stderr
    bad_model = subprocess.run(
        [*base, str(tmp_path / "missing")], env=env, capture_output=True, text=True, timeout=60
    )
    assert bad_model.returncode == 2 and "does not exist" in bad_model.stderr
