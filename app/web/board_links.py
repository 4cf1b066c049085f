"""URLs of the board page: every view is a URL (filters, sort, page, hidden columns), and each link
on the page changes one thing and keeps the rest."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from benchmarks.spec import Suite

FIXED_COLUMNS = ("type", "params", "precision", "weight_type", "licence", "submitted")


def hidden_columns(values: Iterable[str], suite: Suite) -> list[str]:
    """Columns the reader switched off (`hide=`); unknown names are ignored, not an error: a shared
    link from an older page layout still opens."""
    known = FIXED_COLUMNS + tuple(spec.name for spec in suite.benchmarks)
    wanted = {part.strip() for value in values for part in value.split(",")}
    return [name for name in known if name in wanted]


class BoardLinks:
    def __init__(self, query: dict[str, Any], hidden: list[str], *, explicit_data: bool) -> None:
        self.query = dict(query)
        if not explicit_data:
            self.query.pop("data", None)  # the page chose the board; keep the link as it was
        self.hidden = hidden

    def _url(self, path: str, params: dict[str, Any]) -> str:
        clean = {k: v for k, v in params.items() if v not in (None, "")}
        return f"{path}?{urlencode(clean)}" if clean else path

    def page(self, **changes: Any) -> str:
        params = {**self.query, **({"hide": ",".join(self.hidden)} if self.hidden else {}), **changes}
        return self._url("/", params)

    def sort(self, column: str, current_sort: str, current_order: str) -> str:
        """Clicking the sorted column flips its order; another column starts best-first (name: A-Z)."""
        if column == current_sort:
            order = "asc" if current_order == "desc" else "desc"
        else:
            order = "asc" if column == "name" else "desc"
        return self.page(sort=column, order=order)

    def export(self, extension: str) -> str:
        return self._url(f"/api/v1/leaderboard.{extension}", self.query)

    def data_board(self, board: str) -> str:
        params = {k: v for k, v in self.query.items() if k in ("suite", "view")}
        return self._url("/", {**params, "data": board})

    def reset(self) -> str:
        return self._url("/", {"suite": self.query["suite"]})
