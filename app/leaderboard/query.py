"""What a board view asks for (filters, search, sort, page) and its SQL.

The page, `GET /api/v1/leaderboard` and the CSV / JSON exports all parse the same query parameters
into a BoardQuery, so a URL copied from the page exports exactly the rows it shows.

Search: `;` separates alternatives (union); inside one alternative every word must match (name or
reference, case-insensitive), and `@license:` `@precision:` `@type:` words match those fields.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, true
from sqlalchemy.orm import QueryableAttribute

from app.errors import InvalidInput
from app.leaderboard.entries import DATA_BOARDS
from app.tables import BoardCell, LeaderboardEntry
from benchmarks.spec import Suite

KINDS = ("pretrained", "continuously_pretrained", "fine_tuned", "chat", "merge", "adapter")
PRECISIONS = ("float32", "float16", "bfloat16", "8bit", "4bit", "gptq")
# Size presets in billions of parameters: (lower exclusive, upper inclusive).
SIZE_PRESETS: dict[str, tuple[float, float | None]] = {
    "0-3": (0.0, 3.0),
    "3-7": (3.0, 7.0),
    "7-65": (7.0, 65.0),
    "65+": (65.0, None),
}
VIEWS = ("normalized", "raw")
FIXED_SORTS = ("average", "name", "params", "submitted", "evaluated")
SEARCH_FIELDS = {"license": "licence", "licence": "licence", "precision": "precision", "type": "kind"}
MAX_LIMIT = 500


@dataclass
class BoardQuery:
    suite: str = "smoke"
    data: str = "hub"
    view: str = "normalized"
    kinds: list[str] = field(default_factory=list)
    precisions: list[str] = field(default_factory=list)
    sizes: list[str] = field(default_factory=list)
    min_params: float | None = None
    max_params: float | None = None
    search: str = ""
    hide_flagged: bool = False
    sort: str = "average"
    order: str = "desc"
    after: str | None = None
    limit: int = 50

    def filter_params(self) -> dict[str, Any]:
        """The query string of this view without its page: for links, exports and sort headers."""
        params: dict[str, Any] = {"suite": self.suite}
        if self.data != "hub":
            params["data"] = self.data
        if self.view != "normalized":
            params["view"] = self.view
        for key, values in (("type", self.kinds), ("precision", self.precisions), ("size", self.sizes)):
            if values:
                params[key] = ",".join(values)
        if self.min_params is not None:
            params["min_params"] = f"{self.min_params:.12g}"
        if self.max_params is not None:
            params["max_params"] = f"{self.max_params:.12g}"
        if self.search:
            params["q"] = self.search
        if self.hide_flagged:
            params["hide_flagged"] = "1"
        if (self.sort, self.order) != ("average", "desc"):
            params["sort"], params["order"] = self.sort, self.order
        return params


def parse(params: Mapping[str, Any] | Any, suite: Suite) -> BoardQuery:
    """A BoardQuery from query parameters (repeated keys or comma lists). Raises InvalidInput with the
    parameter at fault and what it accepts."""

    def values(key: str) -> list[str]:
        raw: Sequence[str] = params.getlist(key) if hasattr(params, "getlist") else _as_list(params.get(key))
        return [part.strip() for item in raw for part in str(item).split(",") if part.strip()]

    def one(key: str, default: str) -> str:
        found = values(key) if key != "q" else [str(params.get("q") or "")]
        return found[-1].strip() if found and found[-1].strip() else default

    query = BoardQuery(suite=suite.name)
    data = one("data", "hub")
    if data not in DATA_BOARDS:
        raise InvalidInput(
            f"unknown data {data!r}; use hub (real datasets) or bundled (bundled sample data: a pipeline "
            "check, not comparable)",
            field="data",
        )
    query.data = data
    query.view = _choice("view", one("view", "normalized"), VIEWS)
    query.kinds = [_choice("type", _kind(v), KINDS) for v in values("type")]
    query.precisions = [_choice("precision", v, PRECISIONS) for v in values("precision")]
    query.sizes = [_choice("size", v, tuple(SIZE_PRESETS)) for v in values("size")]
    query.min_params = _number("min_params", one("min_params", ""))
    query.max_params = _number("max_params", one("max_params", ""))
    if query.min_params is not None and query.max_params is not None and query.min_params > query.max_params:
        raise InvalidInput("min_params is above max_params; swap them", field="min_params")
    query.search = one("q", "")[:200]
    parse_search(query.search)  # reject a bad field now, not half-way through a page
    query.hide_flagged = one("hide_flagged", "0").lower() in ("1", "true", "on", "yes")
    benchmark_names = tuple(spec.name for spec in suite.benchmarks)
    query.sort = _choice("sort", one("sort", "average"), FIXED_SORTS + benchmark_names)
    default_order = "asc" if query.sort == "name" else "desc"
    query.order = _choice("order", one("order", default_order), ("asc", "desc"))
    query.after = one("after", "") or None
    if query.after:  # checked now: an export would find out only after its first bytes went out
        _check_cursor(query, suite)
    limit = one("limit", "50")
    if not limit.isdigit() or not 1 <= int(limit) <= MAX_LIMIT:
        raise InvalidInput(
            f"limit must be a whole number from 1 to {MAX_LIMIT}, not {limit!r}", field="limit"
        )
    query.limit = int(limit)
    return query


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def _kind(value: str) -> str:
    return value.lower().replace("-", "_").replace(" ", "_")


def _choice(key: str, value: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise InvalidInput(f"unknown {key} {value!r}; use one of: {', '.join(allowed)}", field=key)
    return value


def _number(key: str, value: str) -> float | None:
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise InvalidInput(
            f"{key} must be a number of billions of parameters, not {value!r}", field=key
        ) from None
    if number < 0:
        raise InvalidInput(f"{key} cannot be negative", field=key)
    return number


@dataclass(frozen=True)
class SearchWord:
    field: str | None  # None: the model's name or reference
    text: str


def parse_search(text: str) -> list[list[SearchWord]]:
    """`a b; @type:chat` -> [[a, b], [type=chat]]: alternatives of words that must all match."""
    alternatives: list[list[SearchWord]] = []
    for part in text.split(";"):
        words: list[SearchWord] = []
        for word in part.split():
            if word.startswith("@"):
                name, sep, value = word[1:].partition(":")
                if not sep or name.lower() not in SEARCH_FIELDS or not value:
                    raise InvalidInput(
                        f"search word {word!r}: fields are written @license:VALUE, @precision:VALUE or "
                        "@type:VALUE",
                        field="q",
                    )
                words.append(SearchWord(SEARCH_FIELDS[name.lower()], value))
            else:
                words.append(SearchWord(None, word))
        if words:
            alternatives.append(words)
    return alternatives


def _containing(text: str) -> str:
    """An ILIKE pattern matching `text` anywhere, its own % _ and / taken literally (ESCAPE '/')."""
    return "%" + text.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


def _word_condition(word: SearchWord) -> ColumnElement[bool]:
    # ILIKE on the bare column (not lower(column) LIKE, what icontains writes): PostgreSQL's trigram
    # indexes on name and reference (migration 0009) answer it; SQLite reads lower() LIKE lower().
    entry = LeaderboardEntry
    pattern = _containing(word.text)
    if word.field is None:
        return or_(entry.name.ilike(pattern, escape="/"), entry.reference.ilike(pattern, escape="/"))
    if word.field == "licence":
        return entry.licence.ilike(pattern, escape="/")
    if word.field == "kind":
        return entry.kind == _kind(word.text)
    return func.lower(entry.precision) == word.text.lower()


def conditions(query: BoardQuery) -> list[ColumnElement[bool]]:
    entry = LeaderboardEntry
    where: list[ColumnElement[bool]] = [entry.suite == query.suite, entry.board == query.data]
    if query.kinds:
        where.append(entry.kind.in_(query.kinds))
    if query.precisions:
        where.append(entry.precision.in_(query.precisions))
    if query.sizes:
        ranges = []
        for preset in query.sizes:
            low, high = SIZE_PRESETS[preset]
            above = entry.params_b > low if low > 0 else entry.params_b >= 0
            ranges.append(above if high is None else and_(above, entry.params_b <= high))
        where.append(or_(*ranges))
    if query.min_params is not None:
        where.append(entry.params_b >= query.min_params)
    if query.max_params is not None:
        where.append(entry.params_b <= query.max_params)
    if query.hide_flagged:
        where.append(entry.flagged.is_(False))
    alternatives = parse_search(query.search)
    if alternatives:
        where.append(or_(*(and_(*(_word_condition(w) for w in words)) for words in alternatives)))
    return where


# --- sort and keyset pages ------------------------------------------------------------------------


def sort_key(query: BoardQuery, suite: Suite) -> ColumnElement[Any] | QueryableAttribute[Any]:
    entry = LeaderboardEntry
    raw = query.view == "raw" and suite.has_normalized
    if query.sort == "average":
        # Best first is rank order (an index range scan: ranks are positions in this order); the raw
        # view ranks by the raw mean.
        return entry.average_raw if raw else entry.average
    if query.sort == "name":
        return func.lower(entry.name)
    if query.sort == "params":
        return entry.params_b
    if query.sort == "submitted":
        return entry.submitted_at
    if query.sort == "evaluated":
        return entry.evaluated_at
    return cell_key(query, suite)


def by_benchmark(query: BoardQuery) -> bool:
    """Sorted by a benchmark's score: read in order from board_cell (see benchmark_page)."""
    return query.sort not in FIXED_SORTS


