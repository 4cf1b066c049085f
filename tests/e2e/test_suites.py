"""Every suite runs offline on bundled data with the bundled model through `evalboard eval`, its
numbers equal the `lm_eval` CLI's for the same tasks and settings, and an identical re-run is
answered from the response cache without loading the model.

Two items per benchmark and a 32-token generation cap keep this to minutes on a 2-core CPU; both
are part of the reproduce command, so the CLI comparison is like for like.

Every call group's command goes through the CLI. Open LLM v1's 5-shot group (the MMLU group,
Winogrande and GSM8K: log-likelihood, a group aggregate and generation) is recomputed from the
model by the CLI; the other groups read the responses our run cached (`--use_cache`), which keeps
the suite under the time budget: a cached response is found only when the CLI builds the identical
request, so prompts, few-shot selection, scoring and aggregation are still compared end to end,
and any differing prompt would be recomputed and show as a difference. Smoke (PostgreSQL
end-to-end test) and the openai backend are recomputed in full as well. EVALBOARD_FULL_FIDELITY=1
makes the CLI recompute every group (about 4 more minutes here).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from benchmarks.catalog import SUITES
from tests.conftest import SHARED_MODEL_CACHE
from tests.e2e.fidelity import assert_same_numbers, run_lm_eval_cli

pytestmark = pytest.mark.e2e
FULL_FIDELITY = os.environ.get("EVALBOARD_FULL_FIDELITY") == "1"
ROOT = Path(__file__).resolve().parents[2]


def evalboard_eval(suite: str, home: Path, output_name: str | None = None) -> dict[str, Any]:
    output = home / (output_name or f"{suite}.json")
    completed = subprocess.run(
        [
            sys.executable, "-m", "app.cli", "eval", "bundled:smollm2-135m-instruct", "--suite", suite,
            "--limit", "2", "--max-gen-toks", "32", "--output", str(output),
        ],
        env={
            "EVALBOARD_HOME": str(home),
            "EVALBOARD_MODEL_CACHE_DIR": str(SHARED_MODEL_CACHE),
            "HF_HUB_OFFLINE": "1",  # data source auto: no hub here, so bundled samples
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True, text=True, timeout=1200, cwd=ROOT,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    return dict(json.loads(output.read_text()))


@pytest.mark.parametrize("suite", ["open-llm-v1", "open-llm-v2", "kobench"])
def test_suite_runs_offline_and_matches_the_lm_eval_cli(
    suite: str, tmp_path: Path, converted_model_dir: Path
) -> None:
    report = evalboard_eval(suite, tmp_path)
    specs = SUITES[suite].benchmarks
    assert set(report["benchmarks"]) == {spec.name for spec in specs}
    assert report["data_source"] == "bundled" and report["model_calls"] > 0
    for spec in specs:
        score = report["benchmarks"][spec.name]
        assert 0.0 <= score["score"] <= 1.0 and score["n"] >= 2, (spec.name, score)
        expected = "score_normalized" if spec.normalized else spec.primary_metric
        assert score["metric"] == expected
    rows = report["metrics"]
    assert {row["data_source"] for row in rows} == {"bundled"}
    if SUITES[suite].has_normalized:  # raw lm-eval numbers are stored next to the normalized ones
        for spec in specs:
            assert any(r["benchmark"] == spec.name and r["metric"] == spec.primary_metric for r in rows)

    commands = sorted({row["reproduce"] for row in rows})
    identity = report["provenance"]["response_cache"]["model_identity"]

    def cli_numbers(index: int, command: str) -> dict[str, Any]:
        recompute = FULL_FIDELITY or (suite == "open-llm-v1" and "--num_fewshot 5 " in command)
        cached = "" if recompute else f" --use_cache {tmp_path / 'cache' / 'responses' / identity}"
        return run_lm_eval_cli(command + cached, tmp_path / f"cli-{index}")

    # Two at a time: a CLI run spends most of its ~25 s indexing lm-eval's 14,000 task YAMLs on one
    # core, so pairs finish in about the time of one. The kobench re-run goes in the same pool.
    with ThreadPoolExecutor(max_workers=2) as pool:
        rerun = pool.submit(evalboard_eval, suite, tmp_path, "again.json") if suite == "kobench" else None
        runs = {command: pool.submit(cli_numbers, i, command) for i, command in enumerate(commands)}
        compared = sum(
            assert_same_numbers([r for r in rows if r["reproduce"] == command], run.result())
            for command, run in runs.items()
        )
        again = rerun.result() if rerun is not None else None
    raw_rows = [r for r in rows if r["metric"] != "score_normalized"]
    assert compared == len(raw_rows), "every raw metric was compared with the CLI"
    if suite == "open-llm-v1":
        assert any("--num_fewshot 5 " in c and "evalboard_bundled_gsm8k" in c for c in commands)

    if again is not None:  # kobench's identical re-run: no model calls, the model never loaded
        assert again["model_calls"] == 0 and again["model_loaded"] is False
        assert [(r["task"], r["metric"], r["value"]) for r in again["metrics"]] == [
            (r["task"], r["metric"], r["value"]) for r in rows
        ]
