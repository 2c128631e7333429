//! The OpenAPI 3.1 description of the API, built in code from the route table:
//! one operation per [`Route`], its parameters taken from
//! [`allowed_params`] and described with the
//! limits and defaults of [`params`](super::params), its responses from
//! [`statuses`]. Response schemas are written here and held to the real
//! responses by `tests/openapi.rs`.

use std::sync::OnceLock;

use bytes::Bytes;
use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use super::endpoints::allowed_params;
use super::params::{DEFAULT_PER_PAGE, MAX_PER_PAGE, MAX_TEXT_CHARS};
use super::route::Route;

/// The OpenAPI version the document follows.
pub const OPENAPI_VERSION: &str = "3.1.0";
/// The local server's default address, listed as a server.
pub const LOCAL_SERVER: &str = "http://127.0.0.1:3000";

/// The production URL, fixed at build time: `BOOKS_PUBLIC_URL` (a full URL),
/// else Vercel's `VERCEL_PROJECT_PRODUCTION_URL` (a host name). Without
/// either, the relative server `/` (the origin the docs were loaded from)
/// covers production.
fn production_url() -> Option<String> {
    if let Some(url) = option_env!("BOOKS_PUBLIC_URL").filter(|u| !u.is_empty()) {
        return Some(url.trim_end_matches('/').to_owned());
    }
    option_env!("VERCEL_PROJECT_PRODUCTION_URL")
        .filter(|host| !host.is_empty())
        .map(|host| format!("https://{}", host.trim_end_matches('/')))
}

/// The statuses `route` can answer a request with, in order.
pub fn statuses(route: Route) -> &'static [u16] {
    match route {
        Route::OpenApi => &[200, 304, 400, 405],
        Route::BookById => &[200, 304, 400, 404, 405, 503],
        _ => &[200, 304, 400, 405, 503],
    }
}

/// The document as a JSON value.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| serde_json::to_value(build()).unwrap_or(Value::Null))
}

/// The document as served: pretty JSON, `openapi` first and paths in the
/// route table's order. Built once per process.
pub fn document_json() -> Bytes {
    static JSON: OnceLock<Bytes> = OnceLock::new();
    JSON.get_or_init(|| {
        serde_json::to_vec_pretty(&build())
            .map(Bytes::from)
            .unwrap_or_else(|_| Bytes::from_static(b"{}"))
    })
    .clone()
}

/// The top level, with its keys in the conventional order.
#[derive(Serialize)]
struct Document {
    openapi: &'static str,
    info: Value,
    servers: Value,
    tags: Value,
    paths: Ordered,
    components: Value,
}

/// A JSON object that keeps its keys in insertion order.
struct Ordered(Vec<(String, Value)>);

