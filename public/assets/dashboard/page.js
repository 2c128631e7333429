// The dashboard's panels and requests: what a panel shows (content, an
// error, a table, a legend, facts) and the reads from this origin.

import { html } from "./svg.js";

// ---------------------------------------------------------------------
// Panels.

export function panel(id) {
  return document.getElementById(id);
}

/** Replaces what panel `id` shows, and marks it ready. */
export function show(id, ...children) {
  const section = panel(id);
  section.querySelector(".body").replaceChildren(...children);
  section.dataset.state = "ready";
}

/** Shows `message` in panel `id` instead of its content. */
export function fail(id, message) {
  const section = panel(id);
  section
    .querySelector(".body")
    .replaceChildren(html("p", { class: "message error", role: "alert" }, message));
  section.dataset.state = "error";
}

export function table(headers, rows, numeric) {
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
export function asTable(headers, rows, numeric) {
  return html(
    "details",
    {},
    html("summary", {}, "The figures as a table"),
    table(headers, rows, numeric),
  );
}

export function legend(...items) {
  return html(
    "ul",
    { class: "legend" },
    ...items.map(([kind, label]) => html("li", {}, html("span", { class: kind }), label)),
  );
}

/** A term of a <dl class="facts"> and its value(s) (<dd> elements). */
function term(name, ...values) {
  return html("div", {}, html("dt", {}, name), ...values);
}

/** A fact: a term and its figure. */
export function fact(name, ...value) {
  return term(name, html("dd", {}, ...value));
}

/** A fact whose value is a phrase rather than a figure. */
export function textFact(name, value) {
  return term(name, html("dd", { class: "text" }, value));
}

/**
 * A fact whose value is an identifier (a hash, a version), in small type;
 * `attrs` go on its <dd>, `more` (other <dd>s) follow it.
 */
export function smallFact(name, attrs, value, ...more) {
  return term(name, html("dd", Object.assign({ class: "small" }, attrs), value), ...more);
}

// ---------------------------------------------------------------------
// Requests.

export class HttpError extends Error {
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

export async function getJson(path) {
  return (await get(path, "application/json")).json();
}

export async function getText(path, accept) {
  return (await get(path, accept)).text();
}
