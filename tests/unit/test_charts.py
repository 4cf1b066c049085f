"""Server-side SVG charts: parsed back as XML to check marks, positions, escaping and empty input."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from markupsafe import Markup

from app.web.charts import Bar, ScatterPoint, Series, bars, grouped_bars, scatter

NS = {"svg": "http://www.w3.org/2000/svg"}
HOSTILE = "<script>alert(1)</script>"


def parse(svg: Markup) -> ET.Element:
    assert isinstance(svg, Markup)
    return ET.fromstring(str(svg))


def texts(root: ET.Element) -> list[str]:
    return [element.text or "" for element in root.iterfind(".//svg:text", NS)]


def titles(root: ET.Element) -> list[str]:
    return [element.text or "" for element in root.iterfind(".//svg:title", NS)]


def test_scatter_draws_one_linked_circle_per_point_on_a_log_axis() -> None:
    points = [
        ScatterPoint(x=0.135, y=0.25, label="small", href="/models/1"),
        ScatterPoint(x=1.0, y=0.5, label="mid", href="/models/2"),
        ScatterPoint(x=70.0, y=1.0, label="large", href=None),
    ]
    root = parse(scatter(points, x_label="params", y_label="score"))
    circles = root.findall(".//svg:circle", NS)
    assert len(circles) == 3
    assert [a.get("href") for a in root.iterfind(".//svg:a", NS)] == ["/models/1", "/models/2"]
    cx = [float(c.get("cx", "")) for c in circles]
    cy = [float(c.get("cy", "")) for c in circles]
    assert cx[0] < cx[1] < cx[2] and cy[0] > cy[1] > cy[2]  # bigger and better: right and up
    # Log scale: 0.1 -> 1 is as wide as 1 -> 10; the axis spans the decades 0.1B .. 100B.
    assert [t for t in texts(root) if t.endswith("B")] == ["0.1B", "1B", "10B", "100B"]
    assert {"0", "20", "100", "params", "score"} <= set(texts(root))
    assert "small · 0.135B · 25.00" in titles(root)  # hover text: shown ×100


def test_scatter_y_axis_runs_from_0_at_the_bottom_to_100_at_the_top() -> None:
    root = parse(
        scatter(
            [ScatterPoint(1, 0.0, "zero"), ScatterPoint(10, 1.0, "full"), ScatterPoint(2, 1.7, "over")],
            x_label="x",
            y_label="y",
            height=300,
        )
    )
    ticks = {t.text: float(t.get("y", "")) for t in root.iterfind(".//svg:text", NS)}
    cy = [float(c.get("cy", "")) for c in root.iterfind(".//svg:circle", NS)]
    assert cy[0] == pytest.approx(ticks["0"] - 4) and cy[1] == pytest.approx(ticks["100"] - 4)
    assert cy[2] == cy[1]  # clamped to the axis


def test_scatter_escapes_labels_and_leaves_out_points_without_a_size() -> None:
    svg = scatter(
        [ScatterPoint(7.0, 0.5, HOSTILE, href='/x?a="1"'), ScatterPoint(0.0, 0.5, "no size")],
        x_label=HOSTILE,
        y_label="y",
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    root = parse(svg)
    assert len(root.findall(".//svg:circle", NS)) == 1
    assert any(HOSTILE in title for title in titles(root))
    assert root.find(".//svg:a", NS).get("href") == '/x?a="1"'  # type: ignore[union-attr]


def test_scatter_with_nothing_to_plot_says_so() -> None:
    root = parse(scatter([], x_label="x", y_label="y", empty_text="아무것도 없음 <b>"))
    assert root.findall(".//svg:circle", NS) == []
    assert texts(root) == ["아무것도 없음 <b>"]


def test_bars_have_widths_in_proportion_and_stderr_whiskers() -> None:
    root = parse(bars([Bar("half", 0.5, 0.02), Bar("full", 1.0, None), Bar("x" * 60, 0.25, 0.5)]))
    rects = root.findall(".//svg:rect", NS)
    assert len(rects) == 3
    widths = [float(r.get("width", "")) for r in rects]
    assert widths[1] == pytest.approx(2 * widths[0], abs=0.2)
    assert widths[2] == pytest.approx(widths[0] / 2, abs=0.2)
    whiskers = root.findall(".//svg:g[@class='whisker']", NS)
    assert len(whiskers) == 2  # none for the bar without a stderr
    lines = whiskers[1].findall("svg:line", NS)
    # 25 ± 50 is clipped to the axis: it starts where the bars start.
    assert float(lines[0].get("x1", "")) == float(rects[2].get("x", ""))
    values = [t.text for t in root.iterfind(".//svg:text[@class='value']", NS)]
    assert values == ["50.00 ± 2.00", "100.00", "25.00 ± 50.00"]
    labels = [t.text or "" for t in root.iterfind(".//svg:text[@class='label']", NS)]
    assert labels[2].endswith("…") and len(labels[2]) == 30
    assert f"{'x' * 60}: 25.00 ± 50.00" in titles(root)  # the full label on hover


def test_bars_escape_labels_and_handle_empty_input() -> None:
    svg = bars([Bar(HOSTILE, 0.5)])
    assert "<script>" not in svg
    assert [t.text for t in parse(svg).iterfind(".//svg:text[@class='label']", NS)] == [HOSTILE]
    empty = parse(bars([], empty_text="no scores"))
    assert empty.findall(".//svg:rect", NS) == [] and texts(empty) == ["no scores"]


def test_grouped_bars_colour_each_series_and_name_it_in_a_legend() -> None:
    series = [
        Series("model A", [0.5, 0.7], [0.01, 0.02]),
        Series("model B", [0.4, None], [0.01, None]),
        Series(HOSTILE, [0.1, 0.2], []),
    ]
    svg = grouped_bars(["bench 1", "bench 2"], series, missing_text="n/a")
    assert "<script>" not in svg
    root = parse(svg)
    bars_drawn = root.findall(".//svg:rect[@class='bar']", NS)
    assert len(bars_drawn) == 5  # six cells, one missing
    legend = root.findall(".//svg:g[@class='legend-item']", NS)
    assert [g.find("svg:title", NS).text for g in legend] == ["model A", "model B", HOSTILE]  # type: ignore[union-attr]
    legend_colours = [g.find("svg:rect", NS).get("fill") for g in legend]  # type: ignore[union-attr]
    assert len(set(legend_colours)) == 3
    assert [r.get("fill") for r in bars_drawn] == [legend_colours[i] for i in (0, 1, 2, 0, 2)]
    assert len(root.findall(".//svg:g[@class='whisker']", NS)) == 3  # series C has no stderrs
    assert [t.text for t in root.iterfind(".//svg:text[@class='missing']", NS)] == ["n/a"]
    assert [t.text for t in root.iterfind(".//svg:text[@class='label']", NS)] == ["bench 1", "bench 2"]


def test_grouped_bars_refuse_ragged_series_and_draw_empty_input() -> None:
    with pytest.raises(ValueError, match="one value"):
        grouped_bars(["a", "b"], [Series("s", [0.1], [])])
    root = parse(grouped_bars([], [], empty_text="nothing"))
    assert texts(root) == ["nothing"]