impl Serialize for Ordered {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

fn build() -> Document {
    Document {
        openapi: OPENAPI_VERSION,
        info: info(),
        servers: servers(),
        tags: json!([
            {"name": "books", "description": "The catalogue: one book, lists, search, top rated, price range"},
            {"name": "categories", "description": "The categories of the catalogue"},
            {"name": "stats", "description": "Figures over the whole catalogue and per category"},
            {"name": "meta", "description": "Health of an instance and this description"},
        ]),
        paths: Ordered(
            Route::ALL
                .into_iter()
                .map(|route| (route.path().to_owned(), json!({ "get": operation(route) })))
                .collect(),
        ),
        components: components(),
    }
}

fn info() -> Value {
    json!({
        "title": "books API",
        "version": crate::VERSION,
        "summary": "A read-only JSON API over the books.toscrape.com catalogue.",
        "description": concat!(
            "Every book of [books.toscrape.com](https://books.toscrape.com/), scraped into a prebuilt ",
            "read-only SQLite database and served as JSON. The data changes only with a deploy.\n\n",
            "**Conventions.** Every endpoint answers `GET` and `HEAD` (no body), and `OPTIONS` with a CORS ",
            "preflight (204); any other method is a 405. Responses carry `Access-Control-Allow-Origin: *` ",
            "and an `X-Request-Id`. Successful reads carry a strong `ETag`: send it back in `If-None-Match` ",
            "to get a 304 without a body. Lists are paginated (`page`, `per_page`) in an envelope ",
            "`{items, page, per_page, total, total_pages}` with a `Link` header (RFC 8288) to the first, ",
            "previous, next and last pages. Unknown or repeated query parameters are a 400.\n\n",
            "**Errors** are `application/problem+json` (RFC 9457): `type`, `title`, `status`, `detail`, and ",
            "`parameter` naming the offending query parameter when there is one.\n\n",
            "**Prices** are JSON numbers in GBP with two decimals."
        ),
        "license": {"name": "MIT", "identifier": "MIT"},
    })
}

fn servers() -> Value {
    let mut servers = vec![json!({
        "url": "/",
        "description": "This deployment (the origin serving these docs)",
    })];
    if let Some(url) = production_url() {
        servers.push(json!({"url": url, "description": "Production"}));
    }
    servers.push(json!({
        "url": LOCAL_SERVER,
        "description": "Local server (`books serve`)",
    }));
    Value::Array(servers)
}

/// What the description says about each route, beyond its parameters.
struct About {
    operation_id: &'static str,
    tag: &'static str,
    summary: &'static str,
    description: &'static str,
    /// The schema of the 200 body, under `#/components/schemas/`.
    schema: &'static str,
    /// Whether a 200 carries a `Link` header.
    paginated: bool,
}

fn about(route: Route) -> About {
    let (operation_id, tag, summary, description, schema, paginated) = match route {
        Route::Health => (
            "getHealth",
            "meta",
            "Health of this instance",
            "Runs a real query against the database. 503 with a problem body when the database \
             cannot be opened or queried. Never cached by shared caches (`no-cache`).",
            "Health",
            false,
        ),
        Route::Books => (
            "listBooks",
            "books",
            "List the catalogue",
            "Every book, paginated, with optional filters (ANDed) and a sort. Ties in any sort \
             are broken by id, ascending. `per_page=1000` fetches the whole catalogue at once.",
            "BookPage",
            true,
        ),
        Route::BookById => (
            "getBook",
            "books",
            "One book by id",
            "Every field of the data contract plus the derived `in_stock` and `currency`. \
             404 when no book has this id; 400 when the id is not a positive integer.",
            "Book",
            false,
        ),
        Route::BooksSearch => (
            "searchBooks",
            "books",
            "Search books",
            "By `title` (case-insensitive substring; `%` and `_` are literal characters), \
             `category` (case-insensitive, by name or slug) and `q` (full text over title and \
             description, every word required, the last one as a prefix, ranked by relevance). \
             Criteria are ANDed; at least one is required (else 400). No match is a 200 with \
             an empty list.",
            "BookPage",
            true,
        ),
        Route::BooksTopRated => (
            "listTopRatedBooks",
            "books",
            "Books with the highest rating first",
            "Rating descending; books with the same rating in ascending id order.",
            "BookPage",
            true,
        ),
        Route::BooksPriceRange => (
            "listBooksByPriceRange",
            "books",
            "Books in a price range",
            "Prices in GBP, both bounds inclusive. Either bound may be omitted, not both. \
             `min_price`/`max_price` are aliases of `min`/`max` (give one name per bound). \
             Cheapest first unless `sort`/`order` say otherwise.",
            "BookPage",
            true,
        ),
        Route::Categories => (
            "listCategories",
            "categories",
            "Every category",
            "Name, slug and number of books of every category, by name. Not paginated.",
            "CategoryList",
            false,
        ),
        Route::StatsOverview => (
            "getStatsOverview",
            "stats",
            "Figures over the whole catalogue",
            "Totals, average/min/max/median price, the rating distribution keyed \"1\" to \"5\", \
             the average rating, stock figures and when the data was scraped.",
            "Overview",
            false,
        ),
        Route::StatsCategories => (
            "getCategoryStats",
            "stats",
            "Figures per category",
            "For every category, by name: book count, average/min/max price, average rating \
             and total stock.",
            "CategoryStatsList",
            false,
        ),
        Route::OpenApi => (
            "getOpenApi",
            "meta",
            "This OpenAPI description",
            "The OpenAPI 3.1 document describing every endpoint. Interactive docs: `/docs`.",
            "OpenApiDocument",
            false,
        ),
    };
    About {
        operation_id,
        tag,
        summary,
        description,
        schema,
        paginated,
    }
}

/// The `get` operation of `route`.
pub fn operation(route: Route) -> Value {
    let about = about(route);
    let mut parameters: Vec<Value> = allowed_params(route)
        .iter()
        .filter_map(|name| parameter(route, name))
        .collect();
    parameters.push(json!({"$ref": "#/components/parameters/IfNoneMatch"}));

    let mut ok_headers = json!({
        "ETag": {"$ref": "#/components/headers/ETag"},
        "Cache-Control": {"$ref": "#/components/headers/Cache-Control"},
        "X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"},
        "Access-Control-Allow-Origin": {"$ref": "#/components/headers/Access-Control-Allow-Origin"},
    });
    if about.paginated {
        ok_headers["Link"] = json!({"$ref": "#/components/headers/Link"});
    }
    let mut responses = serde_json::Map::new();
    for status in statuses(route) {
        let response = match status {
            200 => json!({
                "description": "OK",
                "headers": ok_headers,
                "content": {"application/json": {
                    "schema": {"$ref": format!("#/components/schemas/{}", about.schema)},
                }},
            }),
            304 => json!({"$ref": "#/components/responses/NotModified"}),
            400 => json!({"$ref": "#/components/responses/BadRequest"}),
            404 => json!({"$ref": "#/components/responses/NotFound"}),
            405 => json!({"$ref": "#/components/responses/MethodNotAllowed"}),
            _ => json!({"$ref": "#/components/responses/ServiceUnavailable"}),
        };
        responses.insert(status.to_string(), response);
    }
    json!({
        "operationId": about.operation_id,
        "tags": [about.tag],
        "summary": about.summary,
        "description": about.description,
        "parameters": parameters,
        "responses": responses,
    })
}

