"""The board table's rows, written in Python rather than in templates/leaderboard.html.

A board page has rows x benchmarks score cells (600 for 50 rows and 12 benchmarks) plus a dozen
more cells per row. Written as template code, each cell cost a dozen Jinja operations (attribute
look-ups, calls through the template context, an escape per value), and templating was most of the
page's time; here a cell is a few string operations. The markup is what the template wrote: the
same elements, classes, data-* attributes, titles and texts.

Every text that is not a constant here or a number goes through markupsafe.escape, as template
autoescaping would: model names, references, flag reasons, judge names and data labels come from
submissions, and even catalog texts carry quotes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from jinja2 import Environment
from markupsafe import Markup, escape

from app.leaderboard.schemas import BenchmarkColumn, LeaderboardPage, LeaderboardRow, RowLineage, Score

MISSING = "—"
KIND_ICONS = {
    "pretrained": "🟢",
    "continuously_pretrained": "🟩",
    "fine_tuned": "🔶",
    "chat": "💬",
    "merge": "🤝",
    "adapter": "🔌",
}
# Between two rows, and two cells of a row: the template's indentation, only whitespace, never shown.
ROW_SEPARATOR = "\n    "
CELL_SEPARATOR = "\n      "
FIXED_COLUMNS = ("type", "params", "precision", "weight_type", "licence", "submitted")

Translate = Callable[..., str]


def pct(value: float | None) -> str:
    """A 0..1 score as points with two decimals ('61.00'); '—' for no value."""
    return MISSING if value is None else f"{value * 100:.2f}"


class ScoreCells:
    """A row's benchmark cells, for the columns the reader did not hide.

    Built once per page: each column's escaped name and the translated labels are the same in
    every row, so they are escaped and looked up here, not once per cell.
    """

    def __init__(
        self, columns: Sequence[BenchmarkColumn], *, raw_view: bool, board: str, translate: Translate
    ) -> None:
        self.columns = [(column.name, escape(column.name)) for column in columns]
        self.raw_view = raw_view
        self.translate = translate
        elsewhere = "sample_only" if board == "hub" else "real_only"
        self.elsewhere_text = escape(translate(f"board.{elsewhere}"))
        self.elsewhere_help = escape(translate(f"board.{elsewhere}_help"))
        self.raw_label = escape(translate("board.raw"))
        self.judge_apart_text = escape(translate("board.judge_apart"))

    def cells(self, scores: Mapping[str, Score]) -> list[str]:
        """A value cell's title has the stderr, the sample size and, in the normalized view, the raw
        value it was normalized from. (Written out in the loop, not through pct(): this runs for
        every cell of the page.)"""
        cells = []
        raw_view, raw_label = self.raw_view, self.raw_label
        for name, attribute in self.columns:
            score = scores.get(name)
            if score is None:
                cells.append(f'<td class="num score missing" data-benchmark="{attribute}">{MISSING}</td>')
            elif (value := score.value) is not None:
                raw, n = score.raw, score.n
                if raw_view and raw is not None:
                    value, err, raw_note = raw, score.raw_stderr, ""
                else:
                    err = score.stderr
                    raw_note = "" if raw is None else f" · {raw_label} {raw * 100:.2f}"
                title = ("" if err is None else f"± {err * 100:.2f}") + (f" (n={n})" if n else "") + raw_note
                cells.append(
                    f'<td class="num score" data-benchmark="{attribute}" title="{title}">'
                    f"{value * 100:.2f}</td>"
                )
            elif score.judge_apart:
                cells.append(self._judge_apart_cell(attribute, score))
            else:
                cells.append(
                    f'<td class="num score elsewhere" data-benchmark="{attribute}" '
                    f'data-ran-on="{escape(score.data)}" title="{self.elsewhere_help}">'
                    f"{self.elsewhere_text}</td>"
                )
        return cells

    def _judge_apart_cell(self, attribute: str, score: Score) -> str:
        # escape(None) writes "None", as the template did for a score that names no judge.
        help_text = escape(self.translate("board.judge_apart_help", judge=score.judge or "?"))
        return (
            f'<td class="num score judge-apart" data-benchmark="{attribute}" '
            f'data-judge="{escape(score.judge)}" title="{help_text}">{self.judge_apart_text}</td>'
        )


def board_rows(page: LeaderboardPage, hidden: Sequence[str], translate: Translate) -> Markup:
    """The table body: one `<tr>` per row of the page, for the columns the reader did not hide."""
    row = BoardRow(page, hidden, translate)
    return Markup(ROW_SEPARATOR.join([row(entry) for entry in page.rows]))


class BoardRow:
    """Writes one row's `<tr>`; built once per page with what every row shares."""

    def __init__(self, page: LeaderboardPage, hidden: Sequence[str], translate: Translate) -> None:
        self.translate = translate
        self.raw_view = page.view == "raw"
        self.shown = {column: column not in hidden for column in FIXED_COLUMNS}
        self.scores = ScoreCells(
            [b for b in page.benchmarks if b.name not in hidden],
            raw_view=self.raw_view,
            board=page.data,
            translate=translate,
        )
        self.flagged = escape(translate("board.flagged"))
        self.delta_title = escape(translate("board.delta_title"))
        self.kind_titles: dict[str, Markup] = {}  # filled as kinds turn up: a page has a handful

    def __call__(self, row: LeaderboardRow) -> str:
        cells = [self._rank_cell(row)]
        if self.shown["type"]:
            cells.append(self._kind_cell(row.kind))
        cells.append(self._model_cell(row))
        cells.append(f'<td class="num average">{pct(row.average_raw if self.raw_view else row.average)}</td>')
        cells += self.scores.cells(row.scores)
        cells += self._fixed_cells(row)
        return (
            f'<tr data-model-id="{row.model_id}" data-kind="{escape(row.kind)}" '
            f'class="{"flagged" if row.flags else ""}">'
            f"{CELL_SEPARATOR}{CELL_SEPARATOR.join(cells)}\n    </tr>"
        )

    def _rank_cell(self, row: LeaderboardRow) -> str:
        interval = "" if row.rank_low is None else f' data-rank-interval="{row.rank_low}–{row.rank_high}"'
        tie = ""
        if row.tied_with_next:
            help_text = self.translate(
                "board.tied_help", rank=row.rank, next=row.rank + 1, p=f"{row.p_above_next:.2f}"
            )
            label = self.translate("board.tied", next=row.rank + 1)
            tie = f' <span class="tie" title="{escape(help_text)}" aria-label="{escape(label)}">≈</span>'
        return f'<td class="num rank"{interval}>{row.rank}{tie}</td>'

    def _kind_cell(self, kind: str) -> str:
        title = self.kind_titles.get(kind)
        if title is None:
            title = self.kind_titles[kind] = escape(self.translate(f"kind.{kind}"))
        icon = KIND_ICONS.get(kind, "·")
        return f'<td class="kind" title="{title}"><span aria-label="{title}">{icon}</span></td>'

    def _model_cell(self, row: LeaderboardRow) -> str:
        flag = self._flag_mark(row) if row.flags else ""
        lineage = self._lineage(row.lineage) if row.lineage else ""
        return (
            f'<td class="model"><a href="/models/{row.model_id}">{escape(row.model)}</a>{flag}'
            f'<br><span class="stderr">{escape(row.reference)}</span>{lineage}</td>'
        )

    def _flag_mark(self, row: LeaderboardRow) -> str:
        """The administrator's reason in the page's language, then the machine flags."""
        reason = row.flag_reason
        notes = [self.translate("admin_flags.board_reason", reason=reason)] if reason else []
        notes += row.other_flags
        data_reason = f' data-reason="{escape(reason)}"' if reason else ""
        return (
            f' <span class="flag" title="{self.flagged}: {escape("; ".join(notes))}"{data_reason}>'
            f"⚑ {self.flagged}</span>"
        )

    def _lineage(self, lineage: RowLineage) -> str:
        """What an adapter or delta was built on, the job that trained it and its change of average."""
        if lineage.base_model_id is not None:
            base = f'<a href="/models/{lineage.base_model_id}">{escape(lineage.base_name)}</a>'
        else:
            base = str(escape(lineage.base_model))
        job = ""
        if lineage.finetune_id is not None:
            job_text = escape(self.translate("board.finetune_job", id=lineage.finetune_id))
            job = f' · <a href="/finetunes/{lineage.finetune_id}">{job_text}</a>'
        delta = ""
        if lineage.delta_average is not None:
            direction = "up" if lineage.delta_average >= 0 else "down"
            delta = (
                f' · <span class="delta {direction}" title="{self.delta_title}">'
                f"Δ {lineage.delta_average * 100:+.2f}</span>"
            )
        return f'\n        <br><span class="lineage">↳ {base}{job}{delta}</span>'

    def _fixed_cells(self, row: LeaderboardRow) -> list[str]:
        shown = self.shown
        cells = []
        if shown["params"]:
            params = MISSING if row.params_b is None else f"{row.params_b:g}"
            cells.append(f'<td class="num">{params}</td>')
        if shown["precision"]:
            cells.append(f"<td>{escape(row.precision)}</td>")
        if shown["weight_type"]:
            cells.append(f"<td>{escape(row.weight_type)}</td>")
        if shown["licence"]:
            cells.append(f"<td>{escape(row.licence or MISSING)}</td>")
        if shown["submitted"]:
            cells.append(f"<td>{row.submitted_at.date().isoformat()}</td>")  # YYYY-MM-DD
        return cells


def register(env: Environment) -> None:
    """`board_rows(page, hidden, t)` and `kind_icons` for the templates."""
    env.globals["board_rows"] = board_rows
    env.globals["kind_icons"] = KIND_ICONS
