"""Fine-tune dataset parsing: both formats, both record styles, and one clear message per problem."""

from __future__ import annotations

import json

import pytest

from app.finetune.dataset import DatasetError, Example, alpaca_messages, parse_examples


def jsonl(*records: object) -> bytes:
    return "\n".join(json.dumps(record, ensure_ascii=False) for record in records).encode()


def error_for(raw: bytes, **kwargs: int) -> DatasetError:
    with pytest.raises(DatasetError) as caught:
        parse_examples(raw, **kwargs)
    return caught.value


def test_alpaca_records_in_korean_and_english_round_trip_exactly() -> None:
    raw = jsonl(
        {
            "instruction": "다음 문장을 영어로 번역하세요.",
            "input": "오늘 날씨가 맑습니다.",
            "output": "It is sunny today.",
        },
        {"instruction": "한국의 수도는 어디인가요?", "input": "", "output": "서울입니다. 🇰🇷"},
        {"instruction": "Name a primary colour.", "output": "Red."},
        {"system": "당신은 친절한 도우미입니다.", "instruction": "인사해 주세요.", "output": "안녕하세요!"},
    )
    examples = parse_examples(raw)
    assert examples == [
        Example(
            messages=(
                ("user", "다음 문장을 영어로 번역하세요.\n\n오늘 날씨가 맑습니다."),
                ("assistant", "It is sunny today."),
            ),
            line=1,
        ),
        Example(messages=(("user", "한국의 수도는 어디인가요?"), ("assistant", "서울입니다. 🇰🇷")), line=2),
        Example(messages=(("user", "Name a primary colour."), ("assistant", "Red.")), line=3),
        Example(
            messages=(
                ("system", "당신은 친절한 도우미입니다."),
                ("user", "인사해 주세요."),
                ("assistant", "안녕하세요!"),
            ),
            line=4,
        ),
    ]
    assert examples[3].text() == "당신은 친절한 도우미입니다.\n인사해 주세요.\n안녕하세요!"


def test_alpaca_messages_keeps_whitespace_and_treats_null_input_as_absent() -> None:
    record: dict[str, object] = {"instruction": "  줄바꿈\n유지 ", "input": None, "output": "네\n"}
    assert alpaca_messages(record) == (("user", "  줄바꿈\n유지 "), ("assistant", "네\n"))


def test_chat_records_keep_every_turn_in_order() -> None:
    conversation = [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": "그리고 3+3은?"},
        {"role": "assistant", "content": "6입니다.", "weight": 1},
    ]
    [example] = parse_examples(jsonl({"messages": conversation, "id": "c1"}))
    assert example.line == 1
    assert example.messages == (
        ("system", "Answer briefly."),
        ("user", "2+2?"),
        ("assistant", "4"),
        ("user", "그리고 3+3은?"),
        ("assistant", "6입니다."),
    )
    assert example.text() == "Answer briefly.\n2+2?\n4\n그리고 3+3은?\n6입니다."


def test_json_array_reports_the_line_each_object_starts_on() -> None:
    raw = (
        "\n"
        "[\n"
        '  {"instruction": "첫 번째", "output": "하나"},\n'
        "  {\n"
        '    "instruction": "second",\n'
        '    "output": "two"\n'
        "  },\n"
        "\n"
        '  {"messages": [{"role": "user", "content": "세 번째"}, {"role": "assistant", "content": "셋"}]}\n'
        "]\n"
    ).encode()
    examples = parse_examples(raw)
    assert [example.line for example in examples] == [3, 4, 9]
    assert examples[0].messages == (("user", "첫 번째"), ("assistant", "하나"))
    assert examples[2].messages == (("user", "세 번째"), ("assistant", "셋"))


def test_utf8_bom_is_tolerated_in_both_formats() -> None:
    record = {"instruction": "안녕", "output": "하세요"}
    from_lines = parse_examples(b"\xef\xbb\xbf" + jsonl(record))
    from_array = parse_examples(b"\xef\xbb\xbf" + json.dumps([record], ensure_ascii=False).encode())
    expected = [Example(messages=(("user", "안녕"), ("assistant", "하세요")), line=1)]
    assert from_lines == expected
    assert from_array == expected


