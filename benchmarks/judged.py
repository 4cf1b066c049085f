"""Judged benchmarks (suites judge-ko, judge-en): the model answers through the backend layer, an
LLM judge grades the answers.

Answers come from the same lm-eval LM object every benchmark uses (HF, vLLM or an endpoint), one
generate_until call per turn: the second turn of a conversation is built from the first turn's
answer, with the model's chat template (`apply_chat_template`) or, for base models, a plain
"User:/Assistant:" transcript. Greedy decoding, so the response cache applies (lm-eval's CachingLM,
the same file as the suite's other generations).

The judge (evaluators/judge) is the configured OpenAI-compatible endpoint, or, in the embedded
default, the bundled model behind the local adapter in this process. Its replies are cached in
the database (evaluators/judge/cache.py), keyed by judge model, prompt version, messages and
parameters. Each sample keeps the judge's rationale for the model page.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.bundled_data import bundle_dir, read_jsonl
from benchmarks.results import MetricValue
from benchmarks.spec import BenchmarkSpec
from benchmarks.target import PermanentRunError

SCORED_BY = "evalboard-judge"
LOCAL_JUDGE = "bundled:smollm2-135m-instruct"  # the embedded default's judge
BOOTSTRAP_RESAMPLES = 200


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


@contextmanager
def open_judge(setup: JudgeSetup, cache_dir: Path) -> Iterator[Any]:
    """A JudgeClient for the run; the local adapter (when no endpoint is configured) lives as long
    as the block."""
    from evaluators.judge.client import JudgeClient, JudgeEndpoint

    if setup.endpoint is not None:
        yield JudgeClient(setup.endpoint, setup.cache)
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
        endpoint = JudgeEndpoint(
            base_url=url, model=setup.local_model, concurrency=16, max_tokens=setup.max_tokens
        )
        yield JudgeClient(endpoint, setup.cache)


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


# --- benchmarks ----------------------------------------------------------------------------------


def load_items(spec: BenchmarkSpec, limit: int | None) -> list[dict[str, Any]]:
    assert spec.judge is not None
    items = read_jsonl(bundle_dir(spec.judge.bundle) / "test.jsonl")
    return items[:limit] if limit else items


def _bootstrap_lc(outcomes: list[float], differences: list[float]) -> float | None:
    """Standard error of the length-controlled win rate: items resampled with a fixed seed."""
    from evaluators.judge.pairwise import length_controlled_win_rate

    if len(outcomes) < 2:
        return None
    rng = random.Random(1234)
    values = []
    for _ in range(BOOTSTRAP_RESAMPLES):
        picks = [rng.randrange(len(outcomes)) for _ in outcomes]
        value = length_controlled_win_rate([outcomes[p] for p in picks], [differences[p] for p in picks])
        if value is not None:
            values.append(value)
    mean = sum(values) / len(values)
    return (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5


def run_judged(
    spec: BenchmarkSpec,
    lm: Any,
    client: Any,
    setup: JudgeSetup,
    *,
    use_chat_template: bool,
    limit: int | None,
    max_gen_toks: int | None,
    provenance: dict[str, Any],
) -> tuple[list[MetricValue], list[dict[str, Any]]]:
    """Answer, judge and score one judged benchmark: (metric rows, per-sample records)."""
    judge = spec.judge
    assert judge is not None
    items = load_items(spec, limit)
    length = max_gen_toks or judge.max_gen_toks
    stats_before = client.stats.as_dict()
    if judge.method == "single":
        rows, samples = _single(spec, lm, client, setup, items, use_chat_template, length)
    elif judge.method == "pairwise":
        rows, samples = _pairwise(spec, lm, client, setup, items, use_chat_template, length)
    else:
        raise ValueError(f"unknown judge method {judge.method!r}")
    after = client.stats.as_dict()
    stats = {k: v - stats_before[k] for k, v in after.items() if isinstance(v, int)}  # this benchmark's
    stats["cost_usd"] = client.endpoint.cost(stats["prompt_tokens"], stats["completion_tokens"])
    endpoint = client.endpoint
    record = {
        "method": judge.method,
        "judge_model": endpoint.model,
        "judge_endpoint": "local adapter (bundled model)" if setup.endpoint is None else endpoint.base_url,
        "use_logprobs": setup.use_logprobs,
        "answer_max_gen_toks": length,
        "usage": stats,
    }
    for row in rows:
        row.provenance = {**provenance, "judge": {**record, **row.provenance.get("judge", {})}}
    return rows, samples


def _row(spec: BenchmarkSpec, metric: str, value: float, stderr: float | None, n: int | None, primary: bool,
         task: str | None = None, judge: dict[str, Any] | None = None) -> MetricValue:  # fmt: skip
    return MetricValue(
        spec.name, task or spec.task, metric, value, stderr, n, primary, {"judge": judge or {}}
    )


def _single(
    spec: BenchmarkSpec, lm: Any, client: Any, setup: JudgeSetup, items: list[dict[str, Any]],
    use_chat_template: bool, max_gen_toks: int,
) -> tuple[list[MetricValue], list[dict[str, Any]]]:  # fmt: skip
    from evaluators.judge.single import Question, run_single

    assert spec.judge is not None
    questions = [Question.from_record(item) for item in items]
    answers, prompts = generate_conversations(
        lm, [list(q.turns) for q in questions], use_chat_template=use_chat_template, max_gen_toks=max_gen_toks
    )
    result = run_single(
        client, spec.judge.lang, questions, answers,
        penalize_non_korean=setup.penalize_non_korean, use_logprobs=setup.use_logprobs,
    )  # fmt: skip
    summary = {
        "prompt_version": result.prompt_version,
        "penalize_non_korean": result.penalize_non_korean,
        "graded_turns": len(result.ratings()),
        "unparseable": result.unparseable,
        "failed": result.failed,
        "recovered_by_follow_up": result.recovered,
        "penalized": result.penalized,
        "by_category": result.by_category(),
        "scale": "mean rating (1-10) / 10",
    }
    corpus = result.corpus()
    if corpus is None:
        raise PermanentRunError(
            f"{spec.name}: the judge rated none of {sum(len(q.turns) for q in questions)} answers "
            f"({result.unparseable} replies had no rating, {result.failed} calls failed); "
            "check the judge endpoint and model"
        )
    rows = [
        _row(
            spec,
            "mt_bench",
            corpus.value / 10,
            _tenth(corpus.stderr),
            len(result.ratings()),
            True,
            judge=summary,
        )
    ]
    for turn in range(max(len(q.turns) for q in questions)):
        score = result.corpus(turn)
        if score is not None:
            rows.append(
                _row(
                    spec,
                    f"turn_{turn + 1}",
                    score.value / 10,
                    _tenth(score.stderr),
                    len(result.ratings(turn)),
                    False,
                )
            )
    for category, value in result.by_category().items():
        rows.append(_row(spec, "mt_bench", value / 10, None, None, False, task=f"{spec.task}:{category}"))
    samples = []
    for index, (question, grades) in enumerate(zip(questions, result.grades, strict=True)):
        ratings = [g.rating for g in grades if g.rating is not None]
        samples.append({
            "doc_id": index,
            "doc": items[index],
            "arguments": [[prompts[index][-1], {"max_gen_toks": max_gen_toks}]],
            "filtered_resps": ["\n\n".join(f"[{t + 1}] {a}" for t, a in enumerate(answers[index]))],
            "target": "\n\n".join(f"[{t + 1}] {r}" for t, r in enumerate(question.references)),
            "rating": sum(ratings) / len(ratings) if ratings else None,
            "metrics": ["rating"],
            "scored_by": SCORED_BY,
            "judge": [g.as_dict() for g in grades],
            "judge_rationale": "\n\n".join(f"[{t + 1}] {_grade_text(g)}" for t, g in enumerate(grades)),
        })  # fmt: skip
    return rows, samples


def _tenth(value: float | None) -> float | None:
    return None if value is None else value / 10


def _grade_text(grade: Any) -> str:
    """'rating 7 (reply)' and the judge's reply, for the model page."""
    rating = "no rating" if grade.rating is None else f"rating {grade.rating:g}"
    penalty = ", not Korean: lowest rating" if grade.penalized else ""
    return f"{rating} ({grade.source}{penalty})\n{grade.rationale}"


