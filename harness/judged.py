"""Judged benchmarks (suites judge-ko, judge-en, logickor): the model answers through the backend
layer, an LLM judge grades the answers.

Answers come from the same lm-eval LM object every benchmark uses (HF, vLLM or an endpoint), one
generate_until call per turn: the second turn of a conversation is built from the first turn's
answer, with the model's chat template (`apply_chat_template`) or, for base models, a plain
"User:/Assistant:" transcript. Greedy decoding, so the response cache applies (lm-eval's CachingLM,
the same file as the suite's other generations).

The judge (evaluators/judge) is the configured OpenAI-compatible endpoint, or, in the embedded
default, the bundled model behind the local adapter in this process. Its replies are cached in
the database (evaluators/judge/cache.py), keyed by judge model, prompt version, messages and
parameters. Each sample keeps the judge's rationale for the model page.

A suite's judged part runs in three steps (run_judged_benchmarks): the model answers every judged
benchmark; the judging is estimated (calls, tokens, cost, cache hits) and checked against the
request's budget (harness/judge_budget.py), before any judge call; then the judge grades.
Each method's steps are in harness/judge_methods/ (single, pairwise), a benchmark's items in
harness/judged_data.py (the bundled sample, or the public set `datasets pull` saved).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.spec import BenchmarkSpec
from benchmarks.target import PermanentRunError
from harness import judge_methods, judged_data
from harness.judge_budget import check_before_judging, exceeded_while_judging, usage_record
from harness.judge_methods import SCORED_BY, Answered

LOCAL_JUDGE = "bundled:smollm2-135m-instruct"  # the embedded default's judge
LOCAL_TIMEOUT_S = 1800.0  # per request to the in-process local judge
__all__ = ["LOCAL_JUDGE", "SCORED_BY", "JudgeSetup", "generate_conversations", "open_judge",
           "run_judged_benchmarks"]  # fmt: skip


@dataclass
class JudgeSetup:
    """What run_suite needs to judge: the endpoint (None: the bundled model through the local
    adapter), the response cache, and the grading options."""

    endpoint: Any = None  # evaluators.judge.client.JudgeEndpoint
    cache: Any = None  # evaluators.judge.cache.ResponseCache
    penalize_non_korean: bool = True
    use_logprobs: bool = True
    local_model: str = LOCAL_JUDGE
    device: str = "cpu"
    max_tokens: int | None = None  # the local judge's reply-length cap (a configured endpoint has its own)
    budget_usd: float | None = None  # per request: judging stops, and is not started, over it
    repeats: int = 1  # gradings per item (evaluators/judge/repeats.py)


@contextmanager
def open_judge(setup: JudgeSetup, cache_dir: Path) -> Iterator[Any]:
    """A JudgeClient for the run; the local adapter (when no endpoint is configured) lives as long
    as the block."""
    from evaluators.judge.client import JudgeClient, JudgeEndpoint

    if setup.endpoint is not None:
        yield JudgeClient(setup.endpoint, setup.cache, budget_usd=setup.budget_usd)
        return
    from benchmarks.bundled import BUNDLED_MODELS, BUNDLED_PREFIX, ensure_converted
    from evaluators.judge.local_adapter import LocalChatModel, make_app, serve_in_thread

    name = setup.local_model.removeprefix(BUNDLED_PREFIX)
    if name not in BUNDLED_MODELS:
        raise PermanentRunError(
            f"no judge endpoint is configured and {setup.local_model!r} is not a bundled model: set "
            "EVALBOARD_JUDGE_BASE_URL and EVALBOARD_JUDGE_MODEL, or EVALBOARD_JUDGE_LOCAL_MODEL to one of "
            + ", ".join(BUNDLED_PREFIX + n for n in BUNDLED_MODELS)
        )
    folder = ensure_converted(BUNDLED_MODELS[name], cache_dir)
    model = LocalChatModel(str(folder), name=setup.local_model, device=setup.device)
    with serve_in_thread(make_app(model)) as url:
        # A CPU batch of 16 long prompts (G-Eval's Korean ones are ~1,000 tokens) takes minutes; a
        # client timeout would only queue the same work again behind it.
        endpoint = JudgeEndpoint(base_url=url, model=setup.local_model, concurrency=16,
                                 max_tokens=setup.max_tokens, timeout_s=LOCAL_TIMEOUT_S)  # fmt: skip
        yield JudgeClient(endpoint, setup.cache)  # a local judge costs nothing: no budget applies


# --- answers -------------------------------------------------------------------------------------


def _transcript(history: list[dict[str, str]]) -> str:
    """A base model's prompt: the conversation as plain turns, ending where the model speaks."""
    lines = [f"{'User' if m['role'] == 'user' else 'Assistant'}: {m['content']}" for m in history]
    return "\n\n".join(lines) + "\n\nAssistant:"


