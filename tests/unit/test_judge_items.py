"""A judge file (app/judging/items.py): JSON Lines in each method's shape, every problem named by
its line and field, bounds reported as too large rather than malformed."""

from __future__ import annotations

import json
import re

import pytest

from app.judging.items import MAX_TEXT_CHARS, JudgeFileError, parse


def lines(*records: object) -> bytes:
    return "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records).encode()


def test_items_keep_their_fields_and_ids_become_text() -> None:
    data = lines(
        {"question": "서울은 어느 나라의 수도인가?", "answer": "대한민국", "reference": "대한민국", "id": 7},
        "",  # a blank line holds no item
        {"question": "2+2?", "answer": ""},  # an empty answer is still graded
    )
    parsed = parse(b"\xef\xbb\xbf" + data + b"\n", "single", "ko")  # a byte order mark is fine
    assert parsed.items == [
        {
            "question": "서울은 어느 나라의 수도인가?",
            "answer": "대한민국",
            "reference": "대한민국",
            "id": "7",
        },
        {"question": "2+2?", "answer": ""},
    ]


def test_every_problem_names_its_line_and_field() -> None:
    data = lines(
        {"instruction": "a", "output_a": "b", "output_b": "c"},
        {"instruction": "a", "output_a": "b"},
        '{"instruction": "a", "output_a": "b", "output_b": ',
        {"instruction": "  ", "output_a": 3, "output_b": "c", "ouput_b": "typo"},
        ["not", "an", "object"],
    )
    with pytest.raises(JudgeFileError) as caught:
        parse(data, "pairwise", "en")
    message = str(caught.value)
    assert "line 2: field 'output_b' is missing" in message
    assert "line 3: not JSON (Expecting value, column 51)" in message
    assert (
        "line 4: unknown field 'ouput_b'; pairwise items have instruction, output_a, output_b, id" in message
    )
    assert (
        "line 4: field 'instruction' is empty" in message
        and "line 4: field 'output_a' must be text, not int" in message
    )
    assert "line 5: a JSON list, not an object" in message
    assert "line 1" not in message and not caught.value.too_large


def test_bounds_are_too_large_and_say_what_to_change() -> None:
    long_text = {"source": "가" * (MAX_TEXT_CHARS + 1), "summary": "요약"}
    with pytest.raises(
        JudgeFileError, match=f"line 1: field 'source' has 8,001 characters; at most {MAX_TEXT_CHARS:,}"
    ) as caught:
        parse(lines(long_text), "geval", "ko")
    assert caught.value.too_large
    many = lines(*[{"source": "s", "summary": "t"}] * 4)
    with pytest.raises(JudgeFileError, match="more than 3 items.*EVALBOARD_JUDGE_FILE_MAX_ITEMS") as caught:
        parse(many, "geval", "ko", max_items=3)
    assert caught.value.too_large
    with pytest.raises(
        JudgeFileError, match="over this server's limit of 10 .*EVALBOARD_JUDGE_FILE_MAX_BYTES"
    ):
        parse(many, "geval", "ko", max_bytes=10)


@pytest.mark.parametrize(
    ("data", "method", "lang", "message"),
    [
        (b"", "geval", "ko", "the file has no items: write one geval item per line"),
        (b"\xff\xfe{}", "geval", "ko", "not UTF-8 text (byte 0): save it as UTF-8"),
        (b"{}", "rank", "ko", "unknown method 'rank': use one of pairwise, single, geval"),
        (b"{}", "geval", "ja", "unknown lang 'ja': use ko or en"),
    ],
)
def test_files_that_cannot_be_graded(data: bytes, method: str, lang: str, message: str) -> None:
    with pytest.raises(JudgeFileError, match=re.escape(message)):
        parse(data, method, lang)
