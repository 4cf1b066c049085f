"""Charts as inline SVG, drawn on the server: pages stay readable with JavaScript off, and every mark
carries a <title> the browser shows on hover. No third-party libraries.

Scores arrive on 0..1 (as stored) and are drawn and labelled on 0..100, as the tables show them.
Every text that reaches the SVG is escaped, by markupsafe.escape or, for the scatter's many marks,
by the standard library's html.escape (a plain str: a Markup object per point was a third of the
chart's time): labels are model names, which anyone can choose.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

SVG_NS = "http://www.w3.org/2000/svg"
# Distinguishable on white and for the common colour-vision deficiencies (Okabe-Ito, darkened).
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#7f6a00", "#333333")
AXIS_COLOR = "#7a8194"
GRID_COLOR = "#e3e6ef"
FONT = "system-ui, 'Noto Sans KR', sans-serif"
SCORE_TICKS = (0, 20, 40, 60, 80, 100)
# Long labels are cut so a bar's row keeps its height; the full text stays in the mark's <title>.
MAX_LABEL_CHARS = 30


@dataclass(frozen=True)
class ScatterPoint:
    x: float  # parameters, in billions
    y: float  # score on 0..1
    label: str
    href: str | None = None


@dataclass(frozen=True)
class Bar:
    label: str
    value: float  # 0..1
    stderr: float | None = None  # 0..1 scale, like value


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float | None]  # one per label, 0..1; None: no score for that label
    stderrs: list[float | None] = field(default_factory=list)  # empty: none known


def _num(value: float) -> str:
    """Coordinates with one decimal: enough for a screen, short in the page."""
    return f"{value:.1f}".removesuffix(".0")


def _score(value: float) -> str:
    return f"{value * 100:.2f}"


def _with_stderr(value: float, stderr: float | None) -> str:
    return _score(value) if stderr is None else f"{_score(value)} ± {_score(stderr)}"


def _clamp01(value: float) -> float:
    return min(max(value, 0.0), 1.0)


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


def _open_svg(width: int, height: int, kind: str, description: str) -> list[str]:
    return [
        f'<svg xmlns="{SVG_NS}" class="chart chart-{kind}" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="11">',
        f"<title>{escape(description)}</title>",
    ]


def _finish(parts: list[str]) -> Markup:
    parts.append("</svg>")
    return Markup("".join(parts))


def _empty(width: int, height: int, kind: str, text: str) -> Markup:
    parts = _open_svg(width, height, kind, text)
    parts.append(
        f'<text class="empty" x="{_num(width / 2)}" y="{_num(height / 2)}" text-anchor="middle" '
        f'fill="{AXIS_COLOR}">{escape(text)}</text>'
    )
    return _finish(parts)


def _text(x: float, y: float, content: str, *, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}"{extra}>{escape(content)}</text>'


def _line(x1: float, y1: float, x2: float, y2: float, color: str, css_class: str = "") -> str:
    klass = f' class="{css_class}"' if css_class else ""
    return f'<line{klass} x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}" stroke="{color}"/>'


# --- scatter -------------------------------------------------------------------------------------


def _decades(xs: Sequence[float]) -> tuple[int, int]:
    """The powers of ten that enclose every x (at least one decade wide)."""
    low = math.floor(math.log10(min(xs)))
    high = math.ceil(math.log10(max(xs)))
    return low, max(high, low + 1)


def _params_label(exponent: int) -> str:
    return f"{10.0**exponent:g}B"


def scatter(
    points: Sequence[ScatterPoint],
    *,
    x_label: str,
    y_label: str,
    width: int = 640,
    height: int = 320,
    empty_text: str = "",
) -> Markup:
    """Score (0..100) against parameters on a log scale. Points without a positive size cannot sit
    on a log axis and are left out; each point links to its href when it has one."""
    plotted = [p for p in points if p.x > 0 and math.isfinite(p.x) and math.isfinite(p.y)]
    if not plotted:
        return _empty(width, height, "scatter", empty_text)
    left, right, top, bottom = 52, 16, 12, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    low, high = _decades([p.x for p in plotted])

    def x_at(params: float) -> float:
        return left + (math.log10(params) - low) / (high - low) * plot_w

    def y_at(score: float) -> float:
        return top + (1.0 - _clamp01(score)) * plot_h

    parts = _open_svg(width, height, "scatter", f"{y_label} / {x_label}")
    for tick in SCORE_TICKS:
        y = y_at(tick / 100)
        parts.append(_line(left, y, left + plot_w, y, GRID_COLOR, "grid"))
        parts.append(_text(left - 6, y + 4, str(tick), anchor="end", extra=f' fill="{AXIS_COLOR}"'))
    for exponent in range(low, high + 1):
        x = x_at(10.0**exponent)
        parts.append(_line(x, top, x, top + plot_h, GRID_COLOR, "grid"))
        parts.append(
            _text(x, top + plot_h + 16, _params_label(exponent), anchor="middle", extra=' class="x-tick"')
        )
    parts.append(_line(left, top + plot_h, left + plot_w, top + plot_h, AXIS_COLOR, "axis"))
    parts.append(_line(left, top, left, top + plot_h, AXIS_COLOR, "axis"))
    parts.append(_text(left + plot_w / 2, height - 6, x_label, anchor="middle"))
    y_mid = top + plot_h / 2
    parts.append(
        _text(14, y_mid, y_label, anchor="middle", extra=f' transform="rotate(-90 14 {_num(y_mid)})"')
    )
    parts += _scatter_marks(plotted, x_at, y_at)
    return _finish(parts)


def _scatter_marks(
    points: Sequence[ScatterPoint], x_at: Callable[[float], float], y_at: Callable[[float], float]
) -> list[str]:
    """One circle per point, linked when it has an href. A board page draws hundreds, so the
    loop does no more than it must: the constant part of each mark is built once, and texts are
    escaped by html.escape."""
    style = f'r="5" fill="{PALETTE[0]}" fill-opacity="0.75" stroke="#fff"'
    marks = []
    for point in points:
        x, y = point.x, point.y
        circle = (
            f'<circle cx="{_num(x_at(x))}" cy="{_num(y_at(y))}" {style}><title>{html.escape(point.label)} · '
            f"{x:g}B · {_score(y)}</title></circle>"
        )
        href = point.href
        marks.append(f'<a href="{html.escape(href)}">{circle}</a>' if href else circle)
    return marks


# --- horizontal bars -----------------------------------------------------------------------------


def _score_axis(left: float, plot_w: float, top: float, bottom_y: float) -> list[str]:
    parts = []
    for tick in SCORE_TICKS:
        x = left + tick / 100 * plot_w
        parts.append(_line(x, top, x, bottom_y, GRID_COLOR, "grid"))
        parts.append(_text(x, bottom_y + 14, str(tick), anchor="middle", extra=f' fill="{AXIS_COLOR}"'))
    parts.append(_line(left, top, left, bottom_y, AXIS_COLOR, "axis"))
    return parts


def _bar_marks(
    *,
    left: float,
    plot_w: float,
    y: float,
    thickness: float,
    value: float,
    stderr: float | None,
    color: str,
    title: str,
) -> list[str]:
    """One bar, its stderr whisker (clipped to the axis) and its value, with a hover title."""
    end = left + _clamp01(value) * plot_w
    parts = [
        f'<rect class="bar" x="{_num(left)}" y="{_num(y)}" width="{_num(end - left)}" '
        f'height="{_num(thickness)}" fill="{color}"><title>{escape(title)}</title></rect>'
    ]
    middle = y + thickness / 2
    if stderr is not None and stderr > 0:
        lo = left + _clamp01(value - stderr) * plot_w
        hi = left + _clamp01(value + stderr) * plot_w
        cap = min(thickness / 2, 5)
        parts.append(
            f'<g class="whisker" stroke="#1d2330">{_line(lo, middle, hi, middle, "#1d2330")}'
            f"{_line(lo, middle - cap, lo, middle + cap, '#1d2330')}"
            f"{_line(hi, middle - cap, hi, middle + cap, '#1d2330')}</g>"
        )
    parts.append(_text(left + plot_w + 6, middle + 4, _with_stderr(value, stderr), extra=' class="value"'))
    return parts


def bars(
    items: Sequence[Bar],
    *,
    width: int = 560,
    bar_height: int = 18,
    label_width: int = 170,
    empty_text: str = "",
) -> Markup:
    """One horizontal bar per item on a 0..100 axis, with a ±stderr whisker."""
    if not items:
        return _empty(width, 60, "bars", empty_text)
    row = bar_height + 8
    top, bottom, value_w = 8, 24, 96
    plot_w = width - label_width - value_w
    plot_h = row * len(items)
    height = top + plot_h + bottom
    parts = _open_svg(width, height, "bars", ", ".join(i.label for i in items))
    parts += _score_axis(label_width, plot_w, top, top + plot_h)
    for index, item in enumerate(items):
        y = top + index * row + (row - bar_height) / 2
        label_y = y + bar_height / 2 + 4
        parts.append(
            _text(label_width - 6, label_y, _short(item.label), anchor="end", extra=' class="label"')
        )
        parts += _bar_marks(
            left=label_width,
            plot_w=plot_w,
            y=y,
            thickness=bar_height,
            value=item.value,
            stderr=item.stderr,
            color=PALETTE[0],
            title=f"{item.label}: {_with_stderr(item.value, item.stderr)}",
        )
    return _finish(parts)


def grouped_bars(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    width: int = 640,
    bar_height: int = 12,
    label_width: int = 170,
    empty_text: str = "",
    missing_text: str = "—",
) -> Markup:
    """Per label, one horizontal bar per series (a colour each, named in the legend), each with its
    ±stderr whisker. A missing value is written as missing_text instead of a bar."""
    for one in series:
        if len(one.values) != len(labels) or (one.stderrs and len(one.stderrs) != len(labels)):
            raise ValueError(f"series {one.name!r} needs one value (and stderr) per label ({len(labels)})")
    if not labels or not series:
        return _empty(width, 60, "grouped-bars", empty_text)
    legend_row, value_w, bottom = 18, 96, 24
    legend_rows = math.ceil(len(series) / 2)
    top = 8 + legend_rows * legend_row
    group = bar_height * len(series) + 10
    plot_w = width - label_width - value_w
    plot_h = group * len(labels)
    height = top + plot_h + bottom
    parts = _open_svg(width, height, "grouped-bars", " / ".join(s.name for s in series))
    half = (width - 16) / 2
    for index, one in enumerate(series):
        x = 8 + (index % 2) * half
        y = 8 + (index // 2) * legend_row
        color = PALETTE[index % len(PALETTE)]
        parts.append(
            f'<g class="legend-item"><rect x="{_num(x)}" y="{_num(y)}" width="12" height="12" '
            f'fill="{color}"/>{_text(x + 18, y + 10, _short(one.name))}<title>{escape(one.name)}</title></g>'
        )
    parts += _score_axis(label_width, plot_w, top, top + plot_h)
    for row, label in enumerate(labels):
        group_top = top + row * group + 5
        parts.append(
            _text(label_width - 6, group_top + group / 2, _short(label), anchor="end", extra=' class="label"')
        )
        for index, one in enumerate(series):
            value = one.values[row]
            stderr = one.stderrs[row] if one.stderrs else None
            y = group_top + index * bar_height
            if value is None:
                parts.append(
                    _text(label_width + 4, y + bar_height - 2, missing_text, extra=' class="missing"')
                )
                continue
            parts += _bar_marks(
                left=label_width,
                plot_w=plot_w,
                y=y,
                thickness=bar_height - 2,
                value=value,
                stderr=stderr,
                color=PALETTE[index % len(PALETTE)],
                title=f"{one.name} · {label}: {_with_stderr(value, stderr)}",
            )
    return _finish(parts)