/// A query (or path) parameter of `route`, or `None` for a name this module
/// does not describe (a test requires every accepted name to be described).
fn parameter(route: Route, name: &str) -> Option<Value> {
    let text = |description: &str, example: &str| {
        json!({
            "description": format!("{description} At most {MAX_TEXT_CHARS} characters; no control characters."),
            "schema": {"type": "string", "maxLength": MAX_TEXT_CHARS},
            "example": example,
        })
    };
    let price = |description: &str, example: Option<u32>| {
        let mut p = json!({
            "description": format!("{description} In GBP, at most two decimals (`12.5`, `12.50`)."),
            "schema": {"type": "number", "minimum": 0},
        });
        if let Some(example) = example {
            p["example"] = json!(example);
        }
        p
    };
    let (default_sort, sort_example) = match route {
        Route::BooksPriceRange => ("price", "rating"),
        _ => ("id", "price"),
    };
    let mut p = match name {
        "id" => {
            return Some(json!({
                "name": "id",
                "in": "path",
                "required": true,
                "description": "The site's own numeric id of the book (from its product URL).",
                "schema": {"type": "integer", "minimum": 1, "maximum": u32::MAX},
                "example": 1,
            }));
        }
        "page" => json!({
            "description": "The page to return, from 1. Past the last page the list is empty.",
            "schema": {"type": "integer", "minimum": 1, "maximum": u32::MAX, "default": 1},
            "example": 1,
        }),
        "per_page" => json!({
            "description": format!("Items per page, 1 to {MAX_PER_PAGE}."),
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE},
            "example": DEFAULT_PER_PAGE,
        }),
        "category" => text(
            "A category, by name or slug, case-insensitively (`Poetry`, `historical-fiction`).",
            "poetry",
        ),
        "title" => text(
            "A case-insensitive substring of the title; `%` and `_` are literal.",
            "attic",
        ),
        "q" => text(
            "Full-text search over title and description: every word must match, the last one as a prefix.",
            "light",
        ),
        "min_price" if route == Route::BooksPriceRange => {
            price("Alias of `min`: give one or the other.", None)
        }
        "max_price" if route == Route::BooksPriceRange => {
            price("Alias of `max`: give one or the other.", None)
        }
        "min_price" => price("Lowest price, inclusive.", Some(10)),
        "max_price" => price("Highest price, inclusive; not below `min_price`.", Some(50)),
        "min" => price("Lowest price, inclusive.", Some(10)),
        "max" => price("Highest price, inclusive; not below `min`.", Some(20)),
        "min_rating" => json!({
            "description": "Only books rated at least this many stars.",
            "schema": {"type": "integer", "minimum": 1, "maximum": 5},
            "example": 3,
        }),
        "in_stock" => json!({
            "description": "`true` for books in stock only, `false` for books out of stock only (`1`/`0` also accepted).",
            "schema": {"type": "boolean"},
            "example": true,
        }),
        "sort" => json!({
            "description": "The sort key (case-insensitive); ties are broken by id, ascending.",
            "schema": {"type": "string", "enum": ["id", "title", "price", "rating", "stock"], "default": default_sort},
            "example": sort_example,
        }),
        "order" => json!({
            "description": "The sort direction (case-insensitive).",
            "schema": {"type": "string", "enum": ["asc", "desc"], "default": "asc"},
            "example": "desc",
        }),
        _ => return None,
    };
    p["name"] = json!(name);
    p["in"] = json!("query");
    Some(p)
}

