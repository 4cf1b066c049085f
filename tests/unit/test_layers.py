"""The layers by weight hold where import-linter cannot look.

pyproject.toml's contracts (run by `make lint` and first by `make test`) check the import graph;
these check what the graph leaves out: what a fresh API process really loads (lazy imports and
third-party chains included), and the lm-eval task hooks under benchmarks/tasks/, which are files
lm-eval loads by path (no __init__.py, so no module of the graph).
"""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

HEAVY = ("torch", "transformers", "lm_eval", "vllm", "peft", "bert_score", "numpy")
WORKER_SIDE = ("harness", "training")


def loaded_by(code: str) -> list[str]:
    """Top-level packages among HEAVY and WORKER_SIDE in sys.modules after `code`, in a fresh
    interpreter started from the repository root."""
    probe = (
        f"{code}\nimport sys\n"
        f"print(sorted({{name.split('.')[0] for name in sys.modules}} & {set(HEAVY + WORKER_SIDE)!r}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120, check=True
    )
    return ast.literal_eval(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "start",
    [
        "from app.main import create_app\ncreate_app()",
        # What `evalboard serve` imports before it builds the app: the CLI and every command group.
        "import app.cli\nfrom app.main import create_app\ncreate_app()",
    ],
    ids=["app", "serve"],
)
def test_the_api_process_starts_without_the_worker_side_or_a_heavy_library(start: str) -> None:
    assert loaded_by(start) == []


def test_the_worker_side_is_what_brings_the_heavy_libraries() -> None:
    """The probe itself can see them: the harness's runner module plus one evaluation's imports."""
    loaded = loaded_by("import harness.runner, harness.response_cache")
    assert {"harness", "torch", "lm_eval"} <= set(loaded)


def test_the_task_hooks_import_only_the_light_packages() -> None:
    """benchmarks/tasks/**/*.py run inside lm-eval in the worker, but they belong to benchmarks/: an
    import of app, harness or training from there would be an upward import no contract sees."""
    hooks = sorted((REPO_ROOT / "benchmarks" / "tasks").rglob("*.py"))
    assert len(hooks) >= 5
    upward = []
    for hook in hooks:
        for node in ast.walk(ast.parse(hook.read_text(encoding="utf-8"))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            upward += [
                f"{hook.relative_to(REPO_ROOT)}: {name}"
                for name in names
                if name.split(".")[0] in {"app", *WORKER_SIDE}
            ]
    assert upward == []