def test_blank_lines_are_skipped_and_later_lines_keep_their_numbers() -> None:
    first = json.dumps({"instruction": "a", "output": "b"})
    second = json.dumps({"instruction": "c", "output": "d"})
    raw = f"\n  \n{first}\r\n\t\n\n{second}\n\n".encode()
    assert [example.line for example in parse_examples(raw)] == [3, 6]


def test_line_separator_inside_a_string_does_not_split_the_record() -> None:
    raw = (
        json.dumps({"instruction": "a\u2028b", "output": "c"}, ensure_ascii=False)
        + "\n"
        + json.dumps({"instruction": "d", "output": "e"})
    ).encode()
    examples = parse_examples(raw)
    assert [example.line for example in examples] == [1, 2]
    assert examples[0].messages[0] == ("user", "a\u2028b")


def test_invalid_json_names_the_line_column_and_decoder_message() -> None:
    raw = jsonl({"instruction": "a", "output": "b"}) + b'\n\n\n{"instruction": "x" "output": "y"}\n'
    message = str(error_for(raw))
    assert message == (
        "line 4: not valid JSON (Expecting ',' delimiter at column 21); each line must be one JSON object"
    )


def test_invalid_json_inside_an_array_names_the_file_line() -> None:
    raw = b'[\n  {"instruction": "a", "output": "b"},\n  {"instruction": "c", "output": }\n]'
    error = error_for(raw)
    assert error.line == 3
    assert str(error).startswith("line 3: not valid JSON (Expecting value at column 34)")


def test_missing_comma_between_array_elements_names_the_line() -> None:
    raw = b'[\n  {"instruction": "a", "output": "b"}\n  {"instruction": "c", "output": "d"}\n]'
    assert str(error_for(raw)).startswith("line 3: not valid JSON (Expecting ',' delimiter at column 3)")


def test_text_after_the_array_names_the_line() -> None:
    raw = b'[{"instruction": "a", "output": "b"}]\n{"instruction": "c", "output": "d"}\n'
    assert str(error_for(raw)).startswith("line 2: unexpected text after the JSON array ends")


def test_a_record_that_is_not_an_object_names_the_line_and_type() -> None:
    raw = jsonl({"instruction": "a", "output": "b"}, ["instruction", "output"])
    assert str(error_for(raw)) == "line 2: expected a JSON object, found a list"
    array = b'[\n{"instruction": "a", "output": "b"},\n"just text"\n]'
    assert str(error_for(array)) == "line 3: expected a JSON object, found a string"


def test_unknown_keys_are_listed_in_file_order() -> None:
    raw = jsonl({"instruction": "y", "output": "x"}) + b"\n\n" + jsonl({"question": "q", "answer": "a"})
    assert str(error_for(raw)) == (
        'line 3: expected "instruction" and "output" (Alpaca style) or "messages" (chat style); '
        "found keys: question, answer"
    )


def test_an_empty_object_says_no_keys_were_found() -> None:
    assert str(error_for(b"{}")).endswith("found keys: none")


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"instruction": "q", "output": ""}, '"output" must be a non-empty string (found an empty string)'),
        (
            {"instruction": "q", "output": "  \n"},
            '"output" must be a non-empty string (found only whitespace)',
        ),
        ({"instruction": "q"}, '"output" must be a non-empty string (found nothing)'),
        ({"instruction": 3, "output": "a"}, '"instruction" must be a non-empty string (found a number)'),
        ({"output": "a"}, '"instruction" must be a non-empty string (found nothing)'),
        ({"instruction": "q", "input": ["x"], "output": "a"}, '"input" must be a string when present'),
        ({"instruction": "q", "system": False, "output": "a"}, '"system" must be a string when present'),
    ],
)
def test_alpaca_field_problems_name_the_line_and_field(record: dict[str, object], expected: str) -> None:
    raw = (
        jsonl({"instruction": "ok", "output": "ok"}, {"instruction": "ok", "output": "ok"})
        + b"\n\n"
        + jsonl(record)
    )
    error = error_for(raw)
    assert error.line == 4
    assert str(error).startswith(f"line 4: {expected}")


