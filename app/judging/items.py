"""The items of a judge file (POST /api/v1/judge, `evalboard judge`): JSON Lines, one object a line,
in the shape its method reads. Light: the API process parses and bounds files here, the worker and
the command line grade them with harness/judge_file.py.

    pairwise  {"instruction", "output_a", "output_b"}          -> verdict, judged in both orders
    single    {"question", "answer", "reference"?, "category"?} -> rating 1-10 (against the reference if any)
    geval     {"source", "summary"}                             -> coherence, consistency, fluency, relevance

Every method also takes an optional "id" (text or a number), echoed in the results. Problems are
reported all at once (up to MAX_PROBLEMS), each naming its line and field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

JUDGE_JOB_KIND = "judge"  # the queue's job kind (app/worker/judge_jobs.py); it counts in the weekly quota
RESULT_KEY = "result"  # where the worker stores the results document in the job's payload
METHODS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {  # method -> (required, optional) fields
    "pairwise": (("instruction", "output_a", "output_b"), ()),
    "single": (("question", "answer"), ("reference", "category")),
    "geval": (("source", "summary"), ()),
}
# Fields that must say something: an answer or output may be empty (a model that said nothing is
# still graded), the text it answers may not.
NON_EMPTY = frozenset({"instruction", "question", "source"})
LANGS = ("ko", "en")
MAX_TEXT_CHARS = 8_000  # per field: the judge reads two or three of them in one prompt
MAX_PROBLEMS = 20


class JudgeFileError(ValueError):
    """A file that cannot be graded; `too_large` marks a bound (413) rather than a format problem (422)."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


@dataclass(frozen=True)
class JudgeFile:
    method: str
    lang: str
    items: list[dict[str, str]]


def check_options(method: str, lang: str) -> None:
    if method not in METHODS:
        raise JudgeFileError(f"unknown method {method!r}: use one of {', '.join(METHODS)}")
    if lang not in LANGS:
        raise JudgeFileError(f"unknown lang {lang!r}: use ko or en (the language of the judge's prompts)")


def decode(data: bytes, *, max_bytes: int | None = None) -> str:
    if max_bytes is not None and len(data) > max_bytes:
        raise JudgeFileError(
            f"the file is {len(data):,} bytes, over this server's limit of {max_bytes:,} "
            "(EVALBOARD_JUDGE_FILE_MAX_BYTES): split it into smaller files",
            too_large=True,
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise JudgeFileError(f"the file is not UTF-8 text (byte {exc.start}): save it as UTF-8") from None


def _item(record: Any, number: int, method: str, problems: list[str]) -> dict[str, str] | None:
    if not isinstance(record, dict):
        problems.append(f"line {number}: a JSON {type(record).__name__}, not an object")
        return None
    required, optional = METHODS[method]
    known = (*required, *optional, "id")
    item: dict[str, str] = {}
    for name in record:
        if name not in known:
            problems.append(f"line {number}: unknown field {name!r}; {method} items have {', '.join(known)}")
    for name in known:
        value = record.get(name)
        if value is None:
            if name in required:
                problems.append(f"line {number}: field {name!r} is missing")
            continue
        if name == "id" and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            problems.append(f"line {number}: field {name!r} must be text, not {type(value).__name__}")
        elif name in NON_EMPTY and not value.strip():
            problems.append(f"line {number}: field {name!r} is empty")
        elif len(value) > MAX_TEXT_CHARS:
            problems.append(
                f"line {number}: field {name!r} has {len(value):,} characters; at most {MAX_TEXT_CHARS:,}"
            )
        else:
            item[name] = value
    return item


def parse(data: bytes, method: str, lang: str, *, max_items: int | None = None,
          max_bytes: int | None = None) -> JudgeFile:  # fmt: skip
    """The file's items, or a JudgeFileError naming every line and field to fix."""
    check_options(method, lang)
    text = decode(data, max_bytes=max_bytes)
    items: list[dict[str, str]] = []
    problems: list[str] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue  # blank lines (and the newline ending the last line) hold no item
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: not JSON ({exc.msg}, column {exc.colno})")
            continue
        item = _item(record, number, method, problems)
        if item is not None:
            items.append(item)
        if max_items is not None and len(items) > max_items:
            raise JudgeFileError(
                f"the file has more than {max_items} items, this server's limit per job "
                "(EVALBOARD_JUDGE_FILE_MAX_ITEMS): split it into smaller files",
                too_large=True,
            )
    if problems:
        shown = "; ".join(problems[:MAX_PROBLEMS])
        more = f"; and {len(problems) - MAX_PROBLEMS} more" if len(problems) > MAX_PROBLEMS else ""
        raise JudgeFileError(f"{shown}{more}", too_large=all("characters; at most" in p for p in problems))
    if not items:
        raise JudgeFileError(f"the file has no items: write one {method} item per line as a JSON object")
    return JudgeFile(method, lang, items)