def _pairwise(
    spec: BenchmarkSpec, lm: Any, client: Any, setup: JudgeSetup, items: list[dict[str, Any]],
    use_chat_template: bool, max_gen_toks: int,
) -> tuple[list[MetricValue], list[dict[str, Any]]]:  # fmt: skip
    from evaluators.judge.pairwise import run_pairwise

    assert spec.judge is not None
    instructions = [str(item["instruction"]) for item in items]
    references = [str(item["output"]) for item in items]
    answers, prompts = generate_conversations(
        lm, [[i] for i in instructions], use_chat_template=use_chat_template, max_gen_toks=max_gen_toks
    )
    outputs = [a[0] for a in answers]
    result = run_pairwise(
        client, spec.judge.lang, instructions, outputs, references, use_logprobs=setup.use_logprobs
    )
    win = result.win_rate()
    lc = result.length_controlled()
    if win is None or lc is None:
        raise PermanentRunError(
            f"{spec.name}: the judge gave no verdict on any of {len(items)} pairs "
            f"({result.unjudged} unjudged); check the judge endpoint and model"
        )
    judged = [
        (o, d) for o, d in zip(result.outcomes, result.length_differences, strict=True) if o is not None
    ]
    summary = {
        "prompt_version": result.prompt_version,
        "reference_generator": items[0].get("generator"),
        "judged": len(judged),
        "unjudged": result.unjudged,
        "recovered_by_follow_up": result.recovered,
        "wins": sum(o == 1.0 for o, _ in judged),
        "ties": sum(o == 0.5 for o, _ in judged),
        "losses": sum(o == 0.0 for o, _ in judged),
        "mean_length_difference_chars": sum(d for _, d in judged) / len(judged),
        "lc_stderr": f"bootstrap over items, {BOOTSTRAP_RESAMPLES} resamples, seed 1234",
    }
    lc_stderr = _bootstrap_lc([o for o, _ in judged], [d for _, d in judged])
    rows = [
        _row(spec, "lc_win_rate", lc, lc_stderr, len(judged), True, judge=summary),
        _row(spec, "win_rate", win.value, win.stderr, len(judged), False),
    ]
    samples = []
    for index, item in enumerate(items):
        first, second = result.verdicts[index]
        samples.append({
            "doc_id": index,
            "doc": item,
            "arguments": [[prompts[index][0], {"max_gen_toks": max_gen_toks}]],
            "filtered_resps": [outputs[index]],
            "target": references[index],
            "outcome": result.outcomes[index],
            "metrics": ["outcome"],
            "scored_by": SCORED_BY,
            "judge": {"verdict_model_first": first, "verdict_model_second": second,
                      "rationales": list(result.rationales[index])},
            "judge_rationale": (
                f"[model's answer as A] verdict {first or 'none'}\n{result.rationales[index][0]}\n\n"
                f"[model's answer as B] verdict {second or 'none'}\n{result.rationales[index][1]}"
            ),
        })  # fmt: skip
    return rows, samples


