// The dashboard's charts. Each `draw` function fills an empty
// <div class="chart"> with an SVG as wide as the div; `chart` registers it
// to be redrawn when the width changes.

import {
  canvas,
  fit,
  hbar,
  html,
  integer,
  percent,
  plot,
  pounds,
  svg,
  ticks,
  xAxis,
  xTick,
  yAxis,
} from "./svg.js";

// ---------------------------------------------------------------------
// Drawn at the width of their box, again when it changes.

const charts = [];

/** A box for a chart that `draw(box, width)` draws, now and at every new width. */
export function chart(label, draw) {
  const box = html("div", { class: "chart" });
  const entry = { box, draw, width: 0, label };
  charts.push(entry);
  // Drawn once the box is in the page and has a width.
  requestAnimationFrame(() => redraw(entry));
  return box;
}

function redraw(entry) {
  const width = Math.floor(entry.box.clientWidth);
  if (width <= 0 || width === entry.width) return;
  entry.width = width;
  entry.box.replaceChildren();
  entry.draw(entry.box, width);
  entry.box.dataset.width = String(width);
}

/** Stops redrawing the chart in `box` (it left the page). */
export function forget(box) {
  const at = charts.findIndex((c) => c.box === box);
  if (at >= 0) charts.splice(at, 1);
}

/** Draws the chart in `box` again now, with what its draw function reads. */
export function refresh(box) {
  const entry = charts.find((c) => c.box === box);
  if (entry) {
    entry.width = 0;
    redraw(entry);
  }
}

let resizeTimer = 0;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => charts.forEach(redraw), 100);
});

// ---------------------------------------------------------------------
// Shapes.

/**
 * Vertical bars. `bars`: [{label, value, title, attrs}]; the value is shown
 * above each bar; `edges` (optional) labels the bars' boundaries instead
 * of their middles (a histogram).
 */
export function drawColumns(box, width, options) {
  const { bars, height, label, xTitle, edges } = options;
  const scale = ticks(Math.max(...bars.map((b) => b.value)), 4);
  const top = scale[scale.length - 1];
  const margin = { top: 18, right: 14, bottom: 40, left: 40 };
  const p = plot(box, { width, height, margin, label, top });
  const { root, plotH, y } = p;
  yAxis(p, scale, (t) => integer.format(t));
  const band = p.plotW / bars.length;
  const gap = Math.min(band * 0.2, 12);
  bars.forEach((bar, i) => {
    const x = margin.left + i * band;
    root.append(
      svg(
        "rect",
        Object.assign(
          {
            class: "bar",
            x: x + gap / 2,
            y: y(bar.value),
            width: Math.max(band - gap, 1),
            height: (bar.value / top) * plotH,
            "data-value": bar.value,
          },
          bar.attrs,
        ),
        svg("title", {}, `${bar.title}: ${integer.format(bar.value)}`),
      ),
      svg(
        "text",
        { class: "value", x: x + band / 2, y: y(bar.value) - 5, "text-anchor": "middle" },
        integer.format(bar.value),
      ),
    );
    if (!edges) root.append(xTick(p, x + band / 2, bar.label));
  });
  if (edges) {
    // Every edge when they fit, else every other one.
    const every = band < 34 ? 2 : 1;
    edges.forEach((edge, i) => {
      if (i % every === 0) root.append(xTick(p, margin.left + i * band, edge));
    });
  }
  xAxis(p, xTitle);
}

/**
 * Every book as a point: its price up, its rating across (spread inside the
 * rating's band), with each rating's mean price (`groups`) as a line.
 */
export function drawScatter(box, width, books, groups, label) {
  const scale = ticks(Math.max(...books.map((b) => b.price)), 5);
  const margin = { top: 10, right: 10, bottom: 40, left: 44 };
  const p = plot(box, { width, height: 300, margin, label, top: scale[scale.length - 1] });
  const { root, y } = p;
  const band = p.plotW / 5;
  const middle = (stars) => margin.left + (stars - 0.5) * band;
  yAxis(p, scale, (t) => `£${t}`);
  // Spread each rating's points across its band, evenly and the same way
  // on every draw (the golden ratio's fractional multiples).
  const seen = [0, 0, 0, 0, 0, 0];
  const points = svg("g", {});
  for (const book of books) {
    const k = (seen[book.rating] += 1);
    const spread = ((k * 0.6180339887) % 1) - 0.5;
    points.append(
      svg("circle", {
        class: "point",
        cx: (middle(book.rating) + spread * band * 0.7).toFixed(1),
        cy: y(book.price).toFixed(1),
        r: 2.5,
        "data-price": book.price,
        "data-rating": book.rating,
      }),
    );
  }
  root.append(points);
  for (const g of groups) {
    const x = middle(g.stars);
    root.append(
      svg(
        "line",
        {
          class: "mean",
          x1: x - band * 0.4,
          x2: x + band * 0.4,
          y1: y(g.mean),
          y2: y(g.mean),
          "data-rating": g.stars,
          "data-value": g.mean.toFixed(2),
        },
        svg(
          "title",
          {},
          `${g.stars} ★: mean price ${pounds.format(g.mean)} over ${g.prices.length} books`,
        ),
      ),
      xTick(p, x, `${g.stars} ★`),
    );
  }
  xAxis(p, "Stars (points spread sideways)");
}

