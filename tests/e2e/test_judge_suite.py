"""judge-ko end to end, offline, with the bundled model as both the model and the judge (behind
the local OpenAI-compatible adapter): `evalboard eval bundled:smollm2-135m-instruct --suite
judge-ko`, on the first two items of each benchmark and with short answers and judge replies so
it fits the test budget (in full, on this 2-core CPU, the 48 MT-Bench answers alone take
about 11 minutes and the judging longer). Then the same command again:
every judge reply and every answer comes from the caches, so nothing is generated.

SmolLM2-135M is a poor judge: it rarely writes [[rating]] lines, so most ratings are recovered by
the follow-up question, and it prefers whichever answer is shown first, which the both-orders
rule turns into ties. What must hold is the pipeline: answers per turn, every turn judged and its
rationale kept per sample, the judge recorded, and the re-run free.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SHARED_MODEL_CACHE

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def run_eval(home: Path, output: Path) -> dict:
    env = {
        "EVALBOARD_HOME": str(home),
        "EVALBOARD_MODEL_CACHE_DIR": str(SHARED_MODEL_CACHE),
        "EVALBOARD_JUDGE_MAX_TOKENS": "48",
        "HF_HUB_OFFLINE": "1",
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
    }
    completed = subprocess.run(
        [sys.executable, "-m", "app.cli", "eval", "bundled:smollm2-135m-instruct", "--suite", "judge-ko",
         "--limit", "2", "--max-gen-toks", "32", "--output", str(output)],
        env=env, capture_output=True, text=True, timeout=1200, cwd=ROOT,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(output.read_text())


def test_judge_ko_with_the_bundled_judge_then_a_free_rerun(tmp_path: Path, converted_model_dir: Path) -> None:
    report = run_eval(tmp_path, tmp_path / "first.json")
    assert report["data_source"] == "bundled"
    assert report["model_calls"] == 2 * 2 + 2  # two turns of two questions, two instructions

    mt_bench = report["benchmarks"]["ko_mt_bench"]
    assert mt_bench["metric"] == "mt_bench" and 0.1 <= mt_bench["score"] <= 1.0
    assert mt_bench["n"] == 4  # every turn got a rating, from the reply or the follow-up
    alpaca = report["benchmarks"]["ko_alpaca_eval"]
    assert alpaca["metric"] == "lc_win_rate" and 0.0 <= alpaca["score"] <= 1.0 and alpaca["n"] == 2

    rows = {(r["benchmark"], r["metric"], r["task"]): r for r in report["metrics"]}
    judge = rows[("ko_mt_bench", "mt_bench", "evalboard_judge_ko_mt_bench")]["judge"]
    assert judge["judge_model"] == "bundled:smollm2-135m-instruct"
    assert judge["judge_endpoint"] == "local adapter (bundled model)"
    assert judge["prompt_version"] == "single-ko@1" and judge["penalize_non_korean"] is True
    assert judge["graded_turns"] + judge["unparseable"] + judge["failed"] == 4
    assert judge["usage"]["requests"] >= 4 and judge["usage"]["cache_hits"] == 0
    assert judge["usage"]["prompt_tokens"] > 0
    assert ("ko_mt_bench", "turn_2", "evalboard_judge_ko_mt_bench") in rows
    pairwise = rows[("ko_alpaca_eval", "lc_win_rate", "evalboard_judge_ko_alpaca_eval")]["judge"]
    assert pairwise["wins"] + pairwise["ties"] + pairwise["losses"] == pairwise["judged"] == 2
    assert rows[("ko_alpaca_eval", "win_rate", "evalboard_judge_ko_alpaca_eval")]["value"] is not None

    samples = [json.loads(line) for line in Path(report["samples_path"]).read_text().splitlines()]
    assert [s["benchmark"] for s in samples] == ["ko_mt_bench"] * 2 + ["ko_alpaca_eval"] * 2
    first = samples[0]
    assert first["scored_by"] == "evalboard-judge" and len(first["judge"]) == 2
    assert first["judge_rationale"].startswith("[1] ") and "\n\n[2] " in first["judge_rationale"]
    assert first["doc"]["turns"][1] in first["arguments"][0][0]  # turn 2 was asked with turn 1 in it
    assert "[model's answer as B]" in samples[2]["judge_rationale"]

    again = run_eval(tmp_path, tmp_path / "second.json")
    assert again["model_calls"] == 0 and again["model_loaded"] is False
    assert again["benchmarks"] == report["benchmarks"]
    usage = {(r["benchmark"]): r["judge"]["usage"] for r in again["metrics"] if r["is_primary"]}
    for benchmark_usage in usage.values():
        assert benchmark_usage["calls"] == 0
        assert benchmark_usage["cache_hits"] == benchmark_usage["requests"] > 0