# --- the suite's judged part ---------------------------------------------------------------------


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="seconds")


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
) -> None:
    """run_suite's judged benchmarks (PlannedBenchmark items): answer with the model for each
    item's backend (`model_for(backend)` -> LoadedModel, loaded once per suite), judge with one
    client for all of them, append metric rows to `outcome` and samples to `samples_file`."""
    import json
    import platform
    from importlib.metadata import version

    from benchmarks.backends.weights import chat_template_hash
    from benchmarks.response_cache import cache_prefix, model_identity

    report(done, "loading judge")
    with open_judge(setup, cache_dir) as client:
        for position, item in enumerate(planned):
            spec = item.spec
            loaded = model_for(item.backend)
            outcome.model_args = outcome.model_args or loaded.args
            identity = model_identity(loaded.commit, loaded.backend, loaded.args, target.use_chat_template)
            lm = loaded.lm
            if response_cache_dir is not None:  # the same file simple_evaluate uses for this model
                from lm_eval.api.model import CachingLM

                lm = CachingLM(lm, f"{cache_prefix(response_cache_dir, identity)}_rank0.db")
            report(done + (1 - done) * position / len(planned), f"{spec.name} · answering and judging")
            calls_before = getattr(loaded.lm, "model_calls", 0)
            started = _now()
            provenance = {
                "task": item.task,
                "benchmark_version": spec.version,
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
            rows, samples = run_judged(
                spec, lm, client, setup, use_chat_template=target.use_chat_template, limit=limit,
                max_gen_toks=max_gen_toks, provenance=provenance,
            )  # fmt: skip
            calls = getattr(loaded.lm, "model_calls", 0) - calls_before if loaded.counts_calls else None
            finished = _now()
            for row in rows:
                row.provenance.update(
                    started_at=started,
                    finished_at=finished,
                    response_cache={"model_identity": identity, "model_calls_in_call": calls}
                    if response_cache_dir is not None
                    else None,
                )
            outcome.metrics.extend(rows)
            if calls is not None:
                outcome.model_calls = (outcome.model_calls or 0) + calls
            for sample in samples:
                record = {"benchmark": spec.name, "task": item.task, **sample}
                samples_file.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
