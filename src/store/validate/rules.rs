//! The domain rules for each book (required text present, prices positive
//! and adding up, URLs canonical) and across books (unique ids and UPCs),
//! over parsed books and over CSV records that did not parse.

use std::collections::BTreeMap;

use super::{Problem, Scope};
use crate::CANONICAL_BASE_URL;
use crate::domain::{Book, BookId, Price};
use crate::store::csv::{CsvRows, UnparsedRow, parse_price};

/// The fields the checks look at, from a parsed book or from a CSV row that
/// did not parse; there a field that does not parse is `None` and skipped
/// (its problem is reported by the reader).
pub(super) struct Fields<'a> {
    id: Option<BookId>,
    upc: &'a str,
    title: &'a str,
    category: &'a str,
    price: Option<Price>,
    price_excl_tax: Option<Price>,
    tax: Option<Price>,
    availability: &'a str,
    product_type: &'a str,
    image_url: &'a str,
    product_url: &'a str,
}

impl<'a> From<&'a Book> for Fields<'a> {
    fn from(book: &'a Book) -> Self {
        Fields {
            id: Some(book.id),
            upc: &book.upc,
            title: &book.title,
            category: &book.category,
            price: Some(book.price),
            price_excl_tax: Some(book.price_excl_tax),
            tax: Some(book.tax),
            availability: &book.availability,
            product_type: &book.product_type,
            image_url: &book.image_url,
            product_url: &book.product_url,
        }
    }
}

impl<'a> From<&'a UnparsedRow> for Fields<'a> {
    fn from(row: &'a UnparsedRow) -> Self {
        let raw = &row.raw;
        Fields {
            id: raw.id.parse().ok(),
            upc: &raw.upc,
            title: &raw.title,
            category: &raw.category,
            price: parse_price(&raw.price).ok(),
            price_excl_tax: parse_price(&raw.price_excl_tax).ok(),
            tax: parse_price(&raw.tax).ok(),
            availability: &raw.availability,
            product_type: &raw.product_type,
            image_url: &raw.image_url,
            product_url: &raw.product_url,
        }
    }
}

/// Every rule over books in memory, each labelled by its id.
pub(super) fn books_problems(books: &[Book]) -> Vec<Problem> {
    let labelled: Vec<(Scope, Fields)> = books
        .iter()
        .map(|book| (Scope::Book(book.id), Fields::from(book)))
        .collect();
    let mut problems: Vec<Problem> = labelled
        .iter()
        .flat_map(|(scope, fields)| field_problems(scope, fields))
        .collect();
    problems.extend(duplicate_problems(&labelled));
    problems
}

/// The problems of a CSV read on its own, each labelled by its line in
/// `file`: the reader's and the rules', by line, then duplicates. Records
/// that did not parse are still checked field by field, so that one bad
/// rating does not hide an empty title or a duplicate id.
pub(super) fn csv_problems(csv: &CsvRows, file: &str) -> Vec<Problem> {
    let at = |line| Scope::Line {
        file: file.to_owned(),
        line,
    };
    let mut labelled: Vec<(u64, Fields)> = csv
        .rows
        .iter()
        .map(|row| (row.line, Fields::from(&row.book)))
        .chain(csv.unparsed.iter().map(|row| (row.line, Fields::from(row))))
        .collect();
    labelled.sort_by_key(|(line, _)| *line);
    let mut by_line: Vec<(u64, Problem)> = csv
        .problems
        .iter()
        .map(|p| {
            let problem = Problem {
                scope: at(p.line),
                field: p.column,
                message: p.message.clone(),
            };
            (p.line, problem)
        })
        .collect();
    for (line, fields) in &labelled {
        let problems = field_problems(&at(*line), fields);
        by_line.extend(problems.into_iter().map(|p| (*line, p)));
    }
    // Stable: a line's parse problems come before its field problems.
    by_line.sort_by_key(|(line, _)| *line);
    let mut problems: Vec<Problem> = by_line.into_iter().map(|(_, p)| p).collect();
    let labelled: Vec<(Scope, Fields)> = labelled
        .into_iter()
        .map(|(line, fields)| (at(line), fields))
        .collect();
    problems.extend(duplicate_problems(&labelled));
    problems
}

/// A problem for each rule one book's fields break.
fn field_problems(scope: &Scope, fields: &Fields) -> Vec<Problem> {
    check_fields(fields)
        .into_iter()
        .map(|(column, message)| Problem {
            scope: scope.clone(),
            field: Some(column),
            message,
        })
        .collect()
}

