"""Open LLM Leaderboard v2 normalization: 0 at the random baseline, 1 at a perfect score.

normalized = (x - b) / (1 - b), clipped at 0, where b is the subtask's chance level (1/n for an
n-way choice, 0 for generation). Each subtask is normalized first, then the normalized subtask
scores are averaged without weights, as the leaderboard does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def normalize(score: float, baseline: float) -> float:
    if not 0.0 <= baseline < 1.0:
        raise ValueError(f"a random baseline must be in [0, 1), got {baseline}")
    return max((score - baseline) / (1.0 - baseline), 0.0)


@dataclass(frozen=True)
class SubtaskScore:
    task: str
    raw: float
    stderr: float | None
    baseline: float

    @property
    def normalized(self) -> float:
        return normalize(self.raw, self.baseline)

    @property
    def normalized_stderr(self) -> float | None:
        """The linear map scales the standard error by 1 / (1 - b); a clipped score has none left."""
        if self.stderr is None:
            return None
        return 0.0 if self.normalized == 0.0 else self.stderr / (1.0 - self.baseline)


def normalized_mean(parts: list[SubtaskScore]) -> tuple[float, float | None]:
    """Unweighted mean of normalized subtask scores, with the standard error of that mean
    (subtasks are independent samples)."""
    if not parts:
        raise ValueError("no subtask scores to normalize")
    value = sum(part.normalized for part in parts) / len(parts)
    errors = [part.normalized_stderr for part in parts]
    if any(error is None for error in errors):
        return value, None
    return value, math.sqrt(sum(error * error for error in errors if error is not None)) / len(parts)
