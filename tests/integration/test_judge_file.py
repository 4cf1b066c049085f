"""Grading a judge file (harness/judge_file.py) with the scripted judge over real HTTP: single
grading against a reference and with the Korean penalty, in process; and `evalboard judge` as a
real command on a G-Eval file, its bad files refused naming the line and field."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evaluators.judge.cache import MemoryCache
from evaluators.judge.client import JudgeEndpoint
from harness.judge_file import grade
from harness.judged import JudgeSetup
from tests.support.judge_server import JudgeScript, Step, serve_judge

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = [
    {"id": "q1", "question": "대한민국의 수도는?", "answer": "서울입니다.", "reference": "서울"},
    {"id": "q2", "question": "가장 큰 행성은?", "answer": "Jupiter is the largest planet."},  # not Korean
    {"question": "물의 끓는점은?", "answer": "섭씨 100도입니다."},  # the judge forgets the rating line
]


def reply(body: dict[str, Any]) -> Step:
    content = body["messages"][0]["content"]
    if len(body["messages"]) > 1:  # the follow-up asking for the rating alone
        return Step(text="7")
    if "끓는점" in content:
        return Step(text="좋은 답변입니다.")
    if (
        "- coherence:" in content
        or "- fluency:" in content
        or "- relevance:" in content
        or "- consistency:" in content
    ):
        return Step(text="4", top_logprobs=[{"4": 0.0}] if "- fluency:" not in content else [{"3": 0.0}])
    return Step(text="정확합니다. 점수: [[9]]")


@pytest.fixture
def judge_url() -> Iterator[tuple[JudgeScript, str]]:
    script = JudgeScript(responder=reply)
    with serve_judge(script) as url:
        yield script, url


def test_single_grading_uses_the_reference_and_the_korean_penalty(
    judge_url: tuple[JudgeScript, str], tmp_path: Path
) -> None:
    script, url = judge_url
    setup = JudgeSetup(
        endpoint=JudgeEndpoint(base_url=url, model="judge", backoff_s=0.01), cache=MemoryCache()
    )
    result = grade("single", "ko", QUESTIONS, setup, tmp_path)
    first, second, third = result["items"]
    assert (first["id"], first["rating"], first["source"]) == ("q1", 9.0, "reply")
    assert (second["rating"], second["judge_rating"], second["penalized"]) == (1.0, 9.0, True)
    assert (third["id"], third["rating"], third["source"]) == (None, 7.0, "follow-up text")
    prompts = [body["messages"][0]["content"] for body in script.received]
    assert any("[참고 답안]\n서울" in p for p in prompts)  # the reference guided the first item
    assert all("[참고 답안]" not in p for p in prompts if "가장 큰 행성은?" in p)  # no reference: none used
    summary = result["summary"]
    assert summary["graded"] == 3 and summary["penalized"] == 1 and summary["recovered_by_follow_up"] == 1
    assert summary["mean_rating"]["value"] == pytest.approx((9 + 1 + 7) / 3)
    assert result["judge"]["usage"]["calls"] == 4
    assert result["judge"]["judge_endpoint"] == "the server's judge endpoint"  # never its address
    unpenalized = grade("single", "ko", QUESTIONS[1:2], setup, tmp_path, korean_penalty=False)
    assert unpenalized["items"][0]["rating"] == 9.0 and unpenalized["judge"]["usage"]["cache_hits"] == 1


def test_evalboard_judge_grades_a_geval_file_in_process(
    judge_url: tuple[JudgeScript, str], tmp_path: Path
) -> None:
    script, url = judge_url
    summaries = tmp_path / "summaries.jsonl"
    summaries.write_text(
        json.dumps({"id": "s1", "source": "The pier closes for repairs.", "summary": "Pier shut."}) + "\n"
    )
    env = {**os.environ, "EVALBOARD_HOME": str(tmp_path / "home"), "EVALBOARD_JUDGE_BASE_URL": url,
           "EVALBOARD_JUDGE_MODEL": "judge"}  # fmt: skip

    def evalboard_judge(path: Path) -> subprocess.CompletedProcess[str]:
        command = [
            sys.executable,
            "-m",
            "app.cli",
            "judge",
            str(path),
            "--method",
            "geval",
            "--lang",
            "en",
            "--json",
        ]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)

    completed = evalboard_judge(summaries)
    assert completed.returncode == 0, completed.stderr[-2000:]
    result = json.loads(completed.stdout)
    item = result["items"][0]
    assert item["id"] == "s1" and item["scores"] == {"coherence": 4.0, "consistency": 4.0, "fluency": 3.0,
                                                     "relevance": 4.0}  # fmt: skip
    assert item["geval"] == pytest.approx((0.75 + 0.75 + 1.0 + 0.75) / 4)  # each on 0..1, then their mean
    assert result["summary"]["prompt_versions"]["fluency"] == "geval-fluency-en@1"
    assert len(script.received) == 4 and (tmp_path / "home" / "cache" / "responses" / "judge.sqlite").exists()

    summaries.write_text(
        json.dumps({"source": "x", "summary": "y"}) + "\n" + json.dumps({"source": "x"}) + "\n"
    )
    refused = evalboard_judge(summaries)
    assert refused.returncode == 2 and "line 2: field 'summary' is missing" in re.sub(
        r"\s+", " ", refused.stderr
    )
