"""POST /api/v1/score: real evaluators behind the real app (SQLite settings; scoring touches no
database). BERTScore runs in the API's scoring subprocess; the API process never imports torch."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_settings
from tests.support.auth import admin_client

CASES = Path(__file__).parents[1] / "data" / "metric_cases"
KO = json.loads((CASES / "inputs_ko.json").read_text("utf-8"))
EXPECTED = json.loads((CASES / "expected.json").read_text("utf-8"))


@pytest.fixture
def client(tmp_path: Path, sqlite_url: str) -> Iterator[TestClient]:
    settings = make_settings(
        tmp_path, sqlite_url, score_max_pairs=50, bertscore_model="bundled:all-minilm-l6-v2"
    )
    with admin_client(settings) as test_client:
        yield test_client


def post(client: TestClient, **body: object) -> tuple[int, dict]:  # type: ignore[type-arg]
    payload = {
        "metric": "bleu",
        "lang": "ko",
        "predictions": KO["predictions"],
        "references": KO["references"],
    }
    payload.update(body)
    response = client.post("/api/v1/score", json=payload)
    return response.status_code, response.json()


def test_bleu_over_the_api_equals_sacrebleu_command_line(client: TestClient) -> None:
    status, body = post(client)
    assert status == 200, body
    expected = next(
        c["expected"] for c in EXPECTED["sacrebleu_cli"]
        if c["inputs"] == "inputs_ko.json" and c["params"] == {"tokenize": "ko-mecab"}
    )  # fmt: skip
    assert body["scores"]["bleu"]["value"] * 100 == pytest.approx(expected, abs=5e-5)
    assert body["scores"]["bleu"]["stderr_method"] == "bootstrap" and body["scores"]["bleu"]["stderr"] > 0
    assert body["params"]["tokenize"] == "ko-mecab" and "ko-mecab" in body["params"]["signature"]
    assert body["n"] == len(KO["predictions"]) == len(body["samples"])


def test_korean_rouge_is_not_zero(client: TestClient) -> None:
    status, body = post(client, metric="rouge", samples=False)
    assert status == 200, body
    assert body["scores"]["rougeL"]["value"] > 0.2 and body["samples"] is None
    assert body["params"]["tokenizer"].startswith("kiwi-morphemes")


def test_bertscore_runs_in_a_subprocess_with_the_server_model(client: TestClient) -> None:
    status, body = post(client, metric="bertscore", params={"idf": True})
    assert status == 200, body
    assert body["params"]["model"] == "bundled:all-minilm-l6-v2" and body["params"]["idf"] is True
    assert 0 < body["scores"]["bertscore_f1"]["value"] <= 1
    status, again = post(client, metric="bertscore", params={"idf": True})
    assert again["scores"] == body["scores"]  # the kept scorer gives the same numbers
    # The request may not pick the model: that would let anyone make the server download one.
    status, refused = post(client, metric="bertscore", params={"model": "xlm-roberta-large"})
    assert status == 422 and refused["field"] == "params.model" and "set by the server" in refused["detail"]


@pytest.mark.parametrize(
    ("body", "status", "field", "says"),
    [
        ({"metric": "meteor"}, 422, "metric", "use one of rouge, bleu, chrf, bertscore"),
        ({"references": KO["references"][:-1]}, 422, "references", "6 predictions but 5 references"),
        ({"predictions": [], "references": []}, 422, None, "no predictions"),
        ({"references": ["", *KO["references"][1:]]}, 422, "references", "references[0] (line 1) is empty"),
        ({"params": {"tokenize": "klingon"}}, 422, "tokenize", "unknown BLEU tokenizer"),
        ({"params": {"smooth": "add-k"}}, 422, "params.smooth", "a request may set: lowercase, tokenize"),
        ({"predictions": ["a"] * 51, "references": ["b"] * 51}, 413, "predictions", "limit of 50"),
        ({"predictions": ["a" * 20001], "references": ["b"]}, 413, "predictions", "at most 20000"),
    ],
)
def test_bad_input_gets_a_clear_error(
    client: TestClient,
    body: dict,
    status: int,
    field: str | None,
    says: str,  # type: ignore[type-arg]
) -> None:
    got_status, got = post(client, **body)
    assert got_status == status, got
    assert says in got["detail"] and got.get("field") == field


def test_bad_language_is_a_validation_error(client: TestClient) -> None:
    status, body = post(client, lang="ja")
    assert status == 422 and "lang" in body["detail"]


def test_the_api_process_imports_no_torch_or_bert_score() -> None:
    code = (
        "import sys; from app.main import create_app; import app.scoring.service; "
        "print(sorted({'torch', 'bert_score', 'transformers'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
