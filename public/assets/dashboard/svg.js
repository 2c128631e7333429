// The dashboard's drawing helpers: HTML and SVG elements, number formats,
// scales and ticks, and the plot frame and axes every chart shares.

const SVG_NS = "http://www.w3.org/2000/svg";

export const pounds = new Intl.NumberFormat("en-GB", { style: "currency", currency: "GBP" });
export const integer = new Intl.NumberFormat("en-GB");

/** A share (0..1) as a percentage with one decimal. */
export function percent(x) {
  return `${(100 * x).toFixed(1)} %`;
}

// ---------------------------------------------------------------------
// Elements.

function build(element, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value !== null && value !== undefined && value !== false) {
      element.setAttribute(name, String(value));
    }
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** An HTML element: `html("p", {class: "x"}, "text", child)`. */
export function html(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element, likewise. */
export function svg(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

// ---------------------------------------------------------------------
// Canvas, scales and axes.

/** A new SVG of `width` × `height` in `box`, labelled for screen readers. */
export function canvas(box, width, height, label) {
  const root = svg("svg", {
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-label": label,
  });
  root.append(svg("title", {}, label));
  box.append(root);
  return root;
}

/** About `count` round tick values from 0 to at least `max`. */
export function ticks(max, count) {
  if (!(max > 0)) return [0, 1];
  const rough = max / count;
  const power = Math.pow(10, Math.floor(Math.log10(rough)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= rough);
  const top = Math.ceil(max / step) * step;
  const values = [];
  for (let v = 0; v <= top + step / 2; v += step) values.push(Math.round(v * 1e6) / 1e6);
  return values;
}

/** Shortens SVG `text` with an ellipsis until it fits `width` pixels. */
export function fit(text, width) {
  const full = text.textContent;
  if (text.getComputedTextLength() <= width) return;
  let keep = full.length;
  while (keep > 1 && text.getComputedTextLength() > width) {
    keep -= 1;
    text.textContent = full.slice(0, keep).trimEnd() + "…";
  }
  text.append(svg("title", {}, full));
}

/**
 * A new SVG in `box` with a plot area `margin` inside its edges, whose
 * values run from 0 at the bottom to `top` at the top. Returns the SVG
 * (`root`), the sizes, and `y`, the vertical position of a value.
 */
export function plot(box, { width, height, margin, label, top }) {
  const root = canvas(box, width, height, label);
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const y = (v) => margin.top + plotH - (v / top) * plotH;
  return { root, width, height, margin, plotW, plotH, y };
}

/** A gridline across plot `p` at each of `values`, labelled `format(value)` on its left. */
export function yAxis(p, values, format) {
  const { root, margin, width, y } = p;
  for (const t of values) {
    root.append(
      svg("line", {
        class: "gridline",
        x1: margin.left,
        x2: width - margin.right,
        y1: y(t),
        y2: y(t),
      }),
      svg(
        "text",
        { class: "tick", x: margin.left - 6, y: y(t) + 4, "text-anchor": "end" },
        format(t),
      ),
    );
  }
}

/** A label under plot `p`, centred on `x`. */
export function xTick(p, x, text) {
  return svg(
    "text",
    { class: "tick", x, y: p.height - p.margin.bottom + 16, "text-anchor": "middle" },
    text,
  );
}

/** The baseline of plot `p` and, under its labels, its `title`. */
export function xAxis(p, title) {
  const { root, margin, width, height, plotW, y } = p;
  root.append(
    svg("line", { class: "axis", x1: margin.left, x2: width - margin.right, y1: y(0), y2: y(0) }),
    svg(
      "text",
      { class: "axis-label", x: margin.left + plotW / 2, y: height - 6, "text-anchor": "middle" },
      title,
    ),
  );
}

/**
 * A horizontal bar from (`x`, `y`), `width` wide, with its `title` for a
 * tooltip and its `text` just after its end (at `textY`); `attrs` are added
 * to the bar (its class and data attributes).
 */
export function hbar({ x, y, width, height, textY, attrs, title, text }) {
  return [
    svg(
      "rect",
      Object.assign({ x, y, width: width.toFixed(1), height }, attrs),
      svg("title", {}, title),
    ),
    svg("text", { class: "value", x: (x + width + 4).toFixed(1), y: textY }, text),
  ];
}
