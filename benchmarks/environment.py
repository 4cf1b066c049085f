"""Process environment for a run: where hub datasets are cached and NLTK finds its data.

Set before lm-eval and `datasets` are imported (they read these at import time); the worker's
child process and `evalboard eval` both call this first.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

FALLBACK_NLTK_DATA = Path(__file__).resolve().parent / "nltk_data"


def prepare_environment(datasets_dir: Path, *, offline: bool) -> None:
    datasets_dir.mkdir(parents=True, exist_ok=True)
    # `evalboard datasets pull` saves into the same cache the run reads.
    os.environ.setdefault("HF_DATASETS_CACHE", str(datasets_dir / "hf"))
    if offline:
        # Every dataset this run needs is bundled or saved: never wait on the network.
        os.environ["HF_DATASETS_OFFLINE"] = "1"
    _apply_to_imported_datasets(offline)
    real_nltk = datasets_dir / "nltk_data"  # NLTK's own punkt_tab, saved by `datasets pull`
    paths = [str(real_nltk), str(FALLBACK_NLTK_DATA)]
    existing = [p for p in os.environ.get("NLTK_DATA", "").split(os.pathsep) if p and p not in paths]
    os.environ["NLTK_DATA"] = os.pathsep.join([*existing, *paths])


def nltk_punkt_source(datasets_dir: Path) -> str:
    """Which punkt_tab model IFEval's sentence counts used: NLTK's real one or our fallback."""
    return "nltk" if (datasets_dir / "nltk_data" / "tokenizers" / "punkt_tab").is_dir() else "fallback"


def _apply_to_imported_datasets(offline: bool) -> None:
    """`datasets` reads these variables once, at import. A process that imported it earlier (a
    fine-tune: transformers' Trainer imports it) would otherwise read the default cache and ask the
    hub for datasets saved here."""
    config = sys.modules.get("datasets.config")
    if config is None:
        return
    setattr(config, "HF_DATASETS_CACHE", Path(os.environ["HF_DATASETS_CACHE"]).expanduser())  # noqa: B010
    if offline:
        setattr(config, "HF_HUB_OFFLINE", True)  # noqa: B010
        setattr(config, "HF_DATASETS_OFFLINE", True)  # noqa: B010
