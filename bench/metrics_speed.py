"""Metric throughput on 1,000 Korean pairs, in one process.

BERTScore: one BERTScorer built once and reused for all 1,000 pairs in batches (what workers and
the API's scoring subprocess do, evaluators/semantic/bertscore.py) against `bert_score.score()`
called once per pair (which builds the model and tokenizer on every call), both with the bundled
MiniLM-L6 (layer 6) on CPU. The two runs score the same pairs, and their F1 must agree. Goal: the
reused scorer at least 10x faster. Also: ROUGE on Kiwi morphemes and BLEU with ko-mecab (corpus
score with a 1,000-resample bootstrap stderr), pairs per second through evaluate().

Pairs: each bundled gen-ko reference (translation sentences, summaries) against itself with words
dropped, swapped or repeated, deterministically, so predictions overlap their references as real
outputs do. Writes bench/results/metrics_speed.json.

    .venv/bin/python bench/metrics_speed.py [--pairs 1000] [--per-pair-limit N]

--per-pair-limit times `bert_score.score()` on the first N pairs only and extrapolates (printed as
such); by default every pair is timed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from benchmarks.bundled_data import BUNDLED_DATA_DIR, read_jsonl  # noqa: E402
from evaluators import registry  # noqa: E402
from evaluators.semantic.bertscore import BUNDLED_MODEL, bundled_model_path  # noqa: E402

RESULTS = REPO / "bench" / "results" / "metrics_speed.json"
GOAL_RATIO = 10.0


def korean_pairs(count: int, seed: int = 7) -> tuple[list[str], list[str]]:
    texts = [
        r["sentence_kor_Hang"] for r in read_jsonl(BUNDLED_DATA_DIR / "gen_ko_translation" / "test.jsonl")
    ]
    for record in read_jsonl(BUNDLED_DATA_DIR / "gen_ko_summarization" / "test.jsonl"):
        texts += [record["summary"], record["text"].split(". ")[0] + "."]
    rng = random.Random(seed)
    predictions, references = [], []
    for index in range(count):
        reference = texts[index % len(texts)]
        words = reference.split()
        edit = index % 3
        if edit == 0 and len(words) > 2:
            del words[rng.randrange(len(words))]
        elif edit == 1 and len(words) > 2:
            i = rng.randrange(len(words) - 1)
            words[i], words[i + 1] = words[i + 1], words[i]
        else:
            words.append(rng.choice(words))
        predictions.append(" ".join(words))
        references.append(reference)
    return predictions, references


def timed(function, *args, **kwargs):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--per-pair-limit", type=int, default=None)
    args = parser.parse_args()
    predictions, references = korean_pairs(args.pairs)
    import torch
    from bert_score import score as bert_score_per_call

    print(f"{args.pairs} Korean pairs · torch threads {torch.get_num_threads()} · CPU")

    # One scorer, built once (its construction is timed too), every pair in batches of 64.
    from evaluators.semantic.bertscore import scorer_for

    evaluator = registry.create("bertscore", "ko", model=BUNDLED_MODEL)
    _, build_s = timed(scorer_for, evaluator.choice, idf=False, device="cpu", batch_size=64)
    reused, reused_s = timed(evaluator.evaluate, predictions, references)
    reused_total = build_s + reused_s

    model_path = bundled_model_path()
    per_pair_n = min(args.per_pair_limit or args.pairs, args.pairs)
    per_pair_f1 = []
    started = time.perf_counter()
    for prediction, reference in zip(predictions[:per_pair_n], references[:per_pair_n], strict=True):
        _, _, f1 = bert_score_per_call([prediction], [reference], model_type=model_path, num_layers=6)
        per_pair_f1.append(float(f1[0]))
    per_pair_measured = time.perf_counter() - started
    per_pair_total = per_pair_measured * args.pairs / per_pair_n
    largest_gap = max(abs(a - s["bertscore_f1"]) for a, s in zip(per_pair_f1, reused.samples, strict=False))
    ratio = per_pair_total / reused_total

    # The same reused scorer under bfloat16 autocast (an option, off by default: numbers move).
    bf16_evaluator = registry.create("bertscore", "ko", model=BUNDLED_MODEL, precision="bfloat16")
    bf16, bf16_s = timed(bf16_evaluator.evaluate, predictions, references)
    bf16_gap = max(
        abs(a["bertscore_f1"] - b["bertscore_f1"]) for a, b in zip(bf16.samples, reused.samples, strict=True)
    )
    bf16_ratio = per_pair_total / bf16_s

    rouge, rouge_s = timed(registry.create("rouge", "ko").evaluate, predictions, references)
    bleu, bleu_s = timed(registry.create("bleu", "ko").evaluate, predictions, references)

    extrapolated = "" if per_pair_n == args.pairs else f" (measured on {per_pair_n}, extrapolated)"
    print(
        f"BERTScore reused scorer : {reused_total:8.2f} s  (build {build_s:.2f} s + score {reused_s:.2f} s)"
    )
    print(f"BERTScore per-pair calls: {per_pair_total:8.2f} s{extrapolated}")
    verdict = "pass" if ratio >= GOAL_RATIO else "FAIL"
    print(f"ratio per-pair / reused : {ratio:8.1f}x  (goal >= {GOAL_RATIO:.0f}x: {verdict})")
    print(f"largest F1 difference between the two: {largest_gap:.2e}")
    print(
        f"reused scorer, bfloat16 : {bf16_s:8.2f} s  ratio {bf16_ratio:.1f}x, "
        f"largest F1 change {bf16_gap:.1e}"
    )
    rouge_l, bleu_score = rouge.corpus["rougeL"], bleu.corpus["bleu"]
    print(
        f"ROUGE-ko (Kiwi morphemes): {args.pairs / rouge_s:8.0f} pairs/s  "
        f"({rouge_s:.2f} s, rougeL {rouge_l.value:.4f})"
    )
    print(
        f"BLEU ko-mecab + bootstrap : {args.pairs / bleu_s:8.0f} pairs/s  "
        f"({bleu_s:.2f} s, bleu {bleu_score.value:.4f} ± {bleu_score.stderr:.4f})"
    )

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "pairs": args.pairs,
        "bertscore": {
            "model": BUNDLED_MODEL, "num_layers": 6,
            "reused_scorer_s": reused_total, "reused_build_s": build_s, "reused_score_s": reused_s,
            "per_pair_s": per_pair_total, "per_pair_measured_pairs": per_pair_n,
            "ratio": ratio, "goal_ratio": GOAL_RATIO, "passed": ratio >= GOAL_RATIO,
            "largest_f1_difference": largest_gap,
            "bfloat16_reused_s": bf16_s, "bfloat16_ratio": bf16_ratio, "bfloat16_largest_f1_change": bf16_gap,
        },
        "rouge_ko_pairs_per_s": args.pairs / rouge_s,
        "bleu_ko_mecab_pairs_per_s": args.pairs / bleu_s,
        "bleu_bootstrap_iterations": bleu.params["bootstrap_iterations"],
    }, indent=2) + "\n")  # fmt: skip
    print(f"wrote {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
