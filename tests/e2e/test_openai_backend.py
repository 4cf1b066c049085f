"""The openai backend against a real model behind a real OpenAI-compatible HTTP server on loopback.

One server (the bundled model) for the module, one evaluation of both smoke request types shared by
the checks: it must agree with lm-eval's HFLM on the same weights, equal lm-eval's own
local-completions / local-chat-completions (as `reproduce_model` names them), and survive failures.
"""

from __future__ import annotations

import json
import socket
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.target import ModelLoadError
from harness.backends import openai_api
from tests.support.openai_server import LoopbackServer, serve_model

pytestmark = pytest.mark.e2e

TASKS_DIR = Path(__file__).resolve().parents[2] / "benchmarks" / "tasks"
MMLU, SHORT = "evalboard_smoke_mmlu_en", "evalboard_smoke_short_answer"
LIMIT = 8
KEY = "sk-test-never-recorded"


def evaluate(lm: Any, tasks: list[str], limit: int, **options: Any) -> dict[str, Any]:
    """As the harness calls lm-eval with a chat template (few-shot 0 keeps it quick)."""
    import lm_eval
    from lm_eval.tasks import TaskManager

    results = lm_eval.simple_evaluate(
        model=lm,
        tasks=tasks,
        num_fewshot=0,
        limit=limit,
        apply_chat_template=True,
        fewshot_as_multiturn=True,
        log_samples=True,
        task_manager=TaskManager(include_path=str(TASKS_DIR), include_defaults=False),
        **options,
    )
    assert results is not None
    return dict(results)


def responses(results: dict[str, Any], task: str) -> dict[int, Any]:
    return {sample["doc_id"]: sample["filtered_resps"] for sample in results["samples"][task]}


@pytest.fixture(scope="module")
def endpoint(converted_model_dir: Path) -> Iterator[LoopbackServer]:
    with serve_model(converted_model_dir, api_key=KEY) as server:
        yield server


@pytest.fixture(scope="module")
def served(
    endpoint: LoopbackServer, converted_model_dir: Path
) -> tuple[dict[str, Any], dict[str, Any], Counter[str]]:
    """Both smoke request types through the backend: concurrent requests, 4 prompts per completion."""
    before = Counter(endpoint.requests)
    args = openai_api.model_args(
        endpoint.model_name,
        endpoint.base_url,
        tokenizer=str(converted_model_dir),
        num_concurrent=2,
        batch_size=4,
    )
    results = evaluate(openai_api.load(args, api_key=KEY), [MMLU, SHORT], LIMIT)
    return args, results, endpoint.requests - before


def test_both_request_types_run_through_the_endpoint(served: tuple[Any, ...]) -> None:
    args, results, requests = served
    mmlu, short = results["results"][MMLU], results["results"][SHORT]
    assert 0.0 <= mmlu["acc,none"] <= 1.0 and mmlu["acc_stderr,none"] > 0
    assert 0.0 < short["exact_match,none"] <= 1.0  # the model does answer some ("Paris")
    assert results["n-samples"][MMLU]["effective"] == results["n-samples"][SHORT]["effective"] == LIMIT
    answers = [resp for resps in responses(results, SHORT).values() for resp in resps]
    assert len(answers) == LIMIT and all(isinstance(a, str) and a.strip() for a in answers)
    # 8 questions x 4 choices scored 4 prompts per completions request; one chat request per question.
    assert requests["/v1/completions"] == LIMIT and requests["/v1/chat/completions"] == LIMIT
    assert results["config"]["base_url"] == args["base_url"]  # get_model_info reached lm-eval
    assert KEY not in json.dumps(args) + json.dumps(results["config"], default=str)


