#!/usr/bin/env python3
"""Draws the scale benchmark (scripts/bench-scale.sh) as one SVG, with the
standard library only: p99 latency per endpoint against the book count,
in-process and over HTTP, and the database's size, build time and cold
start against the book count; log axes throughout.

Usage: scale-chart.py BUILD_CSV LATENCY_CSV OUT_SVG
"""
import csv
import math
import sys
from xml.sax.saxutils import escape

VERCEL_LIMIT_MB = 250  # uncompressed function bundle, see docs/scale.md
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
PANEL_W, PANEL_H, TOP, LEFT, GAP = 330, 300, 50, 60, 80


def decades(values):
    values = [v for v in values if v > 0]
    low = math.floor(math.log10(min(values)))
    high = math.ceil(math.log10(max(values)))
    return low, max(high, low + 1)


class Panel:
    def __init__(self, index, title, ylabel, xs, ys):
        self.x0 = LEFT + index * (PANEL_W + GAP)
        self.title, self.ylabel = title, ylabel
        self.xd, self.yd = decades(xs), decades(ys)
        self.parts = []

    def sx(self, x):
        lo, hi = self.xd
        return self.x0 + (math.log10(x) - lo) / (hi - lo) * PANEL_W

    def sy(self, y):
        lo, hi = self.yd
        return TOP + PANEL_H - (math.log10(y) - lo) / (hi - lo) * PANEL_H

    def frame(self):
        p = self.parts
        p.append(f'<text x="{self.x0}" y="{TOP - 22}" class="title">{escape(self.title)}</text>')
        p.append(f'<rect x="{self.x0}" y="{TOP}" width="{PANEL_W}" height="{PANEL_H}" class="frame"/>')
        for e in range(self.xd[0], self.xd[1] + 1):
            x = self.sx(10 ** e)
            p.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + PANEL_H}" class="grid"/>')
            p.append(f'<text x="{x:.1f}" y="{TOP + PANEL_H + 16}" class="tick" text-anchor="middle">{fmt(10 ** e)}</text>')
        for e in range(self.yd[0], self.yd[1] + 1):
            y = self.sy(10 ** e)
            p.append(f'<line x1="{self.x0}" y1="{y:.1f}" x2="{self.x0 + PANEL_W}" y2="{y:.1f}" class="grid"/>')
            p.append(f'<text x="{self.x0 - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">{fmt(10 ** e)}</text>')
        p.append(f'<text x="{self.x0 + PANEL_W / 2}" y="{TOP + PANEL_H + 34}" class="axis" text-anchor="middle">books (N)</text>')
        p.append(f'<text x="{self.x0}" y="{TOP - 6}" class="axis">{escape(self.ylabel)}</text>')

    def line(self, points, colour, label, legend_row, dashed=False):
        points = sorted((x, y) for x, y in points if y and y > 0)
        if not points:
            return
        path = " ".join(f"{self.sx(x):.1f},{self.sy(y):.1f}" for x, y in points)
        dash = ' stroke-dasharray="5,4"' if dashed else ""
        self.parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        for x, y in points:
            self.parts.append(f'<circle cx="{self.sx(x):.1f}" cy="{self.sy(y):.1f}" r="3" fill="{colour}"/>')
        ly = TOP + PANEL_H + 52 + legend_row * 15
        self.parts.append(f'<line x1="{self.x0}" y1="{ly - 4}" x2="{self.x0 + 18}" y2="{ly - 4}" stroke="{colour}" stroke-width="2"{dash}/>')
        self.parts.append(f'<text x="{self.x0 + 24}" y="{ly}" class="legend">{escape(label)}</text>')


def fmt(v):
    if v >= 1e6:
        return f"{v / 1e6:g}M"
    if v >= 1e3:
        return f"{v / 1e3:g}k"
    return f"{v:g}"


def main(build_csv, latency_csv, out_svg):
    build = list(csv.DictReader(open(build_csv, encoding="utf-8")))
    latency = list(csv.DictReader(open(latency_csv, encoding="utf-8")))
    endpoints = list(dict.fromkeys(r["endpoint"] for r in latency))
    ns = [int(r["n"]) for r in build]

    panels = []
    for index, mode, title in [(0, "in-process", "p99 latency, in-process (one at a time)"),
                               (1, "http", "p99 latency, HTTP (wrk -t2 -c32)")]:
        rows = [r for r in latency if r["mode"] == mode]
        panel = Panel(index, title, "ms", ns, [float(r["p99_ms"]) for r in rows])
        panel.frame()
        for i, name in enumerate(endpoints):
            points = [(int(r["n"]), float(r["p99_ms"])) for r in rows if r["endpoint"] == name]
            panel.line(points, COLOURS[i % len(COLOURS)], name, i)
        panels.append(panel)

    def series(column, scale=1.0):
        return [(int(r["n"]), float(r[column]) * scale) for r in build if r[column]]

    size = series("db_bytes", 1 / 1e6)
    lines = [
        (size, "database size (MB)", False),
        # The similar books are skipped for the largest N, so the rest of
        # the build is drawn apart from them to stay comparable across N.
        ([(int(r["n"]), float(r["build_total_s"]) - float(r["similar_s"] or 0)) for r in build],
         "build-db without similar books (s)", False),
        (series("similar_s"), "similar-books phase (s)", False),
        (series("cold_start_median_ms"), "cold start, median (ms)", False),
        ([(n, VERCEL_LIMIT_MB) for n in ns], f"Vercel bundle limit ({VERCEL_LIMIT_MB} MB)", True),
    ]
    values = [y for points, _, _ in lines for _, y in points if y > 0]
    panel = Panel(2, "size, build time and cold start", "MB / s / ms", ns, values)
    panel.frame()
    for i, (points, label, dashed) in enumerate(lines):
        panel.line(points, COLOURS[i], label, i, dashed)
    panels.append(panel)

    run = build[0]["run"] if build else ""
    width = LEFT + 3 * PANEL_W + 2 * GAP + 40
    height = TOP + PANEL_H + 52 + 15 * max(len(endpoints), len(lines)) + 20
    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif">',
        "<style>.title{font-size:13px;font-weight:bold}.axis{font-size:11px;fill:#444}"
        ".tick{font-size:10px;fill:#444}.legend{font-size:10px}.frame{fill:none;stroke:#888}"
        ".grid{stroke:#ddd}.run{font-size:10px;fill:#666}</style>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{LEFT}" y="14" class="run">books scale benchmark (synthetic catalogues, scripts/bench-scale.sh): {escape(run)}</text>',
    ]
    for panel in panels:
        svg.extend(panel.parts)
    svg.append("</svg>")
    with open(out_svg, "w", encoding="utf-8") as out:
        out.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