def chat(*turns: object) -> dict[str, object]:
    return {"messages": list(turns)}


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (
            chat({"role": "user", "content": "hi"}, {"role": "bot", "content": "hello"}),
            "messages[1].role must be one of system, user, assistant (found 'bot')",
        ),
        (
            chat({"content": "hi"}, {"role": "assistant", "content": "hello"}),
            "messages[0].role must be one of system, user, assistant (found nothing)",
        ),
        (
            chat({"role": "user", "content": None}, {"role": "assistant", "content": "a"}),
            "messages[0].content must be a string (found null)",
        ),
        (
            chat({"role": "user", "content": "q"}, "answer"),
            'messages[1] must be an object with "role" and "content"',
        ),
        ({"messages": []}, '"messages" must be a non-empty list'),
        ({"messages": "user: hi"}, '"messages" must be a non-empty list'),
        (
            chat({"role": "system", "content": "s"}, {"role": "assistant", "content": "a"}),
            '"messages" has no user message',
        ),
        (
            chat(
                {"role": "user", "content": "q"},
                {"role": "assistant", "content": "a"},
                {"role": "user", "content": "q2"},
            ),
            "the last message must be from the assistant (found 'user')",
        ),
        (
            chat({"role": "user", "content": "q"}, {"role": "assistant", "content": " "}),
            "messages[1].content must be non-empty",
        ),
        (
            {"messages": [{"role": "user", "content": "q"}], "instruction": "q", "output": "a"},
            'found both "messages" and "instruction"/"output"',
        ),
    ],
)
def test_chat_problems_name_the_line_and_the_message(record: dict[str, object], expected: str) -> None:
    raw = b"\n" * 6 + jsonl(record)
    error = error_for(raw)
    assert error.line == 7
    assert str(error).startswith(f"line 7: {expected}")


def test_not_utf8_names_the_byte_and_line() -> None:
    raw = jsonl({"instruction": "a", "output": "b"}) + b'\n{"instruction": "caf\xe9", "output": "b"}\n'
    message = str(error_for(raw))
    position = raw.index(b"\xe9") + 1
    assert message == f"the dataset is not UTF-8 text (line 2, byte {position}); save it as UTF-8"


def test_not_utf8_after_a_bom_counts_the_bom_bytes() -> None:
    raw = b"\xef\xbb\xbf" + b'{"instruction": "\xff", "output": "b"}'
    assert str(error_for(raw)) == "the dataset is not UTF-8 text (line 1, byte 21); save it as UTF-8"


def test_utf16_file_is_told_to_save_as_utf8() -> None:
    raw = '{"instruction": "a", "output": "b"}'.encode("utf-16")
    assert str(error_for(raw)) == "the dataset is UTF-16 text; save it as UTF-8"


@pytest.mark.parametrize("raw", [b"", b"\n  \n\t\n", b"[]", b"  [ \n ]\n", b"\xef\xbb\xbf\n"])
def test_empty_dataset_is_rejected(raw: bytes) -> None:
    error = error_for(raw)
    assert error.line is None
    assert str(error) == (
        "the dataset has no examples; upload at least one instruction/output record or messages conversation"
    )


def test_max_examples_is_enforced_with_the_setting_name() -> None:
    records = [{"instruction": f"q{i}", "output": f"a{i}"} for i in range(5)]
    assert len(parse_examples(jsonl(*records), max_examples=5)) == 5
    message = str(error_for(jsonl(*records), max_examples=4))
    assert message == (
        "the dataset has 5 examples; this server accepts at most 4 (EVALBOARD_FINETUNE_MAX_EXAMPLES)"
    )
    array = json.dumps(records).encode()
    assert str(error_for(array, max_examples=2)).startswith("the dataset has 5 examples;")


def test_the_first_error_in_file_order_is_reported() -> None:
    raw = jsonl({"instruction": "a", "output": "b"}, {"question": "q"}, {"instruction": "c", "output": ""})
    assert error_for(raw).line == 2
    raw = jsonl({"instruction": "a", "output": ""}) + b"\n{not json\n"
    assert str(error_for(raw)).startswith('line 1: "output" must be')
    raw = b"{not json\n" + jsonl({"instruction": "a", "output": ""})
    assert str(error_for(raw)).startswith("line 1: not valid JSON")


def test_very_deep_nesting_is_a_dataset_error() -> None:
    raw = b'{"instruction": "a", "output": "b"}\n' + b"[" * 100_000 + b"]" * 100_000
    error = error_for(raw)
    assert error.line == 2
    assert "not valid JSON" in str(error)