/** Each of `items` (categories) as a name and two bars: its books and its average price. */
export function drawCategories(box, width, items, label) {
  const row = 22;
  const head = 22;
  const height = head + items.length * row + 4;
  const root = canvas(box, width, height, label);
  const labelW = Math.round(Math.min(Math.max(width * 0.36, 100), 190));
  const gap = 12;
  const columnW = (width - labelW - 2 * gap) / 2;
  const columns = [
    {
      key: "book_count",
      title: "Books",
      x: labelW + gap,
      room: 32,
      format: (v) => integer.format(v),
      kind: "bar",
    },
    {
      key: "average_price",
      title: "Average price",
      x: labelW + gap * 2 + columnW,
      room: 50,
      format: (v) => pounds.format(v),
      kind: "bar second",
    },
  ];
  for (const c of columns) {
    c.max = Math.max(...items.map((i) => i[c.key]));
    root.append(svg("text", { class: "axis-label", x: c.x, y: 14 }, c.title));
  }
  items.forEach((item, i) => {
    const top = head + i * row;
    const name = svg(
      "text",
      { x: labelW, y: top + 15, "text-anchor": "end", "data-category": item.name },
      item.name,
    );
    root.append(name);
    fit(name, labelW - 4);
    for (const c of columns) {
      const value = item[c.key];
      root.append(
        ...hbar({
          x: c.x,
          y: top + 4,
          width: Math.max(((columnW - c.room) * value) / c.max, 1),
          height: row - 8,
          textY: top + 15,
          attrs: { class: c.kind, "data-category": item.name, "data-value": value },
          title: `${item.name}: ${c.title.toLowerCase()} ${c.format(value)}`,
          text: c.format(value),
        }),
      );
    }
  });
}

/** `rows` of shares (0..1), each as a bar for the model and one for the baseline. */
export function drawComparison(box, width, rows, label) {
  const row = 42;
  const height = rows.length * row + 4;
  const root = canvas(box, width, height, label);
  const barW = width - 52;
  rows.forEach((r, i) => {
    const top = i * row;
    root.append(svg("text", { x: 0, y: top + 12 }, r.name));
    [
      ["model", r.model, "bar"],
      ["baseline", r.baseline, "bar second"],
    ].forEach(([who, value, kind], j) => {
      const y = top + 17 + j * 11;
      root.append(
        ...hbar({
          x: 0,
          y,
          width: Math.max(barW * value, 1),
          height: 9,
          textY: y + 8,
          attrs: {
            class: kind,
            "data-metric": r.name,
            "data-who": who,
            "data-value": value.toFixed(4),
          },
          title: `${r.name}, ${who}: ${percent(value)}`,
          text: percent(value),
        }),
      );
    });
  });
}

/**
 * A small line chart of `series` ([{values, kind}]) over time: the newest
 * value at the right; a line grows leftwards until it holds `history`
 * values, then scrolls.
 */
export function drawSparkline(box, width, series, label, format, history) {
  const all = series.flatMap((s) => s.values).filter((v) => v !== null && Number.isFinite(v));
  const scale = ticks(Math.max(...all, 0), 2);
  const max = scale[scale.length - 1];
  const margin = { top: 8, right: 4, bottom: 6, left: 56 };
  const p = plot(box, { width, height: 90, margin, label, top: max });
  const { root, y } = p;
  yAxis(p, [0, max], format);
  const span = Math.min(history, Math.max(12, ...series.map((s) => s.values.length)));
  const step = p.plotW / (span - 1);
  for (const s of series) {
    const start = span - s.values.length;
    const points = s.values
      .map((v, i) =>
        v === null || !Number.isFinite(v)
          ? null
          : `${(margin.left + (start + i) * step).toFixed(1)},${y(v).toFixed(1)}`,
      )
      .filter(Boolean);
    if (points.length) {
      const [x, y] = points[points.length - 1].split(",");
      root.append(
        svg("polyline", { class: `spark ${s.kind}`, points: points.join(" ") }),
        svg("circle", { class: `spark-end ${s.kind}`, cx: x, cy: y, r: 3 }),
      );
    }
  }
}
