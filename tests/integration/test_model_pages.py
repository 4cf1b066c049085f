"""The model, compare and about pages on both databases: scores with their standard errors and
charts, provenance, failures, the sample browser, significance marks, bad input, both languages,
and hostile text escaped."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.db import session_scope
from app.runs import service as runs
from app.tables import EvalRequest, LlmModel
from benchmarks.catalog import all_suites
from benchmarks.private import register
from tests.integration.test_api import BUNDLED, submit
from tests.support.auth import admin_client
from tests.unit.test_private import MULTIPLE_CHOICE, write_jsonl
from tests.unit.test_references import write_safetensors

HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
REPRODUCE = (
    "lm_eval --model hf --model_args pretrained=/models/smollm2,dtype=float32 --tasks evalboard_smoke_mmlu_en"
)
METRICS = {"mmlu_en_mini": "acc", "kmmlu_ko_mini": "acc", "short_answer": "exact_match", "held_mc": "acc"}
Scores = dict[str, tuple[float, float | None]]


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with admin_client(settings) as test_client:
        yield test_client


def finish(
    settings: Settings,
    request_id: int,
    scores: Scores,
    *,
    folder: Path | None = None,
    provenance: dict[str, Any] | None = None,
    data_source: str = "hub",
) -> None:
    rows = [
        {
            "benchmark": benchmark,
            "task": f"t_{benchmark}",
            "metric": METRICS[benchmark],
            "value": value,
            "stderr": stderr,
            "n": 24,
            "is_primary": True,
            "provenance": provenance or {},
        }
        for benchmark, (value, stderr) in scores.items()
    ]
    with session_scope(settings.resolved_database_url) as session:
        runs.mark_finished(
            session,
            request_id,
            rows,
            str(folder or "/nonexistent"),
            "",
            data_source=data_source,
            private_dir=settings.resolved_private_dir,
        )


def queued(client: TestClient, **fields: object) -> tuple[int, int]:
    """A submitted model's id and its (smoke) request's id."""
    status, body = submit(client, **fields)
    assert status == 201, body
    return body["model_id"], body["request_ids"][0]


def insert_model(settings: Settings, name: str, suite: str = "smoke") -> tuple[int, int]:
    """A model row with any name (the submission API derives names from references)."""
    with session_scope(settings.resolved_database_url) as session:
        model = LlmModel(
            reference=f"/models/{len(name)}-{abs(hash(name))}",
            source="local",
            name=name,
            precision="float32",
            model_type="chat",
            flags=[],
        )
        session.add(model)
        session.flush()
        request = EvalRequest(model_id=model.id, suite=suite)
        session.add(request)
        session.flush()
        return model.id, request.id


def multiple_choice_sample(doc_id: int, prompt: str = "Question: 2 + 2 = ?\nAnswer:") -> dict[str, Any]:
    choices = [" 3", " 4", " 5", " 22"]
    return {
        "benchmark": "mmlu_en_mini",
        "task": "evalboard_smoke_mmlu_en",
        "doc_id": doc_id,
        "doc": {"question": "2 + 2 = ?"},
        "target": 1,
        "arguments": [[prompt, choice] for choice in choices],
        "resps": [[[-2.0, False]], [[-0.1, True]], [[-3.0, False]], [[-4.0, False]]],
        "filtered_resps": [[-2.0, False], [-0.1, True], [-3.0, False], [-4.0, False]],
        "filter": "none",
        "metrics": ["acc"],
        "acc": 1.0,
    }


def write_artifacts(folder: Path, records: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(json.dumps({"results": {"t_mmlu_en_mini": {"acc,none": 0.5}}}))
    with (folder / "samples.jsonl").open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return folder


def verdicts(page: str, benchmark: str) -> list[str]:
    row = re.search(rf'<tr data-benchmark="{benchmark}">(.*?)</tr>', page, re.S)
    assert row, f"no row for {benchmark}"
    return re.findall(r'data-verdict="(\w+)"', row.group(1))


def test_model_page_shows_scores_stderr_chart_provenance_and_samples(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    model_id, request_id = queued(client)
    generation = {
        "benchmark": "short_answer",
        "task": "evalboard_smoke_short_answer",
        "doc_id": 0,
        "target": "서울",
        "arguments": [["한국의 수도는?", {"until": ["\n"]}]],
        "resps": [["부산"]],
        "filtered_resps": ["부산"],
        "metrics": ["exact_match"],
        "exact_match": 0.0,
    }
    folder = write_artifacts(
        tmp_path / "attempt-1", [multiple_choice_sample(i) for i in range(12)] + [generation]
    )
    provenance = {
        "lm_eval_version": "0.4.13",
        "task_version": 1.0,
        "task_config_hash": "cfg0123abcd",
        "backend": "hf",
        "reproduce": REPRODUCE,
    }
    finish(
        settings,
        request_id,
        {"mmlu_en_mini": (0.5, 0.02), "kmmlu_ko_mini": (0.375, 0.1), "short_answer": (0.125, None)},
        folder=folder,
        provenance=provenance,
    )

    response = client.get(f"/models/{model_id}")
    assert response.status_code == 200 and response.headers["content-language"] == "ko"
    page = response.text
    assert '50.00 <span class="stderr">± 2.00</span>' in page
    assert '37.50 <span class="stderr">± 10.00</span>' in page
    assert page.count('class="chart chart-bars"') == 1  # one suite, one chart
    assert "평균 <strong>33.33</strong>" in page  # (50 + 37.5 + 12.5) / 3
    assert f'<pre class="reproduce">{REPRODUCE}</pre>' in page
    assert "cfg0123abcd" in page and "0.4.13" in page
    assert f'href="/api/v1/requests/{request_id}/results.json"' in page
    assert f'href="/models/{model_id}/scores.csv"' in page

    # The sample browser: the first page of 10, multiple choice with the chosen and target answers.
    assert "샘플 13개 중 1–10" in page
    assert page.count('<article class="sample"') == 10
    first = page[page.index('<article class="sample"') :]
    assert "Question: 2 + 2 = ?" in first and '<pre class="sample-text response"> 4</pre>' in first
    assert '<pre class="sample-text target"> 4</pre>' in first and "정답</span>" in first
    assert f"/models/{model_id}?run={request_id}&amp;offset=10#samples" in page

    last = client.get(f"/models/{model_id}?run={request_id}&offset=10&lang=en").text
    assert "11–13 of 13 samples" in last and last.count('<article class="sample"') == 3
    assert '<pre class="sample-text response">부산</pre>' in last and "wrong</span>" in last
    assert "Scores" in last and "Provenance" in last
    only = client.get(f"/models/{model_id}?benchmark=short_answer&lang=en").text
    assert "1–1 of 1 samples" in only
    unknown = client.get(f"/models/{model_id}?benchmark=nope&lang=en").text
    assert 'data-problem="unknown_benchmark"' in unknown

    rows = list(csv.DictReader(io.StringIO(client.get(f"/models/{model_id}/scores.csv").text)))
    assert [(r["benchmark"], r["value"], r["stderr"]) for r in rows] == [
        ("mmlu_en_mini", "0.5", "0.02"),
        ("kmmlu_ko_mini", "0.375", "0.1"),
        ("short_answer", "0.125", ""),
    ]
    assert rows[0]["suite"] == "smoke" and rows[0]["board"] == "hub" and rows[0]["reference"] == BUNDLED


def test_failed_request_shows_its_reason_and_log_tail(client: TestClient, settings: Settings) -> None:
    model_id, request_id = queued(client)
    with session_scope(settings.resolved_database_url) as session:
        runs.mark_failed_or_pending(
            session,
            request_id,
            error="model load failed: CUDA out of memory <b>",
            log_tail="Traceback (most recent call last):\n  torch.OutOfMemoryError",
            final=True,
        )
    page = client.get(f"/models/{model_id}?lang=en").text
    assert f'data-request-id="{request_id}" data-status="FAILED"' in page
    assert "model load failed: CUDA out of memory &lt;b&gt;" in page
    assert "torch.OutOfMemoryError" in page
    assert "This model has no finished evaluation yet." in page


def test_unknown_models_get_a_404_page_in_the_page_language(client: TestClient) -> None:
    korean = client.get("/models/999")
    assert korean.status_code == 404 and "text/html" in korean.headers["content-type"]
    assert "id 999인 모델이 없습니다" in korean.text
    english = client.get("/models/999?lang=en")
    assert english.status_code == 404 and "There is no model with id 999" in english.text
    for odd in ("abc", "99999999999999", "²"):
        assert client.get(f"/models/{odd}").status_code == 404
    assert client.get("/models/999/scores.csv").status_code == 404


def test_adapter_links_to_its_base_models_page(client: TestClient, tmp_path: Path) -> None:
    base_id, _ = queued(client)
    folder = tmp_path / "adapter"
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps({"r": 8}))
    write_safetensors(folder / "adapter_model.safetensors", {"lora_A": [8, 16]})
    adapter_id, _ = queued(client, model=str(folder), weight_type="adapter", base_model=BUNDLED)
    page = client.get(f"/models/{adapter_id}?lang=en").text
    assert f'<a href="/models/{base_id}" id="base-model">{BUNDLED}</a>' in page
    assert "Adapter (LoRA) weights trained on" in page
    assert "Original weights" in client.get(f"/models/{base_id}?lang=en").text


def test_compare_marks_gaps_beyond_the_combined_stderr_as_significant(
    client: TestClient, settings: Settings
) -> None:
    a, request_a = queued(client, precision="float32")
    b, request_b = queued(client, precision="bfloat16")
    c, request_c = queued(client, precision="float16")
    # mmlu: best A 0.60±0.01. B 0.57±0.01: gap 0.03 > √(0.01²+0.01²) = 0.0141 (significant);
    #       C 0.59±0.01: gap 0.01 < 0.0141 (within error).
    # kmmlu: best A 0.50±0.03. B 0.46±0.03: gap 0.04 < 0.0424 (within); C 0.40±0.01: 0.10 > 0.0316.
    # short answer: best B 0.30±0.02. A 0.20±0.02: 0.10 > 0.0283 (significant); C has no stderr.
    finish(
        settings,
        request_a,
        {"mmlu_en_mini": (0.60, 0.01), "kmmlu_ko_mini": (0.50, 0.03), "short_answer": (0.20, 0.02)},
    )
    finish(
        settings,
        request_b,
        {"mmlu_en_mini": (0.57, 0.01), "kmmlu_ko_mini": (0.46, 0.03), "short_answer": (0.30, 0.02)},
    )
    finish(
        settings,
        request_c,
        {"mmlu_en_mini": (0.59, 0.01), "kmmlu_ko_mini": (0.40, 0.01), "short_answer": (0.25, None)},
    )

    response = client.get(f"/compare?ids={a},{b},{c}")
    assert response.status_code == 200
    page = response.text
    assert verdicts(page, "mmlu_en_mini") == ["best", "significant", "within_error"]
    assert verdicts(page, "kmmlu_ko_mini") == ["best", "within_error", "significant"]
    assert verdicts(page, "short_answer") == ["significant", "best", "unknown_error"]
    assert "유의미한 차이" in page and "오차 범위 내" in page
    assert 'class="chart chart-grouped-bars"' in page
    assert page.count('class="legend-item"') == 3
    english = client.get(f"/compare?ids={a},{b},{c}&suite=smoke&lang=en").text
    assert ">significant<" in english and ">within error<" in english
    assert "−3.00 / ± 1.41" in english  # B's mmlu gap and the combined stderr, ×100


@pytest.mark.parametrize(
    ("ids", "status", "korean", "english"),
    [
        ("1", 422, "2개 이상", "at least 2 models"),
        ("1,2,3,4,5", 422, "최대 4개", "at most 4 models"),
        ("1,x", 422, "정수가 아닌 값: x", "this is not: x"),
        ("998,999", 404, "id 998, 999인 모델이 없습니다", "No model with id 998, 999"),
    ],
)
def test_compare_refuses_bad_input_with_a_message(
    client: TestClient, ids: str, status: int, korean: str, english: str
) -> None:
    response = client.get(f"/compare?ids={ids}")
    assert response.status_code == status and korean in response.text
    assert 'id="compare-error"' in response.text
    english_response = client.get(f"/compare?ids={ids}&lang=en")
    assert english_response.status_code == status and english in english_response.text


def test_compare_form_and_unknown_suite(client: TestClient) -> None:
    a, _ = queued(client, precision="float32")
    b, _ = queued(client, precision="bfloat16")
    form = client.get("/compare?lang=en")
    assert form.status_code == 200 and 'id="compare-form"' in form.text
    assert f'<a href="/models/{a}">' in form.text  # recent models to pick from
    assert f'href="/compare?pick={a}"' in client.get(f"/models/{a}").text
    picked = client.get(f"/compare?pick={a}")  # a model page's link fills the form, compares nothing
    assert picked.status_code == 200 and f'name="ids" value="{a},"' in picked.text
    nothing = client.get(f"/compare?ids={a},{b}&lang=en")  # neither has finished anything
    assert nothing.status_code == 200 and 'data-problem="nothing_shared"' in nothing.text
    unknown = client.get(f"/compare?ids={a},{b}&suite=nope&lang=en")
    assert unknown.status_code == 404 and "Unknown suite nope" in unknown.text


def test_about_lists_every_benchmark_of_every_suite_in_both_languages(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    data = write_jsonl(tmp_path / "held.jsonl", MULTIPLE_CHOICE)
    register(
        settings.resolved_private_dir, "held_mc", data, "multiple_choice", "Held-out MC", "비공개 객관식"
    )
    suites = all_suites(settings.resolved_private_dir)
    assert "private" in suites
    korean = client.get("/about")
    english = client.get("/about?lang=en")
    assert korean.status_code == english.status_code == 200
    assert "정규화 (Open LLM 리더보드 v2)" in korean.text and "Normalization" in english.text
    # How generation scores read Korean (Kiwi morphemes, ko-mecab, the BERTScore models).
    assert 'id="generation"' in korean.text and "Kiwi 형태소" in korean.text and "ko-mecab" in korean.text
    assert "Kiwi morphemes" in english.text and "bert-base-multilingual-cased" in english.text
    for name, suite in suites.items():
        assert f'id="suite-{name}"' in korean.text and f'id="suite-{name}"' in english.text
        assert html.escape(suite.title_ko) in korean.text and html.escape(suite.title_en) in english.text
        for spec in suite.benchmarks:
            assert f'data-benchmark="{spec.name}"' in korean.text, spec.name
            assert html.escape(spec.display_ko, quote=False) in korean.text, spec.display_ko
            assert html.escape(spec.display_en, quote=False) in english.text, spec.display_en
    assert english.text.count("<dt>") >= 5  # the FAQ


def test_hostile_names_and_sample_text_are_escaped(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    hostile_id, hostile_request = insert_model(settings, HOSTILE)
    other_id, other_request = insert_model(settings, '=HYPERLINK("http://evil")')
    folder = write_artifacts(tmp_path / "attempt-1", [multiple_choice_sample(0, prompt=HOSTILE)])
    scores: Scores = {"mmlu_en_mini": (0.5, 0.02), "kmmlu_ko_mini": (0.5, 0.02), "short_answer": (0.5, 0.02)}
    finish(settings, hostile_request, scores, folder=folder, provenance={"reproduce": f"lm_eval {HOSTILE}"})
    finish(settings, other_request, scores)
    for url in (f"/models/{hostile_id}", f"/compare?ids={hostile_id},{other_id}"):
        page = client.get(url).text
        assert "<script>" not in page, url
        assert ESCAPED in page, url
    csv_text = client.get(f"/models/{other_id}/scores.csv").text
    assert "'=HYPERLINK" in csv_text  # a spreadsheet shows it as text instead of running it


def test_private_benchmarks_samples_are_withheld_on_the_page(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    data = write_jsonl(tmp_path / "held.jsonl", MULTIPLE_CHOICE)
    register(
        settings.resolved_private_dir, "held_mc", data, "multiple_choice", "Held-out MC", "비공개 객관식"
    )
    model_id, request_id = queued(client, suites=["private"])
    secret = "What is the capital of France?"
    record = {
        **multiple_choice_sample(0, prompt=secret),
        "benchmark": "held_mc",
        "task": "evalboard_private_held_mc",
    }
    folder = write_artifacts(tmp_path / "attempt-1", [record])
    finish(settings, request_id, {"held_mc": (0.5, 0.1)}, folder=folder, data_source="private")
    page = client.get(f"/models/{model_id}?lang=en").text
    assert "50.00" in page and secret not in page
    assert "Private held-out benchmarks are withheld" in page
    asked = client.get(f"/models/{model_id}?benchmark=held_mc&lang=en").text
    assert 'data-problem="private"' in asked and secret not in asked
