"""An identical re-run vs the cold run, in one process: what the response cache saves.

Runs one suite on the bundled model twice through harness.runner.run_suite with a fresh
response cache: the cold run loads the model and answers every request; the re-run builds the
same requests, finds every response in the cache, and never loads the weights. Prints both wall
times, the ratio (goal <= 0.05), the model calls of each run, and checks the scores are identical.
Writes bench/results/cache_rerun.json.

    .venv/bin/python bench/cache_rerun.py [--suite open-llm-v1] [--limit 5]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from benchmarks.bundled import BUNDLED_MODELS, ensure_converted  # noqa: E402
from benchmarks.catalog import get_suite  # noqa: E402
from benchmarks.target import ModelTarget  # noqa: E402
from harness.runner import run_suite  # noqa: E402

CACHE = REPO / ".evalboard" / "test-models"
TARGET = ModelTarget(
    reference="bundled:smollm2-135m-instruct",
    source="bundled",
    revision="bundled",
    commit_sha=None,
    precision="float32",
    use_chat_template=True,
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--suite", default="open-llm-v1")
    parser.add_argument("--limit", type=int, default=5)
    args = parser.parse_args()
    ensure_converted(BUNDLED_MODELS["smollm2-135m-instruct"], CACHE)  # conversion is not the point
    work = Path(tempfile.mkdtemp(prefix="evalboard-cache-bench-"))
    suite = get_suite(args.suite)
    runs = []
    for name in ("cold", "rerun"):
        started = time.perf_counter()
        outcome = run_suite(
            TARGET, suite, cache_dir=CACHE, output_dir=work / name, batch_size=8, limit=args.limit,
            data_source="bundled", datasets_dir=work / "datasets", response_cache_dir=work / "responses",
        )  # fmt: skip
        seconds = time.perf_counter() - started
        runs.append((name, seconds, outcome))
        print(
            f"{name:>5}: {seconds:7.2f} s · model calls {outcome.model_calls}"
            f" · weights loaded {outcome.model_loaded}"
        )
    (_, cold_s, cold), (_, rerun_s, rerun) = runs
    same = [(m.task, m.metric, m.value) for m in cold.metrics] == [
        (m.task, m.metric, m.value) for m in rerun.metrics
    ]
    ratio = rerun_s / cold_s
    print(f"ratio rerun/cold: {ratio:.4f} (goal <= 0.05) · identical scores: {same}")
    report = {
        "suite": args.suite, "limit": args.limit, "cold_seconds": cold_s, "rerun_seconds": rerun_s,
        "ratio": ratio, "goal": 0.05, "cold_model_calls": cold.model_calls,
        "rerun_model_calls": rerun.model_calls, "rerun_loaded_weights": rerun.model_loaded, "identical": same,
    }  # fmt: skip
    out = REPO / "bench" / "results" / "cache_rerun.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"wrote {out}")
    if not same or rerun.model_calls:
        raise SystemExit("the re-run was not answered entirely from the cache")


if __name__ == "__main__":
    main()
