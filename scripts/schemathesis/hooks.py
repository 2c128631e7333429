"""schemathesis hooks for books (loaded by scripts/schemathesis/run.sh).

`positive_data_acceptance_beyond_stated_rules` is schemathesis's own
`positive_data_acceptance` (a request the document allows must not be refused),
except for the requests that break a rule OpenAPI cannot state. Each rule below
forgives exactly the requests that break it, on its own operation, and nothing
else; the built-in check is switched off in schemathesis.toml in favour of this
one, for every operation alike.
"""

from schemathesis import check
from schemathesis.specs.openapi.checks import positive_data_acceptance


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _given(query, name):
    return name in query and query[name] is not None


def _above(low, high):
    """Whether both bounds are numbers and the lower is above the higher."""
    low, high = _number(low), _number(high)
    return low is not None and high is not None and low > high


def broken_rule(case):
    """The rule `case` breaks that the document cannot state, or None."""
    path = case.operation.path
    query = case.query or {}
    if path == "/api/v1/books":
        if _above(query.get("min_price"), query.get("max_price")):
            return "min_price <= max_price"
    elif path == "/api/v1/books/price-range":
        for name, alias in (("min", "min_price"), ("max", "max_price")):
            if _given(query, name) and _given(query, alias):
                return f"{alias} is an alias of {name}: give one of them"
        low = query.get("min", query.get("min_price"))
        high = query.get("max", query.get("max_price"))
        if low is None and high is None:
            return "give min, max or both"
        if _above(low, high):
            return "min <= max"
    elif path == "/api/v1/books/search":
        if not any(_given(query, name) for name in ("title", "category", "q")):
            return "give at least one of title, category and q"
    elif path == "/api/v1/ml/training-data":
        columns = query.get("columns")
        if isinstance(columns, str):
            names = [name.strip() for name in columns.split(",")]
            if len(names) != len(set(names)):
                return "columns names each column at most once"
    return None


@check
def positive_data_acceptance_beyond_stated_rules(ctx, response, case):
    if broken_rule(case) is not None:
        return None
    return positive_data_acceptance(ctx, response, case)