def test_loglikelihoods_agree_with_hugging_face_transformers(
    served: tuple[Any, ...], converted_model_dir: Path
) -> None:
    from lm_eval.models.huggingface import HFLM

    _args, results, _requests = served
    local = evaluate(HFLM(pretrained=str(converted_model_dir), device="cpu", batch_size=8), [MMLU], LIMIT)
    assert results["results"][MMLU]["acc,none"] == local["results"][MMLU]["acc,none"]
    over_http, in_process = responses(results, MMLU), responses(local, MMLU)
    assert over_http.keys() == in_process.keys()
    for doc_id, choices in over_http.items():
        expected = in_process[doc_id]
        assert [c[0] for c in choices] == pytest.approx([c[0] for c in expected], abs=1e-3), doc_id
        assert max(range(4), key=lambda i: choices[i][0]) == max(range(4), key=lambda i: expected[i][0])


def test_numbers_equal_lm_evals_own_api_models(
    served: tuple[Any, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`reproduce_model`'s --model / --model_args, run by lm-eval itself, give the same responses."""
    from lm_eval.api.registry import get_model

    args, results, _requests = served
    monkeypatch.setenv("OPENAI_API_KEY", KEY)  # how lm-eval's API models take the key
    for request_type, task in (("loglikelihood", MMLU), ("generate_until", SHORT)):
        name, arg_string = openai_api.reproduce_model(args, request_type)
        lm = get_model(name).create_from_arg_string(arg_string, {"batch_size": args["batch_size"]})
        theirs = responses(evaluate(lm, [task], 2), task)
        ours = responses(results, task)
        assert theirs == {doc_id: ours[doc_id] for doc_id in theirs}, name


def test_server_errors_are_retried_by_the_client(
    endpoint: LoopbackServer, served: tuple[Any, ...], converted_model_dir: Path
) -> None:
    """One request at a time, one prompt each (lm-eval's synchronous path); the first two fail."""
    _args, results, _requests = served
    args = openai_api.model_args(
        endpoint.model_name, endpoint.base_url, tokenizer=str(converted_model_dir), max_retries=3
    )
    lm = openai_api.load(args, api_key=KEY)
    failures, before = endpoint.state.failures, endpoint.requests["/v1/completions"]
    endpoint.fail_next(2, status=500)
    retried = evaluate(lm, [MMLU], 1)
    assert endpoint.state.failures - failures == 2
    assert endpoint.requests["/v1/completions"] - before == 4 + 2  # 4 choices, 2 of them sent twice
    assert responses(retried, MMLU)[0] == responses(results, MMLU)[0]


def test_a_request_cache_answers_a_rerun_without_calling_the_endpoint(
    endpoint: LoopbackServer, served: tuple[Any, ...], tmp_path: Path
) -> None:
    """lm-eval's CachingLM keys on the requests it was given: chat answers too, though the chat model
    is sent rewritten contexts."""
    args, results, _requests = served
    cache = str(tmp_path / "requests")
    runs = []
    for _ in range(2):
        before = endpoint.inference_requests()
        runs.append(evaluate(openai_api.load(args, api_key=KEY), [MMLU, SHORT], 2, use_cache=cache))
        runs[-1]["sent"] = endpoint.inference_requests() - before
    assert runs[0]["sent"] == 2 + 2 and runs[1]["sent"] == 0  # 8 prompts in 2 completions; 2 chats
    for task in (MMLU, SHORT):
        assert (
            responses(runs[1], task)
            == responses(runs[0], task)
            == {doc_id: responses(results, task)[doc_id] for doc_id in (0, 1)}
        )


def test_load_says_what_is_wrong_with_the_endpoint(
    endpoint: LoopbackServer, converted_model_dir: Path
) -> None:
    args = openai_api.model_args(endpoint.model_name, endpoint.base_url, tokenizer=str(converted_model_dir))
    with pytest.raises(ModelLoadError, match="refused the API key \\(401\\); set EVALBOARD_OPENAI_API_KEY"):
        openai_api.load(args, api_key="sk-wrong")
    missing = {**args, "model": "no-such-model"}
    with pytest.raises(ModelLoadError, match="does not serve model 'no-such-model'; it lists: smollm2"):
        openai_api.load(missing, api_key=KEY)
    with pytest.raises(ModelLoadError, match="could not load tokenizer"):
        openai_api.load({**args, "tokenizer": str(converted_model_dir / "absent")}, api_key=KEY)
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    unreachable = {**args, "base_url": closed, "max_retries": 0}
    with pytest.raises(RuntimeError, match="could not reach") as caught:
        openai_api.load(unreachable, api_key=KEY)
    assert not isinstance(caught.value, ModelLoadError)  # may be starting up: the worker retries


def test_without_a_tokenizer_only_generation_works(endpoint: LoopbackServer) -> None:
    from lm_eval.api.instance import Instance

    args = openai_api.model_args(endpoint.model_name, endpoint.base_url, tokenizer=None)
    lm = openai_api.load(args, api_key=KEY)
    meta = ("t", 0, 1)
    with pytest.raises(ModelLoadError, match="loglikelihood scoring needs a tokenizer for smollm2"):
        lm.loglikelihood([Instance("loglikelihood", {}, ("Q: 1+1=", " 2"), 0, meta)])
    # Plain text (no chat template) goes to the completions endpoint as a string prompt.
    plain = Instance(
        "generate_until", {}, ("The capital of France is", {"until": ["."], "max_gen_toks": 4}), 0, meta
    )
    assert "Paris" in lm.generate_until([plain])[0]


def test_a_request_the_endpoint_refuses_fails_for_good(endpoint: LoopbackServer) -> None:
    """A 4xx answer (here: the model is gone) is permanent: ModelLoadError, so the job is not retried."""
    from lm_eval.api.instance import Instance

    lm = openai_api.load(
        openai_api.model_args(endpoint.model_name, endpoint.base_url, tokenizer=None), api_key=KEY
    )
    lm.completions.model = "removed-since-load"
    request = Instance("generate_until", {}, ("Hi", {"until": ["."], "max_gen_toks": 2}), 0, ("t", 0, 1))
    with pytest.raises(
        ModelLoadError, match="/completions refused the request: Error code: 404 - model 'removed-since"
    ):
        lm.generate_until([request])


def test_evalboard_eval_of_an_endpoint_matches_the_lm_eval_cli(
    endpoint: LoopbackServer, tmp_path: Path, converted_model_dir: Path
) -> None:
    """`evalboard eval openai:MODEL@URL` in its own process (real HTTP, real openai client), then
    each stored reproduce command through the `lm_eval` CLI against the same endpoint."""
    import subprocess
    import sys

    from tests.conftest import SHARED_MODEL_CACHE
    from tests.e2e.fidelity import assert_same_numbers, run_lm_eval_cli

    reference = f"openai:{endpoint.model_name}@{endpoint.base_url}"
    output = tmp_path / "r.json"
    completed = subprocess.run(
        [
            sys.executable, "-m", "app.cli", "eval", reference,
            "--tokenizer", "bundled:smollm2-135m-instruct", "--chat-template",
            "--suite", "smoke", "--limit", "4", "--output", str(output),
        ],
        env={
            "EVALBOARD_HOME": str(tmp_path), "EVALBOARD_MODEL_CACHE_DIR": str(SHARED_MODEL_CACHE),
            "EVALBOARD_OPENAI_API_KEY": KEY, "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin",
        },
        capture_output=True, text=True, timeout=600, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(output.read_text())
    assert report["provenance"]["backend"] == "openai"
    assert KEY not in output.read_text()  # the key is never recorded
    assert report["benchmarks"]["short_answer"]["score"] > 0
    rows = report["metrics"]
    commands = sorted({row["reproduce"] for row in rows})
    assert any("--model local-completions" in c for c in commands)
    assert any("--model local-chat-completions" in c for c in commands)
    compared = sum(
        assert_same_numbers(
            [r for r in rows if r["reproduce"] == command],
            run_lm_eval_cli(command, tmp_path / f"cli-{index}", env={"OPENAI_API_KEY": KEY}),
        )
        for index, command in enumerate(commands)
    )
    assert compared == len(rows)
