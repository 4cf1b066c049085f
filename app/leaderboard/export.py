"""CSV export of board rows: one line per model, scores on lm-eval's 0-1 scale with their stderr.

The first bytes are a UTF-8 byte order mark so spreadsheet programs read Korean names correctly."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from app.leaderboard.schemas import LeaderboardRow
from benchmarks.spec import Suite

FIXED_COLUMNS = (
    "rank",
    "model",
    "reference",
    "type",
    "precision",
    "weight_type",
    "params_b",
    "licence",
    "flags",
    "average",
    "average_raw",
)
TRAILING_COLUMNS = ("data_source", "submitted_at", "evaluated_at", "model_id", "request_id")


def header(suite: Suite) -> list[str]:
    per_benchmark = [f"{spec.name}{suffix}" for spec in suite.benchmarks for suffix in ("", "_stderr")]
    return [*FIXED_COLUMNS, *per_benchmark, *TRAILING_COLUMNS]


def _line(values: list[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(["" if v is None else v for v in values])
    return buffer.getvalue()


# Spreadsheets run a cell that starts with one of these as a formula; model names are anyone's text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """The text as a spreadsheet shows it, never run: a leading quote before a formula start."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_lines(rows: Iterable[LeaderboardRow], suite: Suite) -> Iterator[str]:
    yield "\ufeff" + _line(list(header(suite)))
    for row in rows:
        scores: list[object] = []
        for spec in suite.benchmarks:
            score = row.scores.get(spec.name)
            scores += [score.value, score.stderr] if score else [None, None]
        yield _line(
            [
                row.rank,
                spreadsheet_safe(row.model),
                spreadsheet_safe(row.reference),
                row.kind,
                row.precision,
                row.weight_type,
                row.params_b,
                spreadsheet_safe(row.licence or ""),
                ";".join(row.flags),
                row.average,
                row.average_raw,
                *scores,
                row.data_source,
                row.submitted_at.isoformat(),
                row.evaluated_at.isoformat() if row.evaluated_at else None,
                row.model_id,
                row.request_id,
            ]
        )