fn components() -> Value {
    let problem = |description: &str| {
        json!({
            "description": description,
            "headers": {
                "Cache-Control": {"$ref": "#/components/headers/Cache-Control"},
                "X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"},
                "Access-Control-Allow-Origin": {"$ref": "#/components/headers/Access-Control-Allow-Origin"},
            },
            "content": {"application/problem+json": {
                "schema": {"$ref": "#/components/schemas/Problem"},
            }},
        })
    };
    let mut method_not_allowed =
        problem("Method Not Allowed: any method but GET, HEAD and OPTIONS. The API is read-only.");
    method_not_allowed["headers"]["Allow"] = json!({"$ref": "#/components/headers/Allow"});

    json!({
        "schemas": schemas(),
        "parameters": {
            "IfNoneMatch": {
                "name": "If-None-Match",
                "in": "header",
                "required": false,
                "description": "The `ETag` of a response you hold: if it still matches, the answer is a 304 without a body.",
                "schema": {"type": "string"},
            },
        },
        "headers": {
            "ETag": {
                "description": "A strong validator of the response.",
                "required": true,
                "schema": {"type": "string", "pattern": "^\"[0-9a-f]{32}\"$"},
            },
            "Cache-Control": {
                "description": "Data reads: `public, max-age=60, s-maxage=86400, stale-while-revalidate=604800`; health: `no-cache`; client errors: `public, max-age=60`; server errors: `no-store`.",
                "required": true,
                "schema": {"type": "string"},
            },
            "X-Request-Id": {
                "description": "The id of this request in the logs (the platform's when it gives one).",
                "required": true,
                "schema": {"type": "string"},
            },
            "Access-Control-Allow-Origin": {
                "description": "Any origin may read the API.",
                "required": true,
                "schema": {"type": "string", "const": "*"},
            },
            "Link": {
                "description": "RFC 8288 links to the first, previous, next and last pages (`rel=\"first\"`, `\"prev\"`, `\"next\"`, `\"last\"`).",
                "required": true,
                "schema": {"type": "string"},
            },
            "Allow": {
                "description": "The methods the endpoint answers.",
                "required": true,
                "schema": {"type": "string", "const": "GET, HEAD, OPTIONS"},
            },
        },
        "responses": {
            "NotModified": {
                "description": "Not Modified: the `If-None-Match` validator still matches. No body.",
                "headers": {
                    "ETag": {"$ref": "#/components/headers/ETag"},
                    "Cache-Control": {"$ref": "#/components/headers/Cache-Control"},
                },
            },
            "BadRequest": problem(
                "Bad Request: a malformed, out-of-range, unknown or repeated parameter (named in `parameter`), or a request missing what it needs.",
            ),
            "NotFound": problem("Not Found: no book has this id."),
            "MethodNotAllowed": method_not_allowed,
            "ServiceUnavailable": problem(
                "Service Unavailable: the catalogue database cannot be opened or queried. Try again later.",
            ),
        },
    })
}