/// Ids and UPCs must be unique; each book's scope says where it came from
/// (`books.csv: line 7`).
fn duplicate_problems(books: &[(Scope, Fields)]) -> Vec<Problem> {
    let mut by_id: BTreeMap<BookId, Vec<&Scope>> = BTreeMap::new();
    let mut by_upc: BTreeMap<&str, Vec<&Scope>> = BTreeMap::new();
    for (scope, fields) in books {
        if let Some(id) = fields.id {
            by_id.entry(id).or_default().push(scope);
        }
        if !fields.upc.is_empty() {
            by_upc.entry(fields.upc).or_default().push(scope);
        }
    }
    let mut problems = Vec::new();
    for (id, scopes) in by_id.iter().filter(|(_, s)| s.len() > 1) {
        let message = format!("duplicate id {id}: {}", occurrences(scopes));
        problems.push(Problem::new(Scope::Dataset, message));
    }
    for (upc, scopes) in by_upc.iter().filter(|(_, s)| s.len() > 1) {
        let message = format!("duplicate upc {upc:?}: {}", occurrences(scopes));
        problems.push(Problem::new(Scope::Dataset, message));
    }
    problems
}

/// `2 books have it (books.csv: line 4; books.csv: line 9)`; the places are
/// left out when they say nothing more (in-memory books labelled by id).
fn occurrences(scopes: &[&Scope]) -> String {
    let mut distinct = scopes.to_vec();
    distinct.dedup();
    if distinct.len() > 1 {
        let places: Vec<String> = scopes.iter().map(ToString::to_string).collect();
        format!("{} books have it ({})", scopes.len(), places.join("; "))
    } else {
        format!("{} books have it", scopes.len())
    }
}

/// What is wrong with one book's fields, as `(column, message)` pairs:
/// required text present, prices positive and adding up, URLs canonical.
/// Ids, ratings and counts are in range by construction of the domain types.
pub fn check_book(book: &Book) -> Vec<(&'static str, String)> {
    check_fields(&Fields::from(book))
}

fn check_fields(book: &Fields) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    for (column, value) in [
        ("upc", book.upc),
        ("title", book.title),
        ("category", book.category),
        ("availability", book.availability),
        ("product_type", book.product_type),
    ] {
        if value.trim().is_empty() {
            problems.push((column, "required field is empty".to_owned()));
        }
    }
    for (column, price) in [
        ("price", book.price),
        ("price_excl_tax", book.price_excl_tax),
    ] {
        if price == Some(Price::from_pence(0)) {
            problems.push((column, "must be greater than 0, got 0.00".to_owned()));
        }
    }
    if let (Some(price), Some(excl), Some(tax)) = (book.price, book.price_excl_tax, book.tax)
        && excl.pence().checked_add(tax.pence()) != Some(price.pence())
    {
        problems.push((
            "price",
            format!("{price} is not price_excl_tax {excl} plus tax {tax}"),
        ));
    }
    for (column, value) in [
        ("image_url", book.image_url),
        ("product_url", book.product_url),
    ] {
        if let Err(message) = check_url(value) {
            problems.push((column, message));
        }
    }
    problems
}

/// Stored URLs are absolute, https, and canonical (DESIGN.md §3).
fn check_url(value: &str) -> Result<(), String> {
    let complaint = || format!("must be an absolute {CANONICAL_BASE_URL}... URL, got {value:?}");
    let url = url::Url::parse(value).map_err(|_| complaint())?;
    if url.scheme() != "https" || !value.starts_with(CANONICAL_BASE_URL) {
        return Err(complaint());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_name_contract_columns() {
        // Every rule broken at once: the columns named are the contract's.
        let zero = Some(Price::from_pence(0));
        let fields = Fields {
            id: None,
            upc: "",
            title: " ",
            category: "",
            price: zero,
            price_excl_tax: zero,
            tax: Some(Price::from_pence(1)),
            availability: "",
            product_type: "",
            image_url: "/a.jpg",
            product_url: "http://books.toscrape.com/",
        };
        let columns: Vec<&str> = check_fields(&fields).iter().map(|(c, _)| *c).collect();
        assert_eq!(
            columns,
            [
                "upc",
                "title",
                "category",
                "availability",
                "product_type",
                "price",
                "price_excl_tax",
                "price",
                "image_url",
                "product_url"
            ]
        );
        assert!(columns.iter().all(|c| Book::COLUMNS.contains(c)));
    }
}
