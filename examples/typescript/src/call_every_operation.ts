/**
 * Calls every operation of the books API with a client generated from its
 * OpenAPI document, and checks what each one answers.
 *
 * The types are openapi-typescript's output for the document (`paths`, and
 * the schemas of components/schemas); openapi-fetch's `createClient<paths>()`
 * makes every call from them: the path, its parameters and body are checked
 * by tsc, `data` is the documented success body and `error` the documented
 * error body (a `Problem`). scripts/clients/run.sh generates the types
 * (`openapi-typescript openapi.json -o target/clients/typescript/schema.d.ts`),
 * compiles this (`tsc -p examples/typescript`, into
 * target/clients/typescript/js) and runs it with node against a local
 * `books serve`, with BOOKS_URL, BOOKS_USER and BOOKS_PASSWORD set; the user
 * must be an admin (BOOKS_USERS of the server) for the scrape routes.
 * Stops at the first failed check, saying which; prints
 * "N operations called, M checks passed" at the end.
 */
import createClient from "openapi-fetch";
// Generated, not committed: `paths` and `components` of the served document.
import type { components, paths } from "../../../target/clients/typescript/schema.js";

type Problem = components["schemas"]["Problem"];

// The committed catalogue: 1000 books, the last of them this one.
const TOTAL_BOOKS = 1000;
const BOOK_ID = 1000;
const BOOK_TITLE = "A Light in the Attic";
const BOOK_CATEGORY = "Poetry";

let checksPassed = 0;
// "METHOD /path" of every request made, from the client's middleware.
const operationsCalled = new Set<string>();

/** One assertion: counted when it holds, the end of the run when not. */
function check(condition: boolean, what: string): asserts condition {
  if (!condition) {
    console.error(`FAILED: ${what}`);
    process.exit(1);
  }
  checksPassed += 1;
}

/** What openapi-fetch resolves to: the success body or the error body. */
interface Answer<Data, Error> {
  data?: Data;
  error?: Error;
  response: Response;
}

/** The success body of a call that must answer `status`. */
async function body<Data, Error>(call: Promise<Answer<Data, Error>>, status: number, what: string): Promise<Data> {
  const { data, error, response } = await call;
  check(response.status === status, `${what}: ${response.status}, not ${status}: ${JSON.stringify(error)}`);
  check(data !== undefined, `${what}: no body`);
  return data;
}

/** The error of a call that must fail with `status`, read as a `Problem`. */
async function problem<Data>(call: Promise<Answer<Data, Problem>>, status: number, what: string): Promise<Problem> {
  const { error, response } = await call;
  check(response.status === status, `${what}: ${response.status}, not ${status}`);
  check(error !== undefined && error.status === status, `${what}: a Problem with status ${status}`);
  return error;
}

type Client = ReturnType<typeof createClient<paths>>;

function clientFor(baseUrl: string, headers: Record<string, string> = {}): Client {
  const client = createClient<paths>({ baseUrl, headers });
  client.use({
    onRequest({ request, schemaPath }) {
      operationsCalled.add(`${request.method} ${schemaPath}`);
    },
  });
  return client;
}

// --- meta and books: public reads ----------------------------------------------------

async function readHealth(client: Client): Promise<void> {
  const health = await body(client.GET("/api/v1/health"), 200, "getHealth");
  check(health.books === TOTAL_BOOKS, `getHealth: ${health.books} books`);
}

async function readBooks(client: Client): Promise<void> {
  const page = await body(
    client.GET("/api/v1/books", { params: { query: { page: 2, per_page: 5 } } }),
    200,
    "listBooks",
  );
  check(page.total === TOTAL_BOOKS, `listBooks: total ${page.total}`);
  check(page.page === 2 && page.per_page === 5 && page.items.length === 5, "listBooks: page 2 of 5 books");
  check(page.total_pages === TOTAL_BOOKS / 5, `listBooks: ${page.total_pages} pages`);

  // A parameter given empty is refused (not taken as absent), naming it.
  const refused = await problem(
    client.GET("/api/v1/books", { params: { query: { category: "" } } }),
    400,
    "listBooks with an empty category",
  );
  check(refused.parameter === "category", "listBooks: the 400 names `category`");

  const book = await body(client.GET("/api/v1/books/{id}", { params: { path: { id: BOOK_ID } } }), 200, "getBook");
  check(book.title === BOOK_TITLE, `getBook: title ${book.title}`);
  check(book.category === BOOK_CATEGORY, `getBook: category ${book.category}`);

  // No such book: a 404, read as a Problem.
  await problem(client.GET("/api/v1/books/{id}", { params: { path: { id: 999999 } } }), 404, "getBook 999999");

  const similar = await body(
    client.GET("/api/v1/books/{id}/similar", { params: { path: { id: BOOK_ID }, query: { limit: 3 } } }),
    200,
    "listSimilarBooks",
  );
  check(similar.book_id === BOOK_ID && similar.items.length === 3, "listSimilarBooks: 3 books like book 1000");
  check(
    similar.items.every((item) => item.book.id !== BOOK_ID),
    "listSimilarBooks: not the book itself",
  );
}

