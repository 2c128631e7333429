//! The training dataset: one row per book, the columns a notebook trains on,
//! in a fixed order, each with one definition used for JSON and CSV alike.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::split::{Split, SplitRule};
use crate::domain::{Book, Price};

/// One cell of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Integer(u64),
    Price(Price),
    Bool(bool),
    Text(String),
}

impl Cell {
    /// The cell as CSV text: numbers as JSON writes them, `true`/`false`.
    pub fn to_csv(&self) -> String {
        match self {
            Cell::Integer(n) => n.to_string(),
            Cell::Price(p) => p.to_string(),
            Cell::Bool(b) => b.to_string(),
            Cell::Text(t) => t.clone(),
        }
    }
}

impl Serialize for Cell {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Integer(n) => serializer.serialize_u64(*n),
            Cell::Price(p) => p.serialize(serializer),
            Cell::Bool(b) => serializer.serialize_bool(*b),
            Cell::Text(t) => serializer.serialize_str(t),
        }
    }
}

/// A column: its name and how a book's value is read or derived.
#[derive(Debug)]
pub struct Column {
    pub name: &'static str,
    pub value: fn(&Book, Split) -> Cell,
}

/// The feature table's definitions (`/api/v1/ml/features` describes them).
fn words(text: &str) -> u64 {
    super::features::words(text) as u64
}

fn chars(text: &str) -> u64 {
    super::features::chars(text) as u64
}

/// Every column, in the order a full row lists them.
pub const COLUMNS: &[Column] = &[
    Column {
        name: "id",
        value: |b, _| Cell::Integer(b.id.get().into()),
    },
    Column {
        name: "split",
        value: |_, s| Cell::Text(s.as_str().to_owned()),
    },
    Column {
        name: "title",
        value: |b, _| Cell::Text(b.title.clone()),
    },
    Column {
        name: "description",
        value: |b, _| Cell::Text(b.description.clone()),
    },
    Column {
        name: "category",
        value: |b, _| Cell::Text(b.category.clone()),
    },
    Column {
        name: "price",
        value: |b, _| Cell::Price(b.price),
    },
    Column {
        name: "rating",
        value: |b, _| Cell::Integer(b.rating.stars().into()),
    },
    Column {
        name: "stock",
        value: |b, _| Cell::Integer(b.stock.into()),
    },
    Column {
        name: "in_stock",
        value: |b, _| Cell::Bool(b.in_stock()),
    },
    Column {
        name: "title_chars",
        value: |b, _| Cell::Integer(chars(&b.title)),
    },
    Column {
        name: "title_words",
        value: |b, _| Cell::Integer(words(&b.title)),
    },
    Column {
        name: "description_chars",
        value: |b, _| Cell::Integer(chars(&b.description)),
    },
    Column {
        name: "description_words",
        value: |b, _| Cell::Integer(words(&b.description)),
    },
    Column {
        name: "upc",
        value: |b, _| Cell::Text(b.upc.clone()),
    },
    Column {
        name: "image_url",
        value: |b, _| Cell::Text(b.image_url.clone()),
    },
    Column {
        name: "product_url",
        value: |b, _| Cell::Text(b.product_url.clone()),
    },
];

/// The column named `name`.
pub fn column(name: &str) -> Option<&'static Column> {
    COLUMNS.iter().find(|c| c.name == name)
}

/// The rows of `split` under `rule`, by id, with `columns`.
pub fn rows(
    books: &[Book],
    rule: SplitRule,
    split: Split,
    columns: &[&'static Column],
) -> Vec<Row> {
    books
        .iter()
        .filter(|b| rule.contains(split, b.id.get()))
        .map(|b| {
            let side = if rule.is_test(b.id.get()) {
                Split::Test
            } else {
                Split::Train
            };
            Row(columns
                .iter()
                .map(|c| (c.name, (c.value)(b, side)))
                .collect())
        })
        .collect()
}

/// One row: (column, cell) in column order; serialises as a JSON object
/// keeping that order.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<(&'static str, Cell)>);

impl Serialize for Row {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, cell) in &self.0 {
            map.serialize_entry(name, cell)?;
        }
        map.end()
    }
}

/// RFC 4180 CSV (CRLF line ends, quotes where needed) with a header row.
pub fn to_csv(columns: &[&'static Column], rows: &[Row]) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = writer.write_record(columns.iter().map(|c| c.name));
    for row in rows {
        let _ = writer.write_record(row.0.iter().map(|(_, cell)| cell.to_csv()));
    }
    writer.into_inner().unwrap_or_default()
}
