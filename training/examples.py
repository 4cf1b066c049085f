"""Training rows: token ids with the loss on the assistant's words only.

Each conversation is rendered once with the tokenizer's chat template (instruct models must see
the format they answer in). An assistant turn's characters are found by rendering the conversation
up to it with add_generation_prompt (where the reply starts) and up to its end; tokens whose
offsets fall inside are labelled, every other token gets -100. Templates that are not
prefix-stable cannot be split this way, so those conversations train on every token (counted in
`unmasked`). Models without a chat template get a plain Alpaca-style transcript.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

IGNORE = -100
PLAIN_ROLES = {"system": "", "user": "### Instruction:\n", "assistant": "### Response:\n"}


@dataclass
class TokenizedData:
    rows: list[tuple[list[int], list[int]]] = field(default_factory=list)  # (input_ids, labels)
    truncated: int = 0  # rows cut at max_seq_length
    dropped: int = 0  # rows with no answer token left after truncation
    unmasked: int = 0  # rows whose template could not be split: every token trained

    @property
    def tokens(self) -> int:
        return sum(len(ids) for ids, _ in self.rows)


def _plain(messages: Sequence[dict[str, str]], generation_prompt: bool) -> str:
    text = "".join(f"{PLAIN_ROLES[m['role']]}{m['content']}\n\n" for m in messages)
    return text + (PLAIN_ROLES["assistant"] if generation_prompt else "")


def render(tokenizer: Any, messages: Sequence[dict[str, str]], generation_prompt: bool = False) -> str:
    if getattr(tokenizer, "chat_template", None):
        return str(
            tokenizer.apply_chat_template(
                list(messages), tokenize=False, add_generation_prompt=generation_prompt
            )
        )
    return _plain(messages, generation_prompt)


def answer_spans(tokenizer: Any, messages: Sequence[dict[str, str]]) -> tuple[str, list[tuple[int, int]]]:
    """The rendered conversation and the character spans of its assistant turns ([] when the
    template is not prefix-stable)."""
    full = render(tokenizer, messages)
    spans: list[tuple[int, int]] = []
    for index, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        start_text = render(tokenizer, messages[:index], generation_prompt=True)
        end_text = render(tokenizer, messages[: index + 1])
        if not full.startswith(end_text) or not end_text.startswith(start_text):
            return full, []
        spans.append((len(start_text), len(end_text)))
    return full, spans


def tokenize(
    tokenizer: Any, conversations: Sequence[Sequence[dict[str, str]]], max_length: int
) -> TokenizedData:
    data = TokenizedData()
    eos = tokenizer.eos_token_id
    for messages in conversations:
        text, spans = answer_spans(tokenizer, messages)
        encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        ids: list[int] = list(encoded["input_ids"])
        if not getattr(tokenizer, "chat_template", None) and eos is not None:
            ids.append(eos)  # a plain transcript has no end-of-turn token: teach the model to stop
            offsets = [*encoded["offset_mapping"], (len(text), len(text))]
            spans = [(s, e + 1) for s, e in spans]
        else:
            offsets = list(encoded["offset_mapping"])
        if spans:
            labels = [
                token if any(s <= start < e for s, e in spans) else IGNORE
                for token, (start, _end) in zip(ids, offsets, strict=True)
            ]
        else:
            data.unmasked += 1
            labels = list(ids)
        if len(ids) > max_length:
            data.truncated += 1
            ids, labels = ids[:max_length], labels[:max_length]
        if all(label == IGNORE for label in labels[1:]):  # the first label is never predicted
            data.dropped += 1
            continue
        data.rows.append((ids, labels))
    return data


def pack(rows: list[tuple[list[int], list[int]]], length: int) -> list[tuple[list[int], list[int]]]:
    """Concatenate rows and cut them into rows of `length` tokens (the last one may be shorter).
    Attention crosses example boundaries, as in the common packed-dataset recipe; fewer pad tokens
    is the gain, so packing is opt-in."""
    ids = [token for row, _ in rows for token in row]
    labels = [label for _, row in rows for label in row]
    packed = [(ids[i : i + length], labels[i : i + length]) for i in range(0, len(ids), length)]
    return [row for row in packed if any(label != IGNORE for label in row[1][1:])]