async function searchAndFilter(client: Client): Promise<void> {
  const found = await body(
    client.GET("/api/v1/books/search", { params: { query: { q: "attic" } } }),
    200,
    "searchBooks",
  );
  check(
    found.items.some((book) => book.id === BOOK_ID),
    "searchBooks: `attic` finds book 1000",
  );

  const top = await body(
    client.GET("/api/v1/books/top-rated", { params: { query: { per_page: 10 } } }),
    200,
    "listTopRatedBooks",
  );
  check(top.items.length === 10 && top.items.every((book) => book.rating === 5), "listTopRatedBooks: 5 stars");

  const inRange = await body(
    client.GET("/api/v1/books/price-range", { params: { query: { min_price: 10, max_price: 20 } } }),
    200,
    "listBooksByPriceRange",
  );
  check(inRange.total > 0, "listBooksByPriceRange: some books cost 10 to 20");
  // (A listed book has every field unless `fields` picks some.)
  check(
    inRange.items.every(({ price }) => price !== undefined && price >= 10 && price <= 20),
    "listBooksByPriceRange: prices in range",
  );
}

async function readCategoriesAndStats(client: Client): Promise<void> {
  const categories = await body(client.GET("/api/v1/categories"), 200, "listCategories");
  const counted = categories.items.reduce((sum, category) => sum + category.book_count, 0);
  check(counted === TOTAL_BOOKS, "listCategories: every book counted once");
  check(
    categories.items.some((category) => category.name === BOOK_CATEGORY),
    "listCategories: Poetry is one",
  );

  const overview = await body(client.GET("/api/v1/stats/overview"), 200, "getStatsOverview");
  check(overview.total_books === TOTAL_BOOKS, `getStatsOverview: ${overview.total_books} books`);
  check(overview.total_categories === categories.total, "getStatsOverview: as many categories as listed");

  const perCategory = await body(client.GET("/api/v1/stats/categories"), 200, "getCategoryStats");
  check(perCategory.items.length === categories.total, "getCategoryStats: one row per category");
}

// --- ml ---------------------------------------------------------------------------------

async function readTrainingData(client: Client): Promise<void> {
  const data = await body(
    client.GET("/api/v1/ml/training-data", { params: { query: { split: "test" } } }),
    200,
    "getTrainingData",
  );
  // (Its 200 is JSON or CSV: `data` is either, JSON unless asked.)
  check(typeof data === "object", "getTrainingData: JSON");
  check(data.count === data.items.length && data.count > 0, `getTrainingData: ${data.count} rows`);

  // As CSV: the same operation, its body read as text.
  const csv = await body(
    client.GET("/api/v1/ml/training-data", {
      params: { query: { format: "csv", columns: "id,title" } },
      parseAs: "text",
    }),
    200,
    "getTrainingData as CSV",
  );
  const lines = csv.trimEnd().split("\r\n");
  check(lines[0] === "id,title", `getTrainingData: CSV header ${lines[0]}`);
  check(lines.length === TOTAL_BOOKS + 1, `getTrainingData: ${lines.length - 1} CSV rows`);
}

