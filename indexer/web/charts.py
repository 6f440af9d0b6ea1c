"""Charts for the statistics page: inline SVG made at build time (no script, no CDN), each with an
accessible title and description and a table with the same numbers."""

from __future__ import annotations

from dataclasses import dataclass

from .fragments import esc

COLOURS = {"success": "#2e7d32", "partial": "#f9a825", "failure": "#c62828", "abandoned": "#6a1b9a", "ongoing": "#0277bd"}
BAR = "#3f51b5"


@dataclass
class Chart:
    """An SVG chart and its table fallback, ready to paste into a page."""

    svg: str
    table: str

    def html(self) -> str:
        table = f"<details><summary>Show the numbers</summary>\n{self.table}\n</details>"
        return f'<div class="lesson-chart">\n{self.svg}\n{table}\n</div>'


def _short(label: str, limit: int = 44) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _table(headers: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def bar_chart(chart_id: str, title: str, description: str, rows: list[tuple[str, int]], unit: str = "lessons") -> Chart:
    """Horizontal bars, one per label."""
    width, label_w, row_h = 760, 330, 24
    top = max((v for _, v in rows), default=1) or 1
    height = row_h * len(rows) + 10
    parts = [
        f'<svg class="lesson-svg" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" viewBox="0 0 {width} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{esc(title)}</title><desc id="{chart_id}-d">{esc(description)}</desc>',
    ]
    for i, (label, value) in enumerate(rows):
        y = 5 + i * row_h
        w = (width - label_w - 60) * value / top
        parts.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" font-size="13">{esc(_short(label))}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" fill="{BAR}"/>')
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 16}" font-size="12">{value}</text>')
    parts.append("</svg>")
    return Chart("".join(parts), _table(["", unit.capitalize()], [[label, value] for label, value in rows]))


def stacked_chart(chart_id: str, title: str, description: str, rows: list[tuple[str, dict[str, int]]], order: list[str]) -> Chart:
    """Horizontal 100% stacked bars: the share of each outcome per label, with a legend; each segment wide enough
    shows its count, and each bar ends with its number of lessons, so a 100% bar over two lessons reads as such."""
    width, label_w, row_h = 760, 330, 24
    height = row_h * len(rows) + 40
    inner = width - label_w - 70
    parts = [
        f'<svg class="lesson-svg" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" viewBox="0 0 {width} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{esc(title)}</title><desc id="{chart_id}-d">{esc(description)}</desc>',
    ]
    for i, key in enumerate(order):
        x = label_w + i * (inner / len(order))
        parts.append(
            f'<rect x="{x:.1f}" y="4" width="12" height="12" fill="{COLOURS.get(key, BAR)}"/>'
            f'<text x="{x + 16:.1f}" y="15" font-size="12">{esc(key)}</text>'
        )
    for r, (label, counts) in enumerate(rows):
        y = 30 + r * row_h
        total = sum(counts.values()) or 1
        parts.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" font-size="13">{esc(_short(label))}</text>')
        x = float(label_w)
        for key in order:
            w = inner * counts.get(key, 0) / total
            if w:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" fill="{COLOURS.get(key, BAR)}">'
                    f"<title>{esc(label)}: {counts[key]} {esc(key)}</title></rect>"
                )
            if w >= 18:
                parts.append(f'<text x="{x + w / 2:.1f}" y="{y + 15}" text-anchor="middle" font-size="11" fill="#fff">{counts[key]}</text>')
            x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 16}" font-size="12">n = {sum(counts.values())}</text>')
    parts.append("</svg>")
    table_rows = [[label, *(counts.get(k, 0) for k in order), sum(counts.values())] for label, counts in rows]
    return Chart("".join(parts), _table(["", *order, "total"], table_rows))