/// The JSON Schemas (2020-12) of every body the API sends.
fn schemas() -> Value {
    let integer = |min: u64| json!({"type": "integer", "minimum": min});
    let gbp = |description: &str| json!({"$ref": "#/components/schemas/Amount", "description": description});
    let page_of = |item: &str, description: &str| {
        json!({
            "type": "object",
            "description": description,
            "additionalProperties": false,
            "required": ["items", "page", "per_page", "total", "total_pages"],
            "properties": {
                "items": {"type": "array", "items": {"$ref": format!("#/components/schemas/{item}")}},
                "page": {"type": "integer", "minimum": 1, "description": "This page, from 1."},
                "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
                "total": {"type": "integer", "minimum": 0, "description": "Items over all pages."},
                "total_pages": {"type": "integer", "minimum": 0},
            },
        })
    };
    json!({
        "Amount": {
            "type": "number",
            "minimum": 0,
            "description": "An amount in GBP, written with two decimals.",
            "examples": [51.77],
        },
        "Timestamp": {
            "type": ["string", "null"],
            "format": "date-time",
            "description": "When the data was scraped (RFC 3339, UTC); null if the database does not say.",
            "examples": ["2025-01-01T06:00:00Z"],
        },
        "Book": {
            "type": "object",
            "description": "A book: every column of the data contract (`data/books.csv`), plus `in_stock` and `currency`.",
            "additionalProperties": false,
            "required": [
                "id", "upc", "title", "category", "price", "price_excl_tax", "tax", "rating",
                "availability", "stock", "review_count", "product_type", "description",
                "image_url", "product_url", "in_stock", "currency",
            ],
            "properties": {
                "id": {"type": "integer", "minimum": 1, "maximum": u32::MAX, "description": "The site's own id, from the product URL.", "examples": [1000]},
                "upc": {"type": "string", "description": "Universal Product Code.", "examples": ["a897fe39b1053632"]},
                "title": {"type": "string", "examples": ["A Light in the Attic"]},
                "category": {"type": "string", "examples": ["Poetry"]},
                "price": gbp("Price including tax."),
                "price_excl_tax": gbp("Price excluding tax."),
                "tax": gbp("Tax."),
                "rating": {"type": "integer", "minimum": 1, "maximum": 5, "description": "Stars."},
                "availability": {"type": "string", "examples": ["In stock"]},
                "stock": {"type": "integer", "minimum": 0, "description": "Copies available."},
                "review_count": integer(0),
                "product_type": {"type": "string", "examples": ["Books"]},
                "description": {"type": "string", "description": "May be empty."},
                "image_url": {"type": "string", "format": "uri"},
                "product_url": {"type": "string", "format": "uri"},
                "in_stock": {"type": "boolean", "description": "`stock > 0`."},
                "currency": {"type": "string", "const": "GBP", "description": "ISO 4217 code of every price."},
            },
        },
        "BookPage": page_of("Book", "A page of books."),
        "Health": {
            "type": "object",
            "additionalProperties": false,
            "required": ["status", "database", "books", "scraped_at", "version"],
            "properties": {
                "status": {"type": "string", "const": "ok"},
                "database": {"type": "string", "const": "ok"},
                "books": {"type": "integer", "minimum": 0, "description": "Books the database holds, counted now."},
                "scraped_at": {"$ref": "#/components/schemas/Timestamp"},
                "version": {"type": "string", "description": "The API's version.", "examples": [crate::VERSION]},
            },
        },
        "Category": {
            "type": "object",
            "additionalProperties": false,
            "required": ["name", "slug", "book_count"],
            "properties": {
                "name": {"type": "string", "examples": ["Historical Fiction"]},
                "slug": {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$", "examples": ["historical-fiction"]},
                "book_count": integer(0),
            },
        },
        "CategoryList": {
            "type": "object",
            "additionalProperties": false,
            "required": ["items", "total"],
            "properties": {
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/Category"}},
                "total": integer(0),
            },
        },
        "Overview": {
            "type": "object",
            "additionalProperties": false,
            "required": [
                "total_books", "total_categories", "average_price", "min_price", "max_price",
                "median_price", "rating_distribution", "average_rating", "books_in_stock",
                "total_stock", "currency", "scraped_at",
            ],
            "properties": {
                "total_books": integer(0),
                "total_categories": integer(0),
                "average_price": gbp("Mean price."),
                "min_price": gbp("Lowest price."),
                "max_price": gbp("Highest price."),
                "median_price": gbp("Median price."),
                "rating_distribution": {
                    "type": "object",
                    "description": "Books per star rating.",
                    "additionalProperties": false,
                    "required": ["1", "2", "3", "4", "5"],
                    "properties": {
                        "1": integer(0), "2": integer(0), "3": integer(0), "4": integer(0), "5": integer(0),
                    },
                },
                "average_rating": {"type": "number", "minimum": 0, "maximum": 5, "description": "Mean stars, two decimals."},
                "books_in_stock": integer(0),
                "total_stock": integer(0),
                "currency": {"type": "string", "const": "GBP"},
                "scraped_at": {"$ref": "#/components/schemas/Timestamp"},
            },
        },
        "CategoryStats": {
            "type": "object",
            "additionalProperties": false,
            "required": [
                "name", "slug", "book_count", "average_price", "min_price", "max_price",
                "average_rating", "total_stock",
            ],
            "properties": {
                "name": {"type": "string"},
                "slug": {"type": "string"},
                "book_count": integer(0),
                "average_price": gbp("Mean price."),
                "min_price": gbp("Lowest price."),
                "max_price": gbp("Highest price."),
                "average_rating": {"type": "number", "minimum": 0, "maximum": 5},
                "total_stock": integer(0),
            },
        },
        "CategoryStatsList": {
            "type": "object",
            "additionalProperties": false,
            "required": ["items", "total", "currency"],
            "properties": {
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/CategoryStats"}},
                "total": integer(0),
                "currency": {"type": "string", "const": "GBP"},
            },
        },
        "Problem": {
            "type": "object",
            "description": "An RFC 9457 problem document.",
            "additionalProperties": false,
            "required": ["type", "title", "status", "detail"],
            "properties": {
                "type": {"type": "string", "format": "uri-reference", "const": "about:blank"},
                "title": {"type": "string", "description": "The status's reason phrase.", "examples": ["Bad Request"]},
                "status": {"type": "integer", "minimum": 400, "maximum": 599},
                "detail": {"type": "string", "description": "What went wrong and what is allowed.", "examples": ["per_page must be an integer from 1 to 1000; got \"0\""]},
                "parameter": {"type": "string", "description": "The query parameter (or `id`) at fault.", "examples": ["per_page"]},
            },
        },
        "OpenApiDocument": {
            "type": "object",
            "description": "An OpenAPI 3.1 document (this one).",
            "required": ["openapi", "info", "paths"],
            "properties": {
                "openapi": {"type": "string", "pattern": "^3\\.1\\.[0-9]+$"},
                "info": {"type": "object"},
                "paths": {"type": "object"},
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_a_path_with_one_get() {
        let doc = document();
        let paths = doc["paths"].as_object().expect("paths");
        assert_eq!(paths.len(), Route::ALL.len());
        for route in Route::ALL {
            assert!(paths[route.path()]["get"].is_object(), "{}", route.path());
        }
    }

    #[test]
    fn served_json_keeps_openapi_first() {
        let json = document_json();
        let text = std::str::from_utf8(&json).expect("utf-8");
        assert!(
            text.starts_with("{\n  \"openapi\": \"3.1.0\""),
            "{text:.80}"
        );
    }
}
