"""`evalboard score`: files in, scores out, and a clear error (exit 2) for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app

CASES = Path(__file__).parents[1] / "data" / "metric_cases"
EN = json.loads((CASES / "inputs_en.json").read_text("utf-8"))
EXPECTED = json.loads((CASES / "expected.json").read_text("utf-8"))
runner = CliRunner()


def write(path: Path, lines: list[str], ending: str = "\n") -> Path:
    path.write_text(ending.join(lines) + ending, encoding="utf-8")
    return path


def score(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["score", *args])
    return result.exit_code, result.output


def test_chrf_plus_plus_from_files_equals_sacrebleu(tmp_path: Path) -> None:
    pred = write(tmp_path / "pred.txt", EN["predictions"], ending="\r\n")  # Windows line ends too
    ref = write(tmp_path / "ref.txt", EN["references"])
    code, out = score("--metric", "chrf", "--lang", "en", "--pred", str(pred), "--ref", str(ref),
                      "--param", "word_order=2", "--json")  # fmt: skip
    assert code == 0, out
    result = json.loads(out)
    expected = next(c["expected"] for c in EXPECTED["sacrebleu_cli"] if c["params"] == {"word_order": 2}
                    and c["inputs"] == "inputs_en.json")  # fmt: skip
    assert result["scores"]["chrf++"]["value"] * 100 == pytest.approx(expected, abs=5e-5)
    assert result["n"] == len(EN["predictions"])


def test_table_shows_scores_on_the_board_scale(tmp_path: Path) -> None:
    pred = write(tmp_path / "pred.txt", ["서울은 대한민국의 수도입니다."])
    ref = write(tmp_path / "ref.txt", ["서울은 한국의 수도이다."])
    code, out = score("--metric", "rouge", "--lang", "ko", "--pred", str(pred), "--ref", str(ref))
    assert code == 0, out
    assert "71.43" in out and "kiwi-morphemes" in out  # 5 of 7 morphemes each way: F = 5/7


@pytest.mark.parametrize(
    ("pred_lines", "ref_lines", "extra", "says"),
    [
        (["a", "b"], ["a"], [], "2 predictions but 1 references"),
        ([], ["a"], [], "is empty"),
        (["a"], ["a"], ["--metric", "meteor"], "unknown metric 'meteor'"),
        (["a"], ["a"], ["--lang", "fr"], "unknown language 'fr'"),
        (["a"], ["a"], ["--param", "word_order"], "write KEY=VALUE"),
        (["a"], ["a"], ["--param", "word_order=5"], "word_order must be 0"),
        (["a"], ["a"], ["--param", "colour=blue"], "unexpected keyword argument 'colour'"),
    ],
)
def test_bad_input_exits_2_with_a_message(
    tmp_path: Path, pred_lines: list[str], ref_lines: list[str], extra: list[str], says: str
) -> None:
    pred = tmp_path / "pred.txt"
    pred.write_text("\n".join(pred_lines), encoding="utf-8")
    ref = write(tmp_path / "ref.txt", ref_lines)
    options = {"--metric": "chrf", "--lang": "en"}
    for flag, value in zip(extra[::2], extra[1::2], strict=True):
        if flag in options:
            options[flag] = value
    rest = [a for pair in zip(extra[::2], extra[1::2], strict=True) if pair[0] not in options for a in pair]
    args = [a for pair in options.items() for a in pair]
    code, out = score(*args, "--pred", str(pred), "--ref", str(ref), *rest)
    assert code == 2 and says in " ".join(out.split()), out


def test_not_utf8_names_the_byte(tmp_path: Path) -> None:
    pred = tmp_path / "pred.txt"
    pred.write_bytes("서울".encode("euc-kr") + b"\n")
    ref = write(tmp_path / "ref.txt", ["서울"])
    code, out = score("--metric", "bleu", "--lang", "ko", "--pred", str(pred), "--ref", str(ref))
    assert code == 2 and "not UTF-8 text (byte 0)" in out


def test_scores_an_lm_eval_samples_log(tmp_path: Path) -> None:
    log = tmp_path / "samples_task.jsonl"
    records = [
        {"doc_id": i, "target": ref, "filtered_resps": [f"  {pred} "], "task": "t"}
        for i, (pred, ref) in enumerate(zip(EN["predictions"], EN["references"], strict=True))
    ]
    log.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    code, out = score("--metric", "bleu", "--lang", "en", "--samples", str(log), "--task", "t", "--json")
    assert code == 0, out
    expected = next(c["expected"] for c in EXPECTED["sacrebleu_cli"] if c["params"] == {"tokenize": "13a"})
    assert json.loads(out)["scores"]["bleu"]["value"] * 100 == pytest.approx(expected, abs=5e-5)
    code, out = score("--metric", "bleu", "--lang", "en", "--samples", str(log), "--task", "other")
    assert code == 2 and "no samples of task 'other'" in out
