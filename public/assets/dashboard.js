// The dashboard at /dashboard: reads the API of this origin and draws its
// charts as SVG, at the width of their panel (redrawn when that changes).
// No chart library and no other origin. Each panel handles its own errors:
// a failed request shows a message in that panel, the others carry on.
//
// On a loopback address (the local server, opened from its own machine) the
// live panel polls /metrics (Prometheus text) and shows the request rate and
// latency; anywhere else it says so and makes no request.
//
// This module holds the panels and starts them; dashboard/svg.js has the
// drawing helpers, dashboard/charts.js the charts, dashboard/page.js the
// panel helpers and requests, dashboard/live.js the live panel.

import {
  chart,
  drawCategories,
  drawColumns,
  drawComparison,
  drawScatter,
  refresh,
} from "./dashboard/charts.js";
import {
  interval,
  isLoopback,
  parsePrometheus,
  quantile,
  startLive,
  summarize,
} from "./dashboard/live.js";
import {
  asTable,
  fact,
  fail,
  getJson,
  getText,
  legend,
  show,
  smallFact,
  textFact,
} from "./dashboard/page.js";
import { html, integer, percent, pounds } from "./dashboard/svg.js";

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
    hash
      ? smallFact(
          "Data version (content hash)",
          { id: "data-version", title: hash, "data-content-hash": hash },
          hash.slice(0, 16),
        )
      : smallFact("Data version (content hash)", {}, "unavailable"),
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

function algorithmName(a) {
  if (!a) return "unknown";
  if (a.algorithm === "logistic_regression") {
    return `logistic regression (L2 ${a.l2}${a.balanced ? ", balanced" : ""})`;
  }
  if (a.algorithm === "complement_naive_bayes") return `complement naive Bayes (α ${a.alpha})`;
  return String(a.algorithm);
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
        smallFact("Version", { id: "model-version" }, model.version),
        fact("Classes", integer.format((model.classes || []).length)),
        fact("Vocabulary", `${integer.format(model.vocabulary_terms || 0)} terms`),
        textFact("Algorithm", algorithmName(card.algorithm)),
        textFact("Trained on", `${integer.format(data.books || 0)} books`),
        smallFact(
          "Training data",
          { title: data.content_hash || "" },
          String(data.content_hash || "unknown").slice(0, 12),
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
