"""Parse and validate an uploaded LoRA fine-tuning dataset (JSON Lines or one JSON array).

The API process runs this on upload, so it uses the standard library only. Every problem is a
DatasetError whose message names the line and says what to change; parsing stops at the first one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

ROLES = ("system", "user", "assistant")
MAX_EXAMPLES_SETTING = "EVALBOARD_FINETUNE_MAX_EXAMPLES"

Message = tuple[str, str]

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# JSON's own whitespace only: raw_decode does not skip any, and a wider set (str.strip) would step
# over characters the decoder then rejects with a less helpful message.
_JSON_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
_MAX_KEYS_SHOWN = 10

_JSONL_HINT = "each line must be one JSON object"
_ARRAY_HINT = "a file that starts with '[' must be one JSON array of objects"


@dataclass(frozen=True)
class Example:
    messages: tuple[Message, ...]  # (role, content); roles: system | user | assistant
    line: int  # 1-based line in the uploaded file where the record starts

    def text(self) -> str:
        """Every message's content, for the contamination check against benchmark items."""
        return "\n".join(content for _, content in self.messages)


class DatasetError(ValueError):
    """A message that tells the user what to change; always names the line where applicable."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line is not None else message)
        self.line = line


def parse_examples(raw: bytes, *, max_examples: int | None = None) -> list[Example]:
    """The uploaded file's examples in file order, or a DatasetError for the first problem."""
    text = _decode(raw)
    start = _skip_space(text, 0)
    is_array = start < len(text) and text[start] == "["
    records = _array_records(text, start) if is_array else _jsonl_records(text)
    examples = []
    # One pass in file order, so the error reported is the first one in the file, syntax or schema.
    for line, record in records:
        try:
            examples.append(Example(messages=_record_messages(record), line=line))
        except DatasetError as err:
            raise DatasetError(str(err), line) from None
    if not examples:
        raise DatasetError(
            "the dataset has no examples; upload at least one instruction/output record "
            "or messages conversation"
        )
    if max_examples is not None and len(examples) > max_examples:
        raise DatasetError(
            f"the dataset has {len(examples)} examples; this server accepts at most {max_examples} "
            f"({MAX_EXAMPLES_SETTING})"
        )
    return examples


def alpaca_messages(record: dict[str, object]) -> tuple[Message, ...]:
    """An Alpaca record (instruction, optional input and system, output) as chat messages.

    Raises DatasetError without a line number; parse_examples adds it.
    """
    instruction = _required_text(record, "instruction")
    extra = _optional_text(record, "input")
    system = _optional_text(record, "system")
    output = _required_text(record, "output")
    prompt = f"{instruction}\n\n{extra}" if extra else instruction
    messages: list[Message] = [("system", system)] if system else []
    return (*messages, ("user", prompt), ("assistant", output))


def chat_messages(record: dict[str, object]) -> tuple[Message, ...]:
    """A chat record's "messages", checked: known roles, a user turn, an assistant answer last.

    Raises DatasetError without a line number; parse_examples adds it.
    """
    items = record.get("messages")
    if not isinstance(items, list) or not items:
        raise DatasetError('"messages" must be a non-empty list of {"role": ..., "content": ...} objects')
    messages: list[Message] = []
    for index, item in enumerate(items):
        where = f"messages[{index}]"
        if not isinstance(item, dict):
            raise DatasetError(f'{where} must be an object with "role" and "content", found {_kind(item)}')
        role = item.get("role")
        if role not in ROLES:
            raise DatasetError(
                f"{where}.role must be one of {', '.join(ROLES)} (found {_found(item, 'role')})"
            )
        content = item.get("content")
        if not isinstance(content, str):
            raise DatasetError(f"{where}.content must be a string (found {_found(item, 'content')})")
        messages.append((str(role), content))
    if not any(role == "user" for role, _ in messages):
        raise DatasetError('"messages" has no user message; add the prompt as {"role": "user", ...}')
    last_role, last_content = messages[-1]
    if last_role != "assistant":
        raise DatasetError(
            f"the last message must be from the assistant (found {last_role!r}); "
            "end each conversation with the answer to train on"
        )
    if not last_content.strip():
        raise DatasetError(
            f"messages[{len(messages) - 1}].content must be non-empty: it is the answer to train on"
        )
    return tuple(messages)


