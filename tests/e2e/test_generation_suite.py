"""gen-ko end to end, offline: `evalboard eval bundled:smollm2-135m-instruct --suite gen-ko` in full
(every bundled item, the tasks' own generation lengths), then its reproduce line: the lm_eval CLI
regenerates (from the response cache this run filled) and `evalboard score` on the CLI's samples
gives the stored score again.

G-Eval (the summaries graded by the LLM judge) is off in the full run (EVALBOARD_JUDGE_GEVAL=false:
the bundled judge reads each ~1,000-token Korean prompt in seconds on this CPU, 88 of them in full);
a second run of the first item, its generations answered by the response cache, grades it with the
bundled judge behind the local adapter: four calls, one per criterion.

SmolLM2-135M knows no Korean: its scores are low, and that is expected. What must hold is that the
pipeline is not broken: Korean ROUGE is not 0 (the model copies words of the article), every score
has a stderr, per-sample scores are logged, and what produced each score is recorded.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.catalog import SUITES
from tests.conftest import SHARED_MODEL_CACHE
from tests.e2e.fidelity import run_lm_eval_cli

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SIZES = {"ko_summarization": 22, "ko_en_translation": 24, "en_ko_translation": 24}


def test_gen_ko_runs_offline_with_korean_aware_scores(tmp_path: Path, converted_model_dir: Path) -> None:
    output = tmp_path / "gen-ko.json"
    env = {
        "EVALBOARD_HOME": str(tmp_path),
        "EVALBOARD_MODEL_CACHE_DIR": str(SHARED_MODEL_CACHE),
        "HF_HUB_OFFLINE": "1",
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
    }
    completed = subprocess.run(
        [sys.executable, "-m", "app.cli", "eval", "bundled:smollm2-135m-instruct", "--suite", "gen-ko",
         "--output", str(output)],
        env={**env, "EVALBOARD_JUDGE_GEVAL": "false"}, capture_output=True, text=True, timeout=1200, cwd=ROOT,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(output.read_text())
    suite = SUITES["gen-ko"]
    assert report["data_source"] == "bundled" and report["model_calls"] == sum(SIZES.values())
    for spec in suite.benchmarks:
        score = report["benchmarks"][spec.name]
        assert score["metric"] == spec.primary_metric and score["n"] == SIZES[spec.name]
        assert score["stderr"] is not None and score["stderr"] > 0
    assert report["benchmarks"]["ko_summarization"]["score"] > 0.05  # morpheme ROUGE sees the overlap

    rows = {(r["benchmark"], r["metric"]): r for r in report["metrics"]}
    for benchmark, metric in [
        ("ko_summarization", "rouge2"), ("ko_summarization", "bertscore_f1"),
        ("en_ko_translation", "bleu"), ("ko_en_translation", "bleu"), ("ko_en_translation", "bertscore_f1"),
    ]:  # fmt: skip
        row = rows[(benchmark, metric)]
        assert 0.0 <= row["value"] <= 1.0 and row["stderr"] is not None, row
    evaluators = {e["evaluator"]: e for e in rows[("en_ko_translation", "bleu")]["evaluators"]}
    assert evaluators["bleu"]["params"]["tokenize"] == "ko-mecab"
    assert evaluators["chrf"]["params"]["variant"] == "chrF++"
    assert evaluators["bertscore"]["params"]["model"] == "bundled:all-minilm-l6-v2"  # offline fallback
    assert evaluators["bertscore"]["params"]["fallback_from"] == "bert-base-multilingual-cased"
    summarization = {e["evaluator"]: e for e in rows[("ko_summarization", "rougeL")]["evaluators"]}
    assert "EVALBOARD_JUDGE_GEVAL=false" in summarization["geval"]["skipped"]
    assert not any(metric.startswith("geval") for _, metric in rows)

    samples = [json.loads(line) for line in Path(report["samples_path"]).read_text().splitlines()]
    assert len(samples) == sum(SIZES.values())
    summary = next(s for s in samples if s["benchmark"] == "ko_summarization")
    assert summary["scored_by"] == "evalboard-evaluators" and summary["metrics"][0] == "rouge1"
    assert {"rougeL", "bertscore_f1", "response_chars"} <= set(summary)

    # The reproduce line: lm_eval (answered from this run's response cache), then evalboard score.
    row = rows[("en_ko_translation", "chrf++")]
    generate, *scoring = row["reproduce"].split(" && ")
    identity = report["provenance"]["response_cache"]["model_identity"]
    generate = generate.replace(" --output_path evalboard-reproduce", "")
    generate += f" --use_cache {tmp_path / 'cache' / 'responses' / identity}"
    run_lm_eval_cli(generate, tmp_path / "evalboard-reproduce")
    chrf = next(shlex.split(c) for c in scoring if "--metric chrf" in c)
    cli_samples = next(
        (tmp_path / "evalboard-reproduce").rglob("samples_evalboard_gen_ko_translation_en_ko_*.jsonl")
    )
    chrf[chrf.index("--samples") + 1] = str(cli_samples)
    scored = subprocess.run(
        [str(Path(sys.executable).parent / "evalboard"), *chrf[1:], "--json"],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    assert json.loads(scored.stdout)["scores"]["chrf++"]["value"] == pytest.approx(row["value"], abs=1e-12)

    assert_geval_with_the_bundled_judge(tmp_path, env)


def assert_geval_with_the_bundled_judge(home: Path, env: dict[str, str]) -> None:
    """The acceptance check: the first summarization item's G-Eval scores from the bundled judge."""
    output = home / "gen-ko-geval.json"
    completed = subprocess.run(
        [sys.executable, "-m", "app.cli", "eval", "bundled:smollm2-135m-instruct", "--suite", "gen-ko",
         "--limit", "1", "--output", str(output)],
        env=env, capture_output=True, text=True, timeout=900, cwd=ROOT,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(output.read_text())
    assert report["model_calls"] == 0 and report["model_loaded"] is False  # the full run's generations
    rows = {(r["benchmark"], r["metric"]): r for r in report["metrics"]}
    record = next(e for e in rows[("ko_summarization", "rougeL")]["evaluators"] if e["evaluator"] == "geval")
    judge = record["judge"]
    assert judge["judge_model"] == "bundled:smollm2-135m-instruct"
    assert judge["judge_endpoint"] == "local adapter (bundled model)" and record["params"]["source"] == "text"
    assert judge["prompt_versions"]["consistency"] == "geval-consistency-ko@1"
    usage = judge["usage"]
    assert usage["requests"] == usage["calls"] == 4 and usage["prompt_tokens"] > 0  # one call per criterion
    assert set(judge["scored"].values()) == {1}  # every criterion scored, from the log-probabilities
    for metric in ("geval", "geval_coherence", "geval_consistency", "geval_fluency", "geval_relevance"):
        assert 0.0 <= rows[("ko_summarization", metric)]["value"] <= 1.0
    assert ("ko_en_translation", "geval") not in rows  # G-Eval is the summaries' alone
    samples = [json.loads(line) for line in Path(report["samples_path"]).read_text().splitlines()]
    summary = next(s for s in samples if s["benchmark"] == "ko_summarization")
    rationale = summary["judge_rationale"]  # the sample browser shows it
    assert rationale.startswith("coherence ") and "\nrelevance " in rationale
    assert "log-probabilities" in rationale
    assert {"geval", "geval_fluency"} <= set(summary["metrics"])
    assert summary["judge"]["geval"]["fluency"]["method"] == "logprobs"
