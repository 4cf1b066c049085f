"""End-to-end fixtures: the bundled model converted once; processes cleaned up after each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.procs import Proc

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def procs(request: pytest.FixtureRequest, converted_model_dir: Path) -> Iterator[list[Proc]]:
    """Processes a test starts; stopped afterwards, their logs kept under test-artifacts/."""
    started: list[Proc] = []
    yield started
    ARTIFACTS.mkdir(exist_ok=True)
    for index, proc in enumerate(started):
        proc.stop()
        (ARTIFACTS / f"{request.node.name}-{index}.log").write_text(proc.log())