def cell_key(query: BoardQuery, suite: Suite) -> QueryableAttribute[Any]:
    raw = query.view == "raw" and suite.has_normalized and suite.benchmark(query.sort).normalized
    return BoardCell.raw_value if raw else BoardCell.value


def _ascending(query: BoardQuery) -> bool:
    return query.order == "asc"


def ordered(statement: Select[Any], query: BoardQuery, suite: Suite) -> Select[Any]:
    key = sort_key(query, suite)
    direction = key.asc() if _ascending(query) else key.desc()
    # Missing values (no average, unknown size) always come last; benchmark sorts read only cells
    # with a value (the rows without one follow, by model id: see service._benchmark_page).
    tie = BoardCell.model_id if by_benchmark(query) else LeaderboardEntry.model_id
    return statement.order_by(direction.nulls_last(), tie.asc())


def after_condition(query: BoardQuery, suite: Suite) -> ColumnElement[bool]:
    """Rows strictly after the cursor's (key, model id) in the order `ordered` gives."""
    if not query.after:
        return true()
    value, model_id = decode_cursor(query.after)
    key = sort_key(query, suite)
    if query.sort in ("submitted", "evaluated") and value is not None:
        value = _cursor_time(str(value))
    later_id = (BoardCell.model_id if by_benchmark(query) else LeaderboardEntry.model_id) > model_id
    if value is None:
        return and_(key.is_(None), later_id)
    beyond = key > value if _ascending(query) else key < value
    return or_(beyond, and_(key == value, later_id), key.is_(None))


def _check_cursor(query: BoardQuery, suite: Suite) -> None:
    """A cursor from another sort would compare text with numbers (PostgreSQL refuses: a 500)."""
    assert query.after is not None
    value, _ = decode_cursor(query.after)
    if value is None:
        return
    if query.sort in ("submitted", "evaluated"):
        _cursor_time(str(value))
        return
    textual = query.sort == "name"
    if textual != isinstance(value, str) or isinstance(value, bool):
        raise InvalidInput("after is not a cursor of this sort; start again without it", field="after")


def _cursor_time(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            "after is not a cursor of this sort; start again without it", field="after"
        ) from None


def encode_cursor(value: Any, model_id: int) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    return base64.urlsafe_b64encode(json.dumps([value, model_id]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, int]:
    try:
        value, model_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(model_id, int) or not (value is None or isinstance(value, int | float | str)):
            raise ValueError
    except (ValueError, TypeError, binascii.Error):
        raise InvalidInput(
            "after is not a cursor this board gave out; start again without it", field="after"
        ) from None
    return value, model_id
