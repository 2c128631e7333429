"""Calls every operation of the books API with a client generated from its
OpenAPI document, and checks what each one answers.

The client is openapi-python-client's output, used as generated: `Client`
(anonymous) or `AuthenticatedClient` (a bearer token), and for each operation
the `sync_detailed` function of its module `api.<tag>.<operation_id>`, which
returns the status code, the headers and the body parsed into the models of
the document's components/schemas (`Problem` for every error).
scripts/clients/run.sh generates it into target/clients/python and runs this
against a local `books serve`; by hand:

    openapi-python-client generate --path openapi.json --meta none \\
        --output-path target/clients/python/books_api_client
    BOOKS_URL=http://127.0.0.1:3000 BOOKS_USER=admin BOOKS_PASSWORD=... \\
        PYTHONPATH=target/clients/python python examples/python/call_every_operation.py

BOOKS_USER must be an admin (BOOKS_USERS of the server) for the scrape
routes. Stops at the first failed check, saying which; prints
"N operations called, M checks passed" at the end.
"""

import csv
import io
import os
import re
import sys
from http import HTTPStatus
from types import ModuleType
from typing import Any, TypeVar

from books_api_client import AuthenticatedClient, Client
from books_api_client.api.auth import issue_token, refresh_token, sign_in
from books_api_client.api.books import (
    get_book,
    list_books,
    list_books_by_price_range,
    list_similar_books,
    list_top_rated_books,
    search_books,
)
from books_api_client.api.categories import list_categories
from books_api_client.api.meta import get_health, get_open_api
from books_api_client.api.ml import get_features, get_model, get_training_data, predict_categories
from books_api_client.api.operations import get_scrape_status, trigger_scrape
from books_api_client.api.stats import get_category_stats, get_stats_overview
from books_api_client.models import (
    Accepted,
    Book,
    CategoryList,
    CategoryStatsList,
    DataFormat,
    FeaturesView,
    GrantType,
    Health,
    Instance,
    ListPageListedBook,
    ModelView,
    OpenApiDocument,
    OverviewView,
    PasswordGrant,
    PredictByBookIds,
    PredictByText,
    PredictionResponse,
    Problem,
    RefreshRequest,
    ScrapingStatus,
    SignInRequest,
    SimilarBooks,
    Split,
    TokenPair,
    TrainingData,
    TriggerRequest,
)
from books_api_client.types import Response

# The committed catalogue: 1000 books, the last of them this one.
TOTAL_BOOKS = 1000
BOOK_ID = 1000
BOOK_TITLE = "A Light in the Attic"
BOOK_CATEGORY = "Poetry"

T = TypeVar("T")
checks_passed = 0
operations_called: set[str] = set()


def check(condition: bool, what: str) -> None:
    """One assertion: counted when it holds, the end of the run when not."""
    global checks_passed
    if not condition:
        sys.exit(f"FAILED: {what}")
    checks_passed += 1


def call(operation: ModuleType, *statuses: HTTPStatus, **arguments: Any) -> Response[Any]:
    """Calls a generated operation (`sync_detailed` of its module); checks the status."""
    name = operation.__name__.rsplit(".", 1)[-1]
    operations_called.add(name)
    response = operation.sync_detailed(**arguments)
    check(
        response.status_code in statuses,
        f"{name}: {response.status_code}, not {' or '.join(map(str, statuses))}: {response.content[:300]!r}",
    )
    return response


def parsed(response: Response[Any], model: type[T]) -> T:
    """The body as the generated model the operation documents for its status."""
    check(
        isinstance(response.parsed, model),
        f"{response.status_code}: parsed as {type(response.parsed).__name__}, not {model.__name__}",
    )
    return response.parsed


def problem(response: Response[Any], status: HTTPStatus) -> Problem:
    """An error, read as the RFC 9457 `Problem` of the document."""
    body = parsed(response, Problem)
    check(body.status == status, f"the problem's status is {body.status}, not {status}")
    return body


# --- meta and books: public reads --------------------------------------------------


def read_health(client: Client) -> None:
    health = parsed(call(get_health, HTTPStatus.OK, client=client), Health)
    check(health.books == TOTAL_BOOKS, f"health: {health.books} books")