def _record_messages(record: object) -> tuple[Message, ...]:
    if not isinstance(record, dict):
        raise DatasetError(f"expected a JSON object, found {_kind(record)}")
    is_chat = "messages" in record
    is_alpaca = "instruction" in record or "output" in record
    if is_chat and is_alpaca:
        raise DatasetError(
            'found both "messages" and "instruction"/"output"; use one style per record, '
            "since either could be the one to train on"
        )
    if is_chat:
        return chat_messages(record)
    if is_alpaca:
        return alpaca_messages(record)
    keys = [str(key) for key in record]
    shown = ", ".join(keys[:_MAX_KEYS_SHOWN]) + (", ..." if len(keys) > _MAX_KEYS_SHOWN else "")
    raise DatasetError(
        'expected "instruction" and "output" (Alpaca style) or "messages" (chat style); '
        f"found keys: {shown or 'none'}"
    )


def _required_text(record: dict[str, object], key: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value.strip():
        raise DatasetError(f'"{key}" must be a non-empty string (found {_found(record, key)})')
    return value


def _optional_text(record: dict[str, object], key: str) -> str:
    # null counts as absent: table exporters (pandas to_json among them) write it for empty cells.
    value = record.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DatasetError(f'"{key}" must be a string when present (found {_kind(value)})')
    return value


def _decode(raw: bytes) -> str:
    if raw.startswith(_UTF16_BOMS):
        raise DatasetError("the dataset is UTF-16 text; save it as UTF-8")
    offset = len(_UTF8_BOM) if raw.startswith(_UTF8_BOM) else 0
    try:
        return raw[offset:].decode("utf-8")
    except UnicodeDecodeError as err:
        position = offset + err.start
        line = raw.count(b"\n", 0, position) + 1
        raise DatasetError(
            f"the dataset is not UTF-8 text (line {line}, byte {position + 1}); save it as UTF-8"
        ) from None


def _jsonl_records(text: str) -> Iterator[tuple[int, object]]:
    # split("\n"), not splitlines(): JSON strings may hold U+2028 and similar characters unescaped, and
    # splitlines() would break a record there and miscount every line after it.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as err:
            raise DatasetError(
                f"not valid JSON ({err.msg} at column {err.colno}); {_JSONL_HINT}", number
            ) from None
        except (ValueError, RecursionError) as err:  # integers too long, nesting too deep
            raise DatasetError(f"not valid JSON ({_short(err)}); {_JSONL_HINT}", number) from None


def _array_records(text: str, start: int) -> Iterator[tuple[int, object]]:
    """Each element of the top-level array with the line it starts on."""
    index = _skip_space(text, start + 1)
    if text.startswith("]", index):
        _check_array_end(text, index)
        return
    while True:
        line = _line_at(text, index)
        try:
            value, index = _DECODER.raw_decode(text, index)
        except json.JSONDecodeError as err:
            # raw_decode reports positions in the whole text, so lineno is the file's line.
            message = f"not valid JSON ({err.msg} at column {err.colno}); {_ARRAY_HINT}"
            raise DatasetError(message, err.lineno) from None
        except (ValueError, RecursionError) as err:
            raise DatasetError(f"not valid JSON ({_short(err)}); {_ARRAY_HINT}", line) from None
        yield line, value
        index = _skip_space(text, index)
        if text.startswith(",", index):
            index = _skip_space(text, index + 1)
        elif text.startswith("]", index):
            _check_array_end(text, index)
            return
        else:
            problem = "the array is not closed; add ']'" if index >= len(text) else "Expecting ',' delimiter"
            raise DatasetError(
                f"not valid JSON ({problem} at column {_column_at(text, index)}); {_ARRAY_HINT}",
                _line_at(text, index),
            )


def _check_array_end(text: str, index: int) -> None:
    """Nothing but whitespace may follow the closing bracket (if more follows, it was JSON Lines)."""
    rest = _skip_space(text, index + 1)
    if rest < len(text):
        raise DatasetError(f"unexpected text after the JSON array ends; {_ARRAY_HINT}", _line_at(text, rest))


def _skip_space(text: str, index: int) -> int:
    match = _JSON_SPACE.match(text, index)
    return match.end() if match else index


def _line_at(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _column_at(text: str, index: int) -> int:
    return index - text.rfind("\n", 0, index)


def _found(record: dict[str, object], key: str) -> str:
    """What the record holds under key, for "(found ...)": a string quoted, anything else by type."""
    if key not in record:
        return "nothing"
    value = record[key]
    if isinstance(value, str) and value.strip():
        return repr(value[:40] + "..." if len(value) > 40 else value)
    return _kind(value)


def _kind(value: object) -> str:
    """A JSON value's type in the user's words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string" if value.strip() else "an empty string" if not value else "only whitespace"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _short(err: BaseException) -> str:
    return str(err).split(";")[0][:120] or type(err).__name__
