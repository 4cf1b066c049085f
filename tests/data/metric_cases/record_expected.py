"""Records expected.json from the reference tools themselves: rouge-score's RougeScorer for English
ROUGE and sacrebleu's command line for BLEU and chrF. Run it only when an input file changes:
`.venv/bin/python tests/data/metric_cases/record_expected.py`. tests/unit/test_metric_cases.py
checks our evaluators against these values, and re-runs the tools to check the file is current."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
SACREBLEU_CASES = [
    # (inputs file, metric, sacrebleu CLI options, our evaluator parameters)
    ("inputs_en.json", "bleu", ["-m", "bleu", "-tok", "13a"], {"tokenize": "13a"}),
    ("inputs_en.json", "chrf", ["-m", "chrf"], {}),
    ("inputs_en.json", "chrf", ["-m", "chrf", "--chrf-word-order", "2"], {"word_order": 2}),
    ("inputs_ko.json", "bleu", ["-m", "bleu", "-tok", "ko-mecab"], {"tokenize": "ko-mecab"}),
    ("inputs_ko.json", "bleu", ["-m", "bleu", "-tok", "char"], {"tokenize": "char"}),
    ("inputs_ko.json", "bleu", ["-m", "bleu", "-tok", "13a"], {"tokenize": "13a"}),
    ("inputs_ko.json", "chrf", ["-m", "chrf"], {}),
    ("inputs_ko.json", "chrf", ["-m", "chrf", "--chrf-word-order", "2"], {"word_order": 2}),
]


def sacrebleu_cli(inputs: str, options: list[str]) -> float:
    data = json.loads((HERE / inputs).read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        refs, preds = Path(tmp, "refs.txt"), Path(tmp, "preds.txt")
        refs.write_text("\n".join(data["references"]) + "\n", encoding="utf-8")
        preds.write_text("\n".join(data["predictions"]) + "\n", encoding="utf-8")
        command = [str(Path(sys.executable).with_name("sacrebleu")), str(refs), "-i", str(preds)]
        out = subprocess.run(
            [*command, *options, "-w", "4", "-b"], capture_output=True, text=True, check=True
        )
    return float(out.stdout.strip())


def rouge_score_en(inputs: str, section: str | None = None) -> list[dict[str, float]]:
    from rouge_score import rouge_scorer

    data = json.loads((HERE / inputs).read_text(encoding="utf-8"))
    data = data[section] if section else data
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer=True)
    pairs = zip(data["predictions"], data["references"], strict=True)
    return [{name: score.fmeasure for name, score in scorer.score(ref, pred).items()} for pred, ref in pairs]


def record() -> dict:
    return {
        "rouge_en": {
            "inputs": "inputs_en.json",
            "tool": "rouge_score.rouge_scorer.RougeScorer(use_stemmer=True), F-measure per pair",
            "per_pair": rouge_score_en("inputs_en.json"),
            "multiline_per_pair": rouge_score_en("inputs_en.json", "multiline"),
        },
        "sacrebleu_cli": [
            {
                "inputs": inputs,
                "metric": metric,
                "command": " ".join(["sacrebleu", "refs.txt", "-i", "preds.txt", *options, "-w", "4", "-b"]),
                "params": params,
                "expected": sacrebleu_cli(inputs, options),
            }
            for inputs, metric, options, params in SACREBLEU_CASES
        ],
    }


if __name__ == "__main__":
    (HERE / "expected.json").write_text(
        json.dumps(record(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print((HERE / "expected.json").read_text(encoding="utf-8"))