def read_books(client: Client) -> None:
    page = parsed(call(list_books, HTTPStatus.OK, client=client, page=2, per_page=5), ListPageListedBook)
    check(page.total == TOTAL_BOOKS, f"listBooks: total {page.total}")
    check((page.page, page.per_page, len(page.items)) == (2, 5, 5), "listBooks: page 2 of 5 books")
    check(page.total_pages == TOTAL_BOOKS // 5, f"listBooks: {page.total_pages} pages")

    # A parameter given empty is refused (not taken as absent), naming it.
    refused = call(list_books, HTTPStatus.BAD_REQUEST, client=client, category="")
    check(problem(refused, HTTPStatus.BAD_REQUEST).parameter == "category", "listBooks: the 400 names `category`")

    book = parsed(call(get_book, HTTPStatus.OK, client=client, id=BOOK_ID), Book)
    check(book.title == BOOK_TITLE, f"getBook: title {book.title!r}")
    check(book.category == BOOK_CATEGORY, f"getBook: category {book.category!r}")

    # No such book: a 404, read as a Problem.
    missing = call(get_book, HTTPStatus.NOT_FOUND, client=client, id=999999)
    problem(missing, HTTPStatus.NOT_FOUND)

    similar = parsed(call(list_similar_books, HTTPStatus.OK, client=client, id=BOOK_ID, limit=3), SimilarBooks)
    check(similar.book_id == BOOK_ID and len(similar.items) == 3, "listSimilarBooks: 3 books like book 1000")
    check(all(item.book.id != BOOK_ID for item in similar.items), "listSimilarBooks: not the book itself")


def search_and_filter(client: Client) -> None:
    found = parsed(call(search_books, HTTPStatus.OK, client=client, q="attic"), ListPageListedBook)
    check(any(book.id == BOOK_ID for book in found.items), "searchBooks: `attic` finds book 1000")

    top = parsed(call(list_top_rated_books, HTTPStatus.OK, client=client, per_page=10), ListPageListedBook)
    check(len(top.items) == 10 and all(book.rating == 5 for book in top.items), "listTopRatedBooks: 5 stars")

    in_range = parsed(
        call(list_books_by_price_range, HTTPStatus.OK, client=client, min_price=10, max_price=20),
        ListPageListedBook,
    )
    check(in_range.total > 0, "listBooksByPriceRange: some books cost 10 to 20")
    check(all(10 <= book.price <= 20 for book in in_range.items), "listBooksByPriceRange: prices in range")


def read_categories_and_stats(client: Client) -> None:
    categories = parsed(call(list_categories, HTTPStatus.OK, client=client), CategoryList)
    check(sum(c.book_count for c in categories.items) == TOTAL_BOOKS, "listCategories: every book counted once")
    check(any(c.name == BOOK_CATEGORY for c in categories.items), "listCategories: Poetry is one")

    overview = parsed(call(get_stats_overview, HTTPStatus.OK, client=client), OverviewView)
    check(overview.total_books == TOTAL_BOOKS, f"getStatsOverview: {overview.total_books} books")
    check(overview.total_categories == categories.total, "getStatsOverview: as many categories as listed")

    per_category = parsed(call(get_category_stats, HTTPStatus.OK, client=client), CategoryStatsList)
    check(len(per_category.items) == categories.total, "getCategoryStats: one row per category")


# --- ml -------------------------------------------------------------------------------


def read_training_data(client: Client) -> None:
    data = parsed(call(get_training_data, HTTPStatus.OK, client=client, split=Split.TEST), TrainingData)
    check(data.count == len(data.items) > 0, f"getTrainingData: {data.count} rows, {len(data.items)} items")

    # As CSV. The generated parser reads every 200 as JSON, so this sends the
    # request the generated module builds through the generated client's
    # httpx client, and reads the body itself.
    request = get_training_data._get_kwargs(format_=DataFormat.CSV, columns="id,title")
    operations_called.add("get_training_data")
    response = client.get_httpx_client().request(**request)
    check(response.status_code == HTTPStatus.OK, f"getTrainingData as CSV: {response.status_code}")
    check(response.headers["content-type"].startswith("text/csv"), "getTrainingData: text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    check(rows[0] == ["id", "title"], f"getTrainingData: CSV header {rows[0]}")
    check(len(rows) == TOTAL_BOOKS + 1, f"getTrainingData: {len(rows) - 1} CSV rows")


def predict(client: Client) -> None:
    # The request body is one of two named schemas: books by their text...
    by_text = PredictByText(instances=[Instance(title="Where the Sidewalk Ends", description="Poems and drawings.")])
    answer = parsed(call(predict_categories, HTTPStatus.OK, client=client, body=by_text), PredictionResponse)
    check(len(answer.predictions) == 1, "predictCategories by text: one prediction")

    # ... or catalogue books by id.
    by_id = PredictByBookIds(book_ids=[BOOK_ID])
    answer = parsed(call(predict_categories, HTTPStatus.OK, client=client, body=by_id), PredictionResponse)
    check(answer.predictions[0].category == BOOK_CATEGORY, "predictCategories: book 1000 is Poetry")

    model = parsed(call(get_model, HTTPStatus.OK, client=client), ModelView)
    check(BOOK_CATEGORY in model.classes, "getModel: Poetry is a class")
    check(model.version == answer.model.version, "getModel: the model that predicted")

    features = parsed(call(get_features, HTTPStatus.OK, client=client), FeaturesView)
    check(len(features.features) > 0, "getFeatures: profiles some features")


# --- auth and the admin routes ------------------------------------------------------


def sign_in_every_way(client: Client, username: str, password: str) -> str:
    """Signs in with JSON, then with the OAuth 2.0 password grant, refreshes; the access token."""
    pair = parsed(
        call(sign_in, HTTPStatus.OK, client=client, body=SignInRequest(username=username, password=password)),
        TokenPair,
    )
    check(pair.token_type == "Bearer", f"signIn: token_type {pair.token_type!r}")

    wrong = SignInRequest(username=username, password=password + "-wrong")
    problem(call(sign_in, HTTPStatus.UNAUTHORIZED, client=client, body=wrong), HTTPStatus.UNAUTHORIZED)

    grant = PasswordGrant(grant_type=GrantType.PASSWORD, username=username, password=password)
    pair = parsed(call(issue_token, HTTPStatus.OK, client=client, body=grant), TokenPair)
    check(pair.expires_in > 0, "issueToken: an access token that expires")

    refresh = RefreshRequest(refresh_token=pair.refresh_token)
    pair = parsed(call(refresh_token, HTTPStatus.OK, client=client, body=refresh), TokenPair)
    check(pair.refresh_expires_in > pair.expires_in, "refreshToken: a new pair")
    return pair.access_token


def scrape(client: Client, admin: AuthenticatedClient) -> None:
    # Without a token (a plain Client, which sends none): a 401, read as a
    # Problem.
    anonymous = call(get_scrape_status, HTTPStatus.UNAUTHORIZED, client=client)
    problem(anonymous, HTTPStatus.UNAUTHORIZED)

    # The server under test scrapes a port where nothing listens: the scrape
    # starts, retries and fails, publishing nothing. A 409 means one still
    # runs (another client's).
    reason = TriggerRequest(reason="generated Python client example")
    started = call(trigger_scrape, HTTPStatus.ACCEPTED, HTTPStatus.CONFLICT, client=admin, body=reason)
    if started.status_code == HTTPStatus.CONFLICT:
        problem(started, HTTPStatus.CONFLICT)
    else:
        check(parsed(started, Accepted).reason == reason.reason, "triggerScrape: the reason recorded")
        check(started.headers.get("location") == "/api/v1/scraping/status", "triggerScrape: Location")

    # The body may be left out: the generated argument is optional. The
    # first run is likely still going, so a 409 is as good as a 202 here.
    again = call(trigger_scrape, HTTPStatus.ACCEPTED, HTTPStatus.CONFLICT, client=admin)
    if again.status_code == HTTPStatus.CONFLICT:
        problem(again, HTTPStatus.CONFLICT)

    status = parsed(call(get_scrape_status, HTTPStatus.OK, client=admin), ScrapingStatus)
    check(status.run is not None, "getScrapeStatus: the run triggered")


def every_operation_called(client: Client) -> None:
    """Every operation of the served document, by the module name the generator gives it, was called."""
    document = parsed(call(get_open_api, HTTPStatus.OK, client=client), OpenApiDocument)
    check(document.openapi.startswith("3.1"), f"getOpenApi: OpenAPI {document.openapi}")
    documented = {
        re.sub(r"(?<!^)(?=[A-Z])", "_", operation["operationId"]).lower()
        for path in document.paths.additional_properties.values()
        for operation in path.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    check(documented == operations_called, f"every operation: not called {sorted(documented - operations_called)}")


def main() -> None:
    url, username, password = (os.environ[name] for name in ("BOOKS_URL", "BOOKS_USER", "BOOKS_PASSWORD"))
    # An undocumented status raises errors.UnexpectedStatus instead of
    # parsing to None.
    client = Client(base_url=url, raise_on_unexpected_status=True)
    read_health(client)
    read_books(client)
    search_and_filter(client)
    read_categories_and_stats(client)
    read_training_data(client)
    predict(client)
    token = sign_in_every_way(client, username, password)
    admin = AuthenticatedClient(base_url=url, token=token, raise_on_unexpected_status=True)
    scrape(client, admin)
    every_operation_called(client)
    print(f"{len(operations_called)} operations called, {checks_passed} checks passed")


if __name__ == "__main__":
    main()