def generate_conversations(
    lm: Any, conversations: list[list[str]], *, use_chat_template: bool, max_gen_toks: int
) -> tuple[list[list[str]], list[list[str]]]:
    """Answers per conversation per turn, and the prompts they answered. Turn t of every
    conversation that has one goes in one batch; its history holds the model's own earlier answers."""
    from lm_eval.api.instance import Instance

    answers: list[list[str]] = [[] for _ in conversations]
    prompts: list[list[str]] = [[] for _ in conversations]
    until = [] if use_chat_template else ["\n\nUser:"]
    for turn in range(max(len(c) for c in conversations)):
        active = [i for i, turns in enumerate(conversations) if turn < len(turns)]
        requests = []
        for i in active:
            history: list[dict[str, str]] = []
            for earlier in range(turn):
                history += [
                    {"role": "user", "content": conversations[i][earlier]},
                    {"role": "assistant", "content": answers[i][earlier]},
                ]
            history.append({"role": "user", "content": conversations[i][turn]})
            context = lm.apply_chat_template(history) if use_chat_template else _transcript(history)
            prompts[i].append(str(context))
            gen_kwargs = {"until": until, "max_gen_toks": max_gen_toks, "do_sample": False, "temperature": 0}
            requests.append(Instance("generate_until", {}, (context, gen_kwargs), idx=0))
        for i, text in zip(active, lm.generate_until(requests), strict=True):
            answers[i].append(str(text).strip())
    return answers, prompts


# --- the suite's judged part ---------------------------------------------------------------------


def load_items(
    spec: BenchmarkSpec, limit: int | None, data_source: str = "bundled", datasets_dir: Path | None = None
) -> list[dict[str, Any]]:
    return judged_data.load_items(spec, data_source, datasets_dir, limit)


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class _Run:
    """One judged benchmark between answering and judging."""

    item: Any  # harness.runner.PlannedBenchmark
    answered: Answered
    provenance: dict[str, Any]
    identity: str
    calls: int | None  # model calls the answers took (None: not counted)
    started: str


def run_judged_benchmarks(
    planned: list[Any],
    model_for: Any,
    setup: JudgeSetup,
    *,
    target: Any,
    cache_dir: Path,
    response_cache_dir: Path | None,
    limit: int | None,
    max_gen_toks: int | None,
    outcome: Any,
    samples_file: Any,
    report: Any,
    done: float,
    datasets_dir: Path | None = None,
) -> None:
    """run_suite's judged benchmarks (PlannedBenchmark items): answer all of them with the model
    for each item's backend (`model_for(backend)` -> LoadedModel, loaded once per suite), estimate
    and check the budget, then judge with one client for all of them; append metric rows to
    `outcome` and samples to `samples_file`."""
    runs = []
    for position, item in enumerate(planned):
        report(done + (1 - done) * position / (2 * len(planned)), f"{item.spec.name} · answering")
        runs.append(_answer(item, model_for, target, response_cache_dir, limit, max_gen_toks, datasets_dir))
        if runs[-1].calls is not None:
            outcome.model_calls = (outcome.model_calls or 0) + runs[-1].calls
        outcome.model_args = outcome.model_args or model_for(item.backend).args
    report(done + (1 - done) / 2, "loading judge")
    with open_judge(setup, cache_dir) as client:
        estimates = [
            judge_methods.of(run.answered.spec).estimate(client, run.answered, setup.repeats) for run in runs
        ]
        total = sum(estimates[1:], estimates[0])
        check_before_judging(total, setup.budget_usd, priced=setup.endpoint is not None)
        for position, (run, estimate) in enumerate(zip(runs, estimates, strict=True)):
            progress = done + (1 - done) * (len(planned) + position) / (2 * len(planned))
            report(progress, f"{run.item.spec.name} · judging ({total.calls} judge calls estimated)")
            try:
                rows, samples = _judge(client, run, setup, estimate, total)
            except Exception as exc:
                from evaluators.judge.client import JudgeBudgetExceeded

                if isinstance(exc, JudgeBudgetExceeded):
                    raise exceeded_while_judging(exc, total) from exc
                raise
            outcome.metrics.extend(rows)
            for sample in samples:
                record = {"benchmark": run.item.spec.name, "task": run.item.task, **sample}
                samples_file.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")