async function predict(client: Client): Promise<void> {
  // The request body is one of two named schemas: books by their text...
  const byText: components["schemas"]["PredictByText"] = {
    instances: [{ title: "Where the Sidewalk Ends", description: "Poems and drawings." }],
  };
  const fromText = await body(client.POST("/api/v1/ml/predictions", { body: byText }), 200, "predictCategories");
  check(fromText.predictions.length === 1, "predictCategories by text: one prediction");

  // ... or catalogue books by id.
  const byId: components["schemas"]["PredictByBookIds"] = { book_ids: [BOOK_ID] };
  const fromId = await body(client.POST("/api/v1/ml/predictions", { body: byId }), 200, "predictCategories");
  check(fromId.predictions[0]?.category === BOOK_CATEGORY, "predictCategories: book 1000 is Poetry");

  const model = await body(client.GET("/api/v1/ml/model"), 200, "getModel");
  check(model.classes.includes(BOOK_CATEGORY), "getModel: Poetry is a class");
  check(model.version === fromId.model.version, "getModel: the model that predicted");

  const features = await body(client.GET("/api/v1/ml/features"), 200, "getFeatures");
  check(features.features.length > 0, "getFeatures: profiles some features");
}

// --- auth and the admin routes -------------------------------------------------------

/** Signs in with JSON, then with the OAuth 2.0 password grant, refreshes: the access token. */
async function signInEveryWay(client: Client, username: string, password: string): Promise<string> {
  const signedIn = await body(client.POST("/api/v1/auth/login", { body: { username, password } }), 200, "signIn");
  check(signedIn.token_type === "Bearer", `signIn: token_type ${signedIn.token_type}`);

  await problem(
    client.POST("/api/v1/auth/login", { body: { username, password: `${password}-wrong` } }),
    401,
    "signIn with a wrong password",
  );

  // The password grant is a form: openapi-fetch encodes the body as one
  // when the Content-Type says so.
  const granted = await body(
    client.POST("/api/v1/auth/token", {
      body: { grant_type: "password", username, password },
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    }),
    200,
    "issueToken",
  );
  check(granted.expires_in > 0, "issueToken: an access token that expires");

  const refreshed = await body(
    client.POST("/api/v1/auth/refresh", { body: { refresh_token: granted.refresh_token } }),
    200,
    "refreshToken",
  );
  check(refreshed.refresh_expires_in > refreshed.expires_in, "refreshToken: a new pair");
  return refreshed.access_token;
}

async function scrape(client: Client, admin: Client): Promise<void> {
  // Without a token: a 401, read as a Problem.
  await problem(client.GET("/api/v1/scraping/status"), 401, "getScrapeStatus without a token");

  // The server under test scrapes a port where nothing listens: the scrape
  // starts, retries and fails, publishing nothing. A 409 means one still
  // runs (another client's).
  const { data, error, response } = await admin.POST("/api/v1/scraping/trigger");
  if (response.status === 409) {
    check(error?.status === 409, "triggerScrape: a 409 Problem");
  } else {
    check(response.status === 202, `triggerScrape: ${response.status}: ${JSON.stringify(error)}`);
    check(data?.run != null, "triggerScrape: the run started");
    check(response.headers.get("Location") === "/api/v1/scraping/status", "triggerScrape: Location");
  }

  const status = await body(admin.GET("/api/v1/scraping/status"), 200, "getScrapeStatus");
  check(status.run != null, "getScrapeStatus: the run triggered");
}

/** Every operation of the served document was called. */
async function everyOperationCalled(client: Client): Promise<void> {
  const document = await body(client.GET("/api/v1/openapi.json"), 200, "getOpenApi");
  const documented = Object.entries(document.paths).flatMap(([path, item]) =>
    Object.keys(item as object)
      .filter((method) => ["get", "put", "post", "delete", "patch"].includes(method))
      .map((method) => `${method.toUpperCase()} ${path}`),
  );
  const missed = documented.filter((operation) => !operationsCalled.has(operation));
  check(missed.length === 0, `every operation: not called ${missed.join(", ")}`);
}

async function main(): Promise<void> {
  const { BOOKS_URL: url, BOOKS_USER: username, BOOKS_PASSWORD: password } = process.env;
  if (!url || !username || !password) {
    throw new Error("BOOKS_URL, BOOKS_USER and BOOKS_PASSWORD must be set");
  }
  const client = clientFor(url);
  await readHealth(client);
  await readBooks(client);
  await searchAndFilter(client);
  await readCategoriesAndStats(client);
  await readTrainingData(client);
  await predict(client);
  const token = await signInEveryWay(client, username, password);
  await scrape(client, clientFor(url, { Authorization: `Bearer ${token}` }));
  await everyOperationCalled(client);
  console.log(`${operationsCalled.size} operations called, ${checksPassed} checks passed`);
}

await main();
