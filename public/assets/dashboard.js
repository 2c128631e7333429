// The dashboard at /dashboard: reads the API of this origin and draws its
// charts as SVG, at the width of their panel (redrawn when that changes).
// No chart library and no other origin. Each panel handles its own errors:
// a failed request shows a message in that panel, the others carry on.
//
// On a loopback address (the local server, opened from its own machine) the
// live panel polls /metrics (Prometheus text) and shows the request rate and
// latency; anywhere else it says so and makes no request.
(function () {
  "use strict";

  const SVG_NS = "http://www.w3.org/2000/svg";
  const POLL_MS = 2500;
  const HISTORY = 60;
  const LOOPBACK = ["127.0.0.1", "localhost", "[::1]", "::1"];

  const pounds = new Intl.NumberFormat("en-GB", { style: "currency", currency: "GBP" });
  const integer = new Intl.NumberFormat("en-GB");

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
  function html(tag, attrs, ...children) {
    return build(document.createElement(tag), attrs, children);
  }

  /** An SVG element, likewise. */
  function svg(tag, attrs, ...children) {
    return build(document.createElementNS(SVG_NS, tag), attrs, children);
  }

  function panel(id) {
    return document.getElementById(id);
  }

  /** Replaces what panel `id` shows, and marks it ready. */
  function show(id, ...children) {
    const section = panel(id);
    section.querySelector(".body").replaceChildren(...children);
    section.dataset.state = "ready";
  }

  /** Shows `message` in panel `id` instead of its content. */
  function fail(id, message) {
    const section = panel(id);
    section
      .querySelector(".body")
      .replaceChildren(html("p", { class: "message error", role: "alert" }, message));
    section.dataset.state = "error";
  }

  function table(headers, rows, numeric) {
    const isNumeric = (i) => numeric.includes(i);
    return html(
      "div",
      { class: "scroll" },
      html(
        "table",
        {},
        html(
          "thead",
          {},
          html(
            "tr",
            {},
            ...headers.map((h, i) =>
              html("th", { class: isNumeric(i) ? "num" : null, scope: "col" }, h),
            ),
          ),
        ),
        html(
          "tbody",
          {},
          ...rows.map((row) =>
            html(
              "tr",
              {},
              ...row.map((cell, i) => html("td", { class: isNumeric(i) ? "num" : null }, cell)),
            ),
          ),
        ),
      ),
    );
  }

  /** The figures behind a chart, folded under it. */
  function asTable(headers, rows, numeric) {
    return html(
      "details",
      {},
      html("summary", {}, "The figures as a table"),
      table(headers, rows, numeric),
    );
  }

  function legend(...items) {
    return html(
      "ul",
      { class: "legend" },
      ...items.map(([kind, label]) => html("li", {}, html("span", { class: kind }), label)),
    );
  }

  // ---------------------------------------------------------------------
  // Requests.

  class HttpError extends Error {
    constructor(path, status, title) {
      super(`${path} answered HTTP ${status}${title ? ` (${title})` : ""}`);
      this.status = status;
    }
  }

  /** The `title` of a problem+json answer, if that is what `response` is. */
  async function problemTitle(response) {
    if (!(response.headers.get("content-type") || "").includes("json")) return "";
    try {
      const problem = await response.json();
      return typeof problem.title === "string" ? problem.title : "";
    } catch (error) {
      return "";
    }
  }

  async function get(path, accept) {
    let response;
    try {
      response = await fetch(path, { headers: { accept }, cache: "no-store" });
    } catch (error) {
      throw new Error(`${path} could not be fetched (${error.message})`);
    }
    if (!response.ok) throw new HttpError(path, response.status, await problemTitle(response));
    return response;
  }

  async function getJson(path) {
    return (await get(path, "application/json")).json();
  }

  async function getText(path, accept) {
    return (await get(path, accept)).text();
  }

  // ---------------------------------------------------------------------
  // Charts. Each `draw` function fills an empty <div class="chart"> with an
  // SVG as wide as the div; `chart` registers it to be redrawn when the
  // width changes.

  const charts = [];

  function chart(label, draw) {
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
  function forget(box) {
    const at = charts.findIndex((c) => c.box === box);
    if (at >= 0) charts.splice(at, 1);
  }

  /** Draws the chart in `box` again now, with what its draw function reads. */
  function refresh(box) {
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

  /** A new SVG of `width` × `height` in `box`, labelled for screen readers. */
  function canvas(box, width, height, label) {
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
  function ticks(max, count) {
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
  function fit(text, width) {
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
   * Vertical bars. `bars`: [{label, value, text, attrs}]; the value is shown
   * above each bar; `edges` (optional) labels the bars' boundaries instead
   * of their middles (a histogram).
   */
  function drawColumns(box, width, options) {
    const { bars, height, label, xTitle, edges } = options;
    const margin = { top: 18, right: 14, bottom: 40, left: 40 };
    const root = canvas(box, width, height, label);
    const plotW = width - margin.left - margin.right;
    const plotH = height - margin.top - margin.bottom;
    const scale = ticks(Math.max(...bars.map((b) => b.value)), 4);
    const top = scale[scale.length - 1];
    const y = (v) => margin.top + plotH - (v / top) * plotH;
    for (const t of scale) {
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
          integer.format(t),
        ),
      );
    }
    const band = plotW / bars.length;
    const gap = Math.min(band * 0.2, 12);
    bars.forEach((bar, i) => {
      const x = margin.left + i * band;
      const h = (bar.value / top) * plotH;
      root.append(
        svg(
          "rect",
          Object.assign(
            {
              class: "bar",
              x: x + gap / 2,
              y: y(bar.value),
              width: Math.max(band - gap, 1),
              height: h,
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
      if (!edges) {
        root.append(
          svg(
            "text",
            {
              class: "tick",
              x: x + band / 2,
              y: height - margin.bottom + 16,
              "text-anchor": "middle",
            },
            bar.label,
          ),
        );
      }
    });
    if (edges) {
      // Every edge when they fit, else every other one.
      const every = band < 34 ? 2 : 1;
      edges.forEach((edge, i) => {
        if (i % every !== 0) return;
        const x = margin.left + i * band;
        root.append(
          svg(
            "text",
            { class: "tick", x, y: height - margin.bottom + 16, "text-anchor": "middle" },
            edge,
          ),
        );
      });
    }
    root.append(
      svg("line", { class: "axis", x1: margin.left, x2: width - margin.right, y1: y(0), y2: y(0) }),
      svg(
        "text",
        { class: "axis-label", x: margin.left + plotW / 2, y: height - 6, "text-anchor": "middle" },
        xTitle,
      ),
    );
  }

  // ---------------------------------------------------------------------
  // The data: overview figures, the data version and when it was scraped.

  function formatTime(iso) {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return iso;
    return date
      .toISOString()
      .replace("T", " ")
      .replace(/:\d\d(\.\d+)?Z$/, " UTC");
  }

  function fact(term, ...value) {
    return html("div", {}, html("dt", {}, term), html("dd", {}, ...value));
  }

  /** A fact whose value is a phrase rather than a figure. */
  function textFact(term, value) {
    return html("div", {}, html("dt", {}, term), html("dd", { class: "text" }, value));
  }

  function showData(overview, identity) {
    const scraped = overview.scraped_at;
    const hash = identity ? identity.content_hash : null;
    const facts = html(
      "dl",
      { class: "facts" },
      fact("Books", integer.format(overview.total_books)),
      fact("Categories", integer.format(overview.total_categories)),
      fact("Average price", pounds.format(overview.average_price)),
      fact("Median price", pounds.format(overview.median_price)),
      textFact(
        "Prices",
        `${pounds.format(overview.min_price)} to ${pounds.format(overview.max_price)}`,
      ),
      fact("Average rating", `${overview.average_rating.toFixed(2)} ★`),
      textFact(
        "In stock",
        `${integer.format(overview.books_in_stock)} books, ${integer.format(overview.total_stock)} copies`,
      ),
      fact(
        "Scraped",
        scraped
          ? html("time", { id: "scraped-at", datetime: scraped }, formatTime(scraped))
          : "not recorded",
      ),
      html(
        "div",
        {},
        html("dt", {}, "Data version (content hash)"),
        hash
          ? html(
              "dd",
              { class: "small", id: "data-version", title: hash, "data-content-hash": hash },
              hash.slice(0, 16),
            )
          : html("dd", { class: "small" }, "unavailable"),
      ),
    );
    show("data", facts);
  }

  // ---------------------------------------------------------------------
  // Books per star rating.

  function showRatings(overview) {
    const bars = [1, 2, 3, 4, 5].map((stars) => ({
      label: `${stars} ★`,
      title: `${stars} star${stars > 1 ? "s" : ""}`,
      value: Number(overview.rating_distribution[String(stars)] || 0),
      attrs: { "data-rating": stars },
    }));
    const total = bars.reduce((sum, b) => sum + b.value, 0);
    const label = `Books per star rating: ${bars.map((b) => `${b.title}, ${b.value}`).join("; ")}.`;
    show(
      "ratings",
      chart(label, (box, width) =>
        drawColumns(box, width, { bars, height: 240, label, xTitle: "Stars" }),
      ),
      asTable(
        ["Stars", "Books", "Share"],
        bars.map((b) => [
          b.label,
          integer.format(b.value),
          `${((100 * b.value) / total).toFixed(1)} %`,
        ]),
        [1, 2],
      ),
    );
  }

  // ---------------------------------------------------------------------
  // Every book's price and rating: a histogram and a scatter.

  /** Rows of price and rating from the training-data CSV (header first). */
  function parseBooksCsv(text) {
    const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
    const header = (lines.shift() || "").split(",");
    const price = header.indexOf("price");
    const rating = header.indexOf("rating");
    if (price < 0 || rating < 0) throw new Error("the training data has no price or rating column");
    return lines.map((line) => {
      const cells = line.split(",");
      return { price: Number(cells[price]), rating: Number(cells[rating]) };
    });
  }

  function histogram(books, step) {
    const prices = books.map((b) => b.price);
    const from = Math.floor(Math.min(...prices) / step) * step;
    const bins = Math.floor((Math.max(...prices) - from) / step) + 1;
    const counts = new Array(bins).fill(0);
    for (const p of prices) counts[Math.min(Math.floor((p - from) / step), bins - 1)] += 1;
    return counts.map((count, i) => ({ from: from + i * step, to: from + (i + 1) * step, count }));
  }

  function showPrices(books) {
    const bins = histogram(books, 5);
    const bars = bins.map((b) => ({
      title: `£${b.from} to £${b.to}`,
      value: b.count,
      attrs: { "data-from": b.from, "data-to": b.to },
    }));
    const edges = bins.map((b) => `£${b.from}`).concat(`£${bins[bins.length - 1].to}`);
    const label = `Price histogram of ${books.length} books in £5 bins: ${bars.map((b) => `${b.title}, ${b.value}`).join("; ")}.`;
    show(
      "prices",
      chart(label, (box, width) =>
        drawColumns(box, width, {
          bars,
          height: 240,
          label,
          edges,
          xTitle: "Price (GBP, £5 bins, lower bound included)",
        }),
      ),
      asTable(
        ["Price", "Books"],
        bins.map((b) => [`£${b.from} to under £${b.to}`, integer.format(b.count)]),
        [1],
      ),
    );
  }

  function median(sorted) {
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }

  function byRating(books) {
    return [1, 2, 3, 4, 5].map((stars) => {
      const prices = books
        .filter((b) => b.rating === stars)
        .map((b) => b.price)
        .sort((a, b) => a - b);
      const mean = prices.reduce((s, p) => s + p, 0) / (prices.length || 1);
      return { stars, prices, mean, median: prices.length ? median(prices) : 0 };
    });
  }

  function drawScatter(box, width, books, groups, label) {
    const height = 300;
    const margin = { top: 10, right: 10, bottom: 40, left: 44 };
    const root = canvas(box, width, height, label);
    const plotW = width - margin.left - margin.right;
    const plotH = height - margin.top - margin.bottom;
    const scale = ticks(Math.max(...books.map((b) => b.price)), 5);
    const top = scale[scale.length - 1];
    const y = (price) => margin.top + plotH - (price / top) * plotH;
    const band = plotW / 5;
    const middle = (stars) => margin.left + (stars - 0.5) * band;
    for (const t of scale) {
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
          `£${t}`,
        ),
      );
    }
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
        svg(
          "text",
          { class: "tick", x, y: height - margin.bottom + 16, "text-anchor": "middle" },
          `${g.stars} ★`,
        ),
      );
    }
    root.append(
      svg("line", { class: "axis", x1: margin.left, x2: width - margin.right, y1: y(0), y2: y(0) }),
      svg(
        "text",
        { class: "axis-label", x: margin.left + plotW / 2, y: height - 6, "text-anchor": "middle" },
        "Stars (points spread sideways)",
      ),
    );
  }

  function showScatter(books) {
    const groups = byRating(books);
    const label =
      `Price against rating for ${books.length} books. Mean price by stars: ` +
      groups.map((g) => `${g.stars}, ${pounds.format(g.mean)}`).join("; ") +
      ".";
    show(
      "scatter",
      chart(label, (box, width) => drawScatter(box, width, books, groups, label)),
      legend(["point", "a book"], ["mean", "mean price for those stars"]),
      asTable(
        ["Stars", "Books", "Cheapest", "Median", "Mean", "Dearest"],
        groups.map((g) => [
          `${g.stars} ★`,
          integer.format(g.prices.length),
          pounds.format(g.prices[0] || 0),
          pounds.format(g.median),
          pounds.format(g.mean),
          pounds.format(g.prices[g.prices.length - 1] || 0),
        ]),
        [1, 2, 3, 4, 5],
      ),
    );
  }

  // ---------------------------------------------------------------------
  // Books and average price per category: two bar columns side by side.

  const SORTS = {
    books: (a, b) => b.book_count - a.book_count || a.name.localeCompare(b.name),
    price: (a, b) => b.average_price - a.average_price || a.name.localeCompare(b.name),
    name: (a, b) => a.name.localeCompare(b.name),
  };

  function drawCategories(box, width, items, label) {
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
        const w = Math.max(((columnW - c.room) * value) / c.max, 1);
        root.append(
          svg(
            "rect",
            {
              class: c.kind,
              x: c.x,
              y: top + 4,
              width: w.toFixed(1),
              height: row - 8,
              "data-category": item.name,
              "data-value": value,
            },
            svg("title", {}, `${item.name}: ${c.title.toLowerCase()} ${c.format(value)}`),
          ),
          svg(
            "text",
            { class: "value", x: (c.x + w + 4).toFixed(1), y: top + 15 },
            c.format(value),
          ),
        );
      }
    });
  }

  function showCategories(list) {
    const items = list.items.slice();
    const label = `Books and average price in each of ${items.length} categories.`;
    let order = "books";
    const select = html(
      "select",
      { id: "category-order" },
      html("option", { value: "books" }, "most books"),
      html("option", { value: "price" }, "highest average price"),
      html("option", { value: "name" }, "name"),
    );
    const drawn = chart(label, (box, width) =>
      drawCategories(box, width, items.slice().sort(SORTS[order]), label),
    );
    select.addEventListener("change", () => {
      order = select.value in SORTS ? select.value : "books";
      refresh(drawn);
    });
    show(
      "categories",
      html(
        "p",
        { class: "controls" },
        html("label", { for: "category-order" }, "Sort by "),
        select,
      ),
      drawn,
      legend(["bar", "books"], ["second", "average price (GBP)"]),
      asTable(
        ["Category", "Books", "Average price", "Average rating"],
        items
          .slice()
          .sort(SORTS.name)
          .map((c) => [
            c.name,
            integer.format(c.book_count),
            pounds.format(c.average_price),
            `${c.average_rating.toFixed(2)} ★`,
          ]),
        [1, 2, 3],
      ),
    );
  }

  // ---------------------------------------------------------------------
  // The category model's card: held-out figures against the baseline.

  function percent(x) {
    return `${(100 * x).toFixed(1)} %`;
  }

  function algorithmName(a) {
    if (!a) return "unknown";
    if (a.algorithm === "logistic_regression") {
      return `logistic regression (L2 ${a.l2}${a.balanced ? ", balanced" : ""})`;
    }
    if (a.algorithm === "complement_naive_bayes") return `complement naive Bayes (α ${a.alpha})`;
    return String(a.algorithm);
  }

  function drawComparison(box, width, rows, label) {
    const row = 42;
    const height = rows.length * row + 4;
    const root = canvas(box, width, height, label);
    const room = 52;
    const barW = width - room;
    rows.forEach((r, i) => {
      const top = i * row;
      root.append(svg("text", { x: 0, y: top + 12 }, r.name));
      [
        ["model", r.model, "bar"],
        ["baseline", r.baseline, "bar second"],
      ].forEach(([who, value, kind], j) => {
        const w = Math.max(barW * value, 1);
        const y = top + 17 + j * 11;
        root.append(
          svg(
            "rect",
            {
              class: kind,
              x: 0,
              y,
              width: w.toFixed(1),
              height: 9,
              "data-metric": r.name,
              "data-who": who,
              "data-value": value.toFixed(4),
            },
            svg("title", {}, `${r.name}, ${who}: ${percent(value)}`),
          ),
          svg("text", { class: "value", x: (w + 4).toFixed(1), y: y + 8 }, percent(value)),
        );
      });
    });
  }

  function showModel(model, served) {
    const card = model.card || {};
    const evaluation = card.evaluation || {};
    const ours = evaluation.model || {};
    const base = evaluation.majority_baseline || {};
    const rows = [
      { name: "Accuracy", model: ours.accuracy, baseline: base.accuracy },
      { name: "Top-3 accuracy", model: ours.top3_accuracy, baseline: base.top3_accuracy },
      { name: "Macro F1", model: ours.macro_f1, baseline: base.macro_f1 },
    ].filter((r) => typeof r.model === "number" && typeof r.baseline === "number");
    const label =
      `Held-out figures of the category model against always guessing ${evaluation.baseline_category || "the commonest category"}: ` +
      rows.map((r) => `${r.name} ${percent(r.model)} against ${percent(r.baseline)}`).join("; ") +
      ".";
    const data = card.data || {};
    const others = (card.other_targets || []).map((t) =>
      html("li", {}, html("strong", {}, t.target), ": ", t.conclusion),
    );
    show(
      "model",
      html(
        "div",
        { class: "columns" },
        html(
          "dl",
          { class: "facts" },
          textFact("Model", model.name),
          html(
            "div",
            {},
            html("dt", {}, "Version"),
            html("dd", { class: "small", id: "model-version" }, model.version),
          ),
          fact("Classes", integer.format((model.classes || []).length)),
          fact("Vocabulary", `${integer.format(model.vocabulary_terms || 0)} terms`),
          textFact("Algorithm", algorithmName(card.algorithm)),
          textFact("Trained on", `${integer.format(data.books || 0)} books`),
          html(
            "div",
            {},
            html("dt", {}, "Training data"),
            html(
              "dd",
              { class: "small", title: data.content_hash || "" },
              String(data.content_hash || "unknown").slice(0, 12),
            ),
            served && data.content_hash
              ? html(
                  "dd",
                  { class: "text" },
                  data.content_hash === served.content_hash
                    ? "the data served"
                    : "not the data served",
                )
              : null,
          ),
        ),
        html(
          "div",
          {},
          html("h3", {}, `Held out: ${integer.format(ours.books || 0)} test books`),
          html(
            "p",
            { class: "source" },
            `Against always guessing ${evaluation.baseline_category || "the commonest category"}.`,
          ),
          rows.length
            ? chart(label, (box, width) => drawComparison(box, width, rows, label))
            : null,
          legend(["bar", "model"], ["second", "baseline"]),
        ),
        html(
          "div",
          {},
          others.length ? html("h3", {}, "Other targets training looked at") : null,
          others.length ? html("ul", { class: "card-list" }, ...others) : null,
          html(
            "details",
            {},
            html("summary", {}, "Task, intended use and limitations"),
            html("p", {}, card.task || ""),
            html(
              "ul",
              { class: "card-list" },
              ...(card.intended_use || [])
                .concat(card.limitations || [])
                .map((t) => html("li", {}, t)),
            ),
          ),
        ),
      ),
    );
  }

  // ---------------------------------------------------------------------
  // Live requests from /metrics (the local server only).

  /**
   * The samples of a Prometheus text exposition: [{name, labels, value}].
   * Tolerant: comments, blank and malformed lines are skipped; label values
   * may hold escaped quotes, backslashes and newlines; timestamps are
   * ignored; +Inf, -Inf and NaN are numbers.
   */
  function parsePrometheus(text) {
    const samples = [];
    for (const raw of String(text).split("\n")) {
      const line = raw.trim();
      if (line === "" || line.startsWith("#")) continue;
      const sample = parseSample(line);
      if (sample) samples.push(sample);
    }
    return samples;
  }

  function parseSample(line) {
    const name = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(line);
    if (!name) return null;
    let i = name[0].length;
    const labels = {};
    const spaces = () => {
      while (line[i] === " " || line[i] === "\t") i += 1;
    };
    spaces();
    if (line[i] === "{") {
      i += 1;
      for (;;) {
        spaces();
        if (line[i] === "}") {
          i += 1;
          break;
        }
        const label = /[A-Za-z_][A-Za-z0-9_]*/y;
        label.lastIndex = i;
        const found = label.exec(line);
        if (!found) return null;
        i = label.lastIndex;
        spaces();
        if (line[i] !== "=") return null;
        i += 1;
        spaces();
        if (line[i] !== '"') return null;
        i += 1;
        let value = "";
        for (;;) {
          if (i >= line.length) return null;
          const c = line[i];
          if (c === '"') break;
          if (c === "\\" && i + 1 < line.length) {
            const next = line[i + 1];
            value += next === "n" ? "\n" : next;
            i += 2;
          } else {
            value += c;
            i += 1;
          }
        }
        i += 1;
        labels[found[0]] = value;
        spaces();
        if (line[i] === ",") i += 1;
        else if (line[i] !== "}") return null;
      }
    }
    const value = parseNumber(line.slice(i).trim().split(/\s+/)[0]);
    if (value === null) return null;
    return { name: name[0], labels, value };
  }

  function parseNumber(text) {
    if (text === undefined || text === "") return null;
    const special = { "+Inf": Infinity, Inf: Infinity, "-Inf": -Infinity, NaN: NaN };
    if (text in special) return special[text];
    const value = Number(text);
    return Number.isNaN(value) ? null : value;
  }

  /** Request counts and latency histogram of one route, or of them all. */
  function blankFigures() {
    return { requests: 0, sum: 0, count: 0, buckets: new Map() };
  }

  /**
   * The figures of parsed `samples`: totals and per route, leaving out
   * requests to `exclude` (the dashboard's own polls of /metrics).
   */
  function summarize(samples, exclude) {
    const total = blankFigures();
    const routes = new Map();
    const info = { inFlight: null, data: null, books: null };
    const of = (route) => {
      if (!routes.has(route)) routes.set(route, blankFigures());
      return routes.get(route);
    };
    for (const { name, labels, value } of samples) {
      const route = labels.route;
      if (name.startsWith("http_request") && route === exclude) continue;
      if (name === "http_requests_total") {
        total.requests += value;
        of(route).requests += value;
      } else if (name === "http_request_duration_seconds_bucket") {
        const le = parseNumber(labels.le);
        if (le === null) continue;
        for (const figures of [total, of(route)]) {
          figures.buckets.set(le, (figures.buckets.get(le) || 0) + value);
        }
      } else if (name === "http_request_duration_seconds_sum") {
        total.sum += value;
        of(route).sum += value;
      } else if (name === "http_request_duration_seconds_count") {
        total.count += value;
        of(route).count += value;
      } else if (name === "http_requests_in_flight") {
        info.inFlight = value;
      } else if (name === "books_data_info") {
        info.data = { content_hash: labels.content_hash, scraped_at: labels.scraped_at };
      } else if (name === "books_data_books") {
        info.books = value;
      }
    }
    return { total, routes, info };
  }

  /** How much a counter grew; a restarted server starts again from 0. */
  function growth(before, after) {
    return after >= before ? after - before : after;
  }

  /**
   * The `q` quantile (0..1) estimated from cumulative `buckets` ([le,
   * count] by le), interpolating linearly inside a bucket as Prometheus's
   * histogram_quantile does; null without observations.
   */
  function quantile(q, buckets) {
    const sorted = buckets.slice().sort((a, b) => a[0] - b[0]);
    if (!sorted.length) return null;
    const total = sorted[sorted.length - 1][1];
    if (!(total > 0)) return null;
    const rank = q * total;
    let lower = 0;
    let below = 0;
    for (const [le, count] of sorted) {
      if (count >= rank) {
        if (le === Infinity) return lower;
        if (count === below) return le;
        return lower + ((le - lower) * (rank - below)) / (count - below);
      }
      lower = le;
      below = count;
    }
    return lower;
  }

  /** What happened between two figures `seconds` apart. */
  function delta(before, after, seconds) {
    before = before || blankFigures();
    const count = growth(before.count, after.count);
    const buckets = [];
    for (const [le, value] of after.buckets)
      buckets.push([le, growth(before.buckets.get(le) || 0, value)]);
    return {
      requests: growth(before.requests, after.requests),
      rate: seconds > 0 ? growth(before.requests, after.requests) / seconds : 0,
      mean: count > 0 ? growth(before.sum, after.sum) / count : null,
      p50: quantile(0.5, buckets),
      p95: quantile(0.95, buckets),
    };
  }

  /** The interval between two summaries: overall and for each route. */
  function interval(before, after, seconds) {
    const routes = [];
    for (const [route, figures] of after.routes) {
      routes.push(
        Object.assign(
          { route, total: figures.requests },
          delta(before.routes.get(route), figures, seconds),
        ),
      );
    }
    return { total: delta(before.total, after.total, seconds), routes };
  }

  /** A route template as code that may wrap after its slashes. */
  function routeCode(route) {
    const parts = String(route).split("/");
    const code = html("code", {});
    parts.forEach((part, i) => {
      if (i > 0) code.append("/", html("wbr", {}));
      code.append(part);
    });
    return code;
  }

  function milliseconds(seconds) {
    if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "–";
    const ms = seconds * 1000;
    return `${ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2)} ms`;
  }

  function rate(perSecond) {
    return `${perSecond >= 10 ? perSecond.toFixed(0) : perSecond.toFixed(perSecond > 0 && perSecond < 0.1 ? 2 : 1)} req/s`;
  }

  /** A small line chart of `series` ([{values, kind, name}]) over time. */
  function drawSparkline(box, width, series, label, format) {
    const height = 90;
    const margin = { top: 8, right: 4, bottom: 6, left: 56 };
    const root = canvas(box, width, height, label);
    const all = series.flatMap((s) => s.values).filter((v) => v !== null && Number.isFinite(v));
    const top = ticks(Math.max(...all, 0), 2);
    const max = top[top.length - 1];
    const plotW = width - margin.left - margin.right;
    const plotH = height - margin.top - margin.bottom;
    const y = (v) => margin.top + plotH - (v / max) * plotH;
    for (const t of [0, max]) {
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
    // The newest value at the right; the line grows leftwards until it
    // holds HISTORY polls, then scrolls.
    const span = Math.min(HISTORY, Math.max(12, ...series.map((s) => s.values.length)));
    const step = plotW / (span - 1);
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

  /** Whether `hostname` names this machine: only there is /metrics answered. */
  function isLoopback(hostname) {
    return LOOPBACK.includes(hostname);
  }

  function startLive() {
    const id = "live";
    const section = panel(id);
    if (!isLoopback(location.hostname)) {
      section.dataset.state = "unavailable";
      section
        .querySelector(".body")
        .replaceChildren(
          html(
            "p",
            { class: "message" },
            "Live request figures show on the local server (",
            html("code", {}, "books serve"),
            ") when this page is opened from the server's own machine, at ",
            html("code", {}, "http://127.0.0.1:3000/dashboard"),
            ". This deployment has no ",
            html("code", {}, "/metrics"),
            ", so the page asks for none.",
          ),
        );
      return;
    }
    section.dataset.polls = "0";
    const history = { rate: [], mean: [], p95: [] };
    let last = null;
    let timer = 0;

    const remember = (list, value) => {
      list.push(value);
      if (list.length > HISTORY) list.shift();
    };

    // The panel's parts: the figures and the routes are replaced at every
    // poll; the sparklines are redrawn (and follow the panel's width).
    let layout = null;
    const lay = () => {
      const facts = html("div");
      const routes = html("div");
      const rateChart = chart("Requests per second", (box, width) =>
        drawSparkline(
          box,
          width,
          [{ values: history.rate, kind: "" }],
          `Requests per second, every ${POLL_MS / 1000} s: ${history.rate.map((v) => v.toFixed(1)).join(", ")}`,
          (v) => `${v}/s`,
        ),
      );
      const latencyChart = chart("Latency", (box, width) =>
        drawSparkline(
          box,
          width,
          [
            { values: history.mean, kind: "" },
            { values: history.p95, kind: "second" },
          ],
          `Mean and p95 latency over the last ${history.mean.length} polls`,
          (v) => milliseconds(v),
        ),
      );
      for (const old of layout ? layout.sparks : []) forget(old);
      section
        .querySelector(".body")
        .replaceChildren(
          facts,
          html(
            "div",
            { class: "columns" },
            html(
              "div",
              {},
              html("h3", {}, "Requests per second"),
              rateChart,
              legend(["bar", "every request but these polls"]),
            ),
            html(
              "div",
              {},
              html("h3", {}, "Latency"),
              latencyChart,
              legend(["bar", "mean"], ["second", "p95 (estimated from the histogram)"]),
            ),
          ),
          html(
            "details",
            { class: "routes", open: true },
            html("summary", {}, "Busiest routes in the last interval"),
            routes,
          ),
        );
      return { facts, routes, sparks: [rateChart, latencyChart] };
    };

    const render = (summary, figures) => {
      const t = figures ? figures.total : null;
      const data = summary.info.data;
      const facts = html(
        "dl",
        { class: "facts live-figures" },
        fact("Request rate", t ? rate(t.rate) : "measuring…"),
        fact("Mean latency", t ? milliseconds(t.mean) : "–"),
        fact("p50 latency", t ? milliseconds(t.p50) : "–"),
        fact("p95 latency", t ? milliseconds(t.p95) : "–"),
        // The gauge counts the poll that reads it.
        fact(
          "In flight (others)",
          summary.info.inFlight === null
            ? "–"
            : integer.format(Math.max(summary.info.inFlight - 1, 0)),
        ),
        fact("Requests since start", integer.format(summary.total.requests)),
        data
          ? html(
              "div",
              {},
              html("dt", {}, "Data served"),
              html(
                "dd",
                { class: "small", id: "live-data", "data-content-hash": data.content_hash },
                String(data.content_hash).slice(0, 12),
              ),
            )
          : null,
      );
      const routes = figures
        ? figures.routes
            .filter((r) => r.requests > 0)
            .sort((a, b) => b.rate - a.rate || a.route.localeCompare(b.route))
            .slice(0, 8)
        : [];
      if (!layout || section.dataset.state !== "ready") layout = lay();
      layout.facts.replaceChildren(facts);
      layout.routes.replaceChildren(
        routes.length
          ? table(
              ["Route", "req/s", "Mean", "p95"],
              routes.map((r) => [
                routeCode(r.route),
                rate(r.rate).replace(" req/s", ""),
                milliseconds(r.mean),
                milliseconds(r.p95),
              ]),
              [1, 2, 3],
            )
          : html(
              "p",
              { class: "message" },
              figures ? "No requests besides these polls." : "Measuring…",
            ),
      );
      layout.sparks.forEach(refresh);
      section.dataset.state = "ready";
      if (t) section.dataset.rate = String(t.rate);
    };

    const stop = (message) => {
      clearTimeout(timer);
      fail(id, message);
      section.dataset.state = "stopped";
    };

    const poll = async () => {
      if (document.hidden) {
        timer = setTimeout(poll, POLL_MS);
        return;
      }
      try {
        const text = await getText("/metrics", "text/plain");
        const now = performance.now();
        const summary = summarize(parsePrometheus(text), "/metrics");
        let figures = null;
        if (last) {
          figures = interval(last.summary, summary, (now - last.at) / 1000);
          remember(history.rate, figures.total.rate);
          remember(history.mean, figures.total.mean);
          remember(history.p95, figures.total.p95);
        }
        last = { summary, at: now };
        section.dataset.polls = String(Number(section.dataset.polls) + 1);
        render(summary, figures);
      } catch (error) {
        const status = error instanceof HttpError ? error.status : 0;
        if (status === 401 || status === 403) {
          stop(
            `This server refused /metrics (HTTP ${status}): it answers only clients on its own machine, or a bearer token. Live figures stopped.`,
          );
          return;
        }
        if (status === 404) {
          stop(
            "This server has no /metrics (HTTP 404): live figures need a build of books serve with metrics. Stopped.",
          );
          return;
        }
        fail(id, `${error.message}. Trying again…`);
      }
      timer = setTimeout(poll, POLL_MS);
    };
    poll();
  }

  // ---------------------------------------------------------------------
  // Start: every panel on its own, errors shown where they happen.

  function load(ids, promise, render) {
    return promise.then(render).catch((error) => {
      for (const id of ids) fail(id, `Could not draw this panel: ${error.message}`);
    });
  }

  function start() {
    const overview = getJson("/api/v1/stats/overview");
    const identity = getJson("/api/v1/ml/features")
      .then((features) => features.data)
      .catch(() => null);
    const books = getText(
      "/api/v1/ml/training-data?columns=price,rating&format=csv",
      "text/csv",
    ).then(parseBooksCsv);
    Promise.all([
      load(["data"], Promise.all([overview, identity]), ([o, i]) => showData(o, i)),
      load(["ratings"], overview, showRatings),
      load(["prices", "scatter"], books, (rows) => {
        showPrices(rows);
        showScatter(rows);
      }),
      load(["categories"], getJson("/api/v1/stats/categories"), showCategories),
      load(["model"], Promise.all([getJson("/api/v1/ml/model"), identity]), ([m, i]) =>
        showModel(m, i),
      ),
    ]).then(() => {
      document.body.dataset.loaded = "true";
    });
    startLive();
  }

  // For the browser test: the metrics parser and its arithmetic.
  window.booksDashboard = { parsePrometheus, summarize, interval, quantile, isLoopback };

  start();
})();