def _answer(
    item: Any, model_for: Any, target: Any, response_cache_dir: Path | None, limit: int | None,
    max_gen_toks: int | None, datasets_dir: Path | None,
) -> _Run:  # fmt: skip
    from harness.response_cache import cache_prefix, model_identity

    spec = item.spec
    assert spec.judge is not None
    loaded = model_for(item.backend)
    identity = model_identity(loaded.commit, loaded.backend, loaded.args, target.use_chat_template)
    lm = loaded.lm
    if response_cache_dir is not None:  # the same file simple_evaluate uses for this model
        from lm_eval.api.model import CachingLM

        lm = CachingLM(lm, f"{cache_prefix(response_cache_dir, identity)}_rank0.db")
    calls_before = getattr(loaded.lm, "model_calls", 0)
    started = _now()
    items = load_items(spec, limit, item.data_source, datasets_dir)
    length = max_gen_toks or spec.judge.max_gen_toks
    prepared = judge_methods.of(spec).prepare(items)
    answers, prompts = generate_conversations(
        lm, prepared.conversations, use_chat_template=target.use_chat_template, max_gen_toks=length
    )
    answered = Answered(spec, items, answers, prompts, length, prepared.questions, prepared.references)
    calls = getattr(loaded.lm, "model_calls", 0) - calls_before if loaded.counts_calls else None
    provenance = _provenance(item, loaded, target, limit, max_gen_toks)
    provenance["response_cache"] = (
        {"model_identity": identity, "model_calls_in_call": calls} if response_cache_dir is not None else None
    )
    return _Run(item, answered, provenance, identity, calls, started)


def _provenance(
    item: Any, loaded: Any, target: Any, limit: int | None, max_gen_toks: int | None
) -> dict[str, Any]:
    import platform
    from importlib.metadata import version

    from harness.backends.weights import chat_template_hash

    return {
        "task": item.task,
        "benchmark_version": item.spec.version,
        "num_fewshot": 0,
        "data_source": item.data_source,
        "backend": loaded.backend,
        "backend_args": loaded.args,
        "model_commit": loaded.commit,
        "dtype": loaded.args.get("dtype", target.precision),
        "apply_chat_template": target.use_chat_template,
        "chat_template_hash": chat_template_hash(loaded.lm) if target.use_chat_template else None,
        "limit": limit,
        "max_gen_toks": max_gen_toks,
        "lm_eval_version": version("lm_eval"),
        "seeds": {"bootstrap": 1234},
        "host": {"python": platform.python_version(), "device": loaded.device},
    }


def _judge(
    client: Any, run: _Run, setup: JudgeSetup, estimate: Any, total: Any
) -> tuple[list[Any], list[Any]]:
    """Grade one benchmark and stamp its rows with the judge, its usage and the estimate."""
    stats_before = client.stats.as_dict()
    rows, samples = judge_methods.of(run.answered.spec).grade(client, run.answered, setup)
    endpoint = client.endpoint
    record = {
        "method": run.answered.method,
        "judge_model": endpoint.model,
        "judge_endpoint": "local adapter (bundled model)" if setup.endpoint is None else endpoint.base_url,
        "use_logprobs": setup.use_logprobs,
        "answer_max_gen_toks": run.answered.max_gen_toks,
        "usage": usage_record(stats_before, client),
        "estimate": estimate.as_dict(),
        "request_estimate": total.as_dict(),
        "budget_usd": setup.budget_usd if setup.endpoint is not None else None,
    }
    finished = _now()
    for row in rows:
        row.provenance = {
            **run.provenance,
            "judge": {**record, **row.provenance.get("judge", {})},
            "started_at": run.started,
            "finished_at": finished,
        }
    return rows, samples
