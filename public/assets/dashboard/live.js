// The dashboard's live panel (the local server only): reads /metrics
// (Prometheus text) every few seconds and shows the request rate, the
// latency and the busiest routes, with sparklines.

import { chart, drawSparkline, forget, refresh } from "./charts.js";
import { fact, fail, getText, HttpError, legend, panel, smallFact, table } from "./page.js";
import { html, integer } from "./svg.js";

const POLL_MS = 2500;
const HISTORY = 60;
const LOOPBACK = ["127.0.0.1", "localhost", "[::1]", "::1"];

// ---------------------------------------------------------------------
// The Prometheus text format and its arithmetic.

/**
 * The samples of a Prometheus text exposition: [{name, labels, value}].
 * Tolerant: comments, blank and malformed lines are skipped; label values
 * may hold escaped quotes, backslashes and newlines; timestamps are
 * ignored; +Inf, -Inf and NaN are numbers.
 */
export function parsePrometheus(text) {
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
export function summarize(samples, exclude) {
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
export function quantile(q, buckets) {
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
export function interval(before, after, seconds) {
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


// ---------------------------------------------------------------------
// The panel.

/** Whether `hostname` names this machine: only there is /metrics answered. */
export function isLoopback(hostname) {
  return LOOPBACK.includes(hostname);
}

export function startLive() {
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
        HISTORY,
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
        HISTORY,
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
        ? smallFact(
            "Data served",
            { id: "live-data", "data-content-hash": data.content_hash },
            String(data.content_hash).slice(0, 12),
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
