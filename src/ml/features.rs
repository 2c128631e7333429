//! The feature table: every column a model may read about a book, and the
//! ones derived from them, each defined once as a function of a [`Book`].
//! `/api/v1/ml/features` describes them (with statistics over the catalogue,
//! see [`super::profile`]); a dataset row is the values of the features
//! chosen, in table order:
//!
//! ```
//! use books::ml::features::{FEATURES, FeatureValue};
//! # fn row(book: &books::domain::Book) -> Vec<FeatureValue<'_>> {
//! FEATURES.iter().map(|feature| feature.of(book)).collect()
//! # }
//! ```
//!
//! `upc`, `image_url` and `product_url` are per-book identifiers like `id`
//! and carry nothing about the book; they are not in the table.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::domain::{Book, Price};

/// What kind of values a feature holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FeatureKind {
    /// A number (an integer or an amount).
    Numeric,
    /// One of a few labels.
    Categorical,
    Boolean,
    /// Free text.
    Text,
}

/// What a feature is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Names a book; not a feature.
    Identifier,
    /// Something to predict (it may still be an input for another target).
    Target,
    /// An input.
    Feature,
}

/// One feature's value for one book: a JSON number, string or boolean.
/// Amounts are written with two decimals, as everywhere in the API.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum FeatureValue<'a> {
    Integer(i64),
    Number(f64),
    Price(Price),
    Bool(bool),
    Text(Cow<'a, str>),
}

impl FeatureValue<'_> {
    /// The value as a number: integers and amounts as they are, booleans as
    /// 0 or 1; text has none.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            FeatureValue::Integer(v) => Some(*v as f64),
            FeatureValue::Number(v) => Some(*v),
            FeatureValue::Price(p) => Some(p.pence() as f64 / 100.0),
            FeatureValue::Bool(v) => Some(f64::from(u8::from(*v))),
            FeatureValue::Text(_) => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            FeatureValue::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The same value, owning its text.
    pub fn into_owned(self) -> FeatureValue<'static> {
        match self {
            FeatureValue::Integer(v) => FeatureValue::Integer(v),
            FeatureValue::Number(v) => FeatureValue::Number(v),
            FeatureValue::Price(p) => FeatureValue::Price(p),
            FeatureValue::Bool(v) => FeatureValue::Bool(v),
            FeatureValue::Text(text) => FeatureValue::Text(Cow::Owned(text.into_owned())),
        }
    }
}

/// As a CSV field would hold it: numbers as JSON writes them (amounts with
/// two decimals), `true`/`false`, text as it is.
impl fmt::Display for FeatureValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FeatureValue::Integer(v) => v.fmt(f),
            // serde_json's shortest round-trip form (`26.08`, `0.0`).
            FeatureValue::Number(v) => f.write_str(&serde_json::Value::from(*v).to_string()),
            FeatureValue::Price(p) => p.fmt(f),
            FeatureValue::Bool(v) => v.fmt(f),
            FeatureValue::Text(text) => f.write_str(text),
        }
    }
}

impl PartialSchema for FeatureValue<'_> {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([
                Type::Number,
                Type::String,
                Type::Boolean,
            ]))
            .description(Some(
                "A feature's value: a number, a string or a boolean, by the feature's type.",
            ))
            .into()
    }
}

impl ToSchema for FeatureValue<'_> {}

/// One entry of the table.
#[derive(Clone, Copy)]
pub struct Feature {
    /// The name a dataset column has.
    pub name: &'static str,
    pub kind: FeatureKind,
    pub role: Role,
    /// The unit of a numeric feature (`GBP`, `characters`); none otherwise.
    pub unit: Option<&'static str>,
    /// The `books.csv` column it is read from.
    pub column: &'static str,
    /// How it is computed from the column; none when it is the column as is.
    pub derivation: Option<&'static str>,
    /// What a modeller should know about it.
    pub note: &'static str,
    /// The one definition of its value.
    pub value: for<'a> fn(&'a Book) -> FeatureValue<'a>,
}

impl Feature {
    /// Its value for `book`.
    pub fn of<'a>(&self, book: &'a Book) -> FeatureValue<'a> {
        (self.value)(book)
    }

    /// Whether its values are whole numbers: every numeric feature but the
    /// amounts in GBP (a test holds this to the values themselves).
    pub fn is_integer(&self) -> bool {
        self.kind == FeatureKind::Numeric && self.unit != Some("GBP")
    }
}

impl fmt::Debug for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Feature")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// The feature named `name`.
pub fn feature(name: &str) -> Option<&'static Feature> {
    FEATURES.iter().find(|f| f.name == name)
}

/// A book's characters (Unicode scalar values) in `text`.
pub fn chars(text: &str) -> usize {
    text.chars().count()
}

/// A book's words in `text`: runs of non-whitespace.
pub fn words(text: &str) -> usize {
    text.split_whitespace().count()
}

fn count(n: usize) -> FeatureValue<'static> {
    FeatureValue::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

fn text(value: &str) -> FeatureValue<'_> {
    FeatureValue::Text(Cow::Borrowed(value))
}

fn pounds(price: Price) -> FeatureValue<'static> {
    FeatureValue::Price(price)
}

const fn column(
    name: &'static str,
    kind: FeatureKind,
    role: Role,
    unit: Option<&'static str>,
    note: &'static str,
    value: for<'a> fn(&'a Book) -> FeatureValue<'a>,
) -> Feature {
    Feature {
        name,
        kind,
        role,
        unit,
        column: name,
        derivation: None,
        note,
        value,
    }
}

const fn derived(
    name: &'static str,
    kind: FeatureKind,
    unit: Option<&'static str>,
    from: &'static str,
    derivation: &'static str,
    note: &'static str,
    value: for<'a> fn(&'a Book) -> FeatureValue<'a>,
) -> Feature {
    Feature {
        name,
        kind,
        role: Role::Feature,
        unit,
        column: from,
        derivation: Some(derivation),
        note,
        value,
    }
}

use FeatureKind::{Boolean, Categorical, Numeric, Text};

/// Every feature, in the order of the data contract's columns, the derived
/// ones last.
pub const FEATURES: &[Feature] = &[
    column(
        "id",
        Numeric,
        Role::Identifier,
        None,
        "The site's own number, from the product URL. An identifier, not a feature: it follows the order the site lists books in and says nothing about a book. Use it to join, never as an input.",
        |b| FeatureValue::Integer(b.id.get().into()),
    ),
    column(
        "title",
        Text,
        Role::Feature,
        None,
        "Input of the category model, with the description.",
        |b| text(&b.title),
    ),
    column(
        "description",
        Text,
        Role::Feature,
        None,
        "Input of the category model, with the title. Empty for the few books the site gives none.",
        |b| text(&b.description),
    ),
    column(
        "category",
        Categorical,
        Role::Target,
        None,
        "The category target, predicted by POST /api/v1/ml/predictions. `Default` and `Add a comment` are site placeholders, not genres: the model neither learns nor predicts them.",
        |b| text(&b.category),
    ),
    column(
        "price",
        Numeric,
        Role::Target,
        Some("GBP"),
        "The price target (including tax, two decimals).",
        |b| pounds(b.price),
    ),
    column(
        "price_excl_tax",
        Numeric,
        Role::Feature,
        Some("GBP"),
        "The price before tax.",
        |b| pounds(b.price_excl_tax),
    ),
    column(
        "tax",
        Numeric,
        Role::Feature,
        Some("GBP"),
        "The tax on the price.",
        |b| pounds(b.tax),
    ),
    column(
        "rating",
        Numeric,
        Role::Target,
        Some("stars"),
        "The rating target: an ordinal from 1 to 5 stars.",
        |b| FeatureValue::Integer(b.rating.stars().into()),
    ),
    column(
        "availability",
        Categorical,
        Role::Feature,
        None,
        "The availability text before the parenthesis (`In stock`).",
        |b| text(&b.availability),
    ),
    column(
        "stock",
        Numeric,
        Role::Feature,
        Some("copies"),
        "Copies available, from `In stock (22 available)`.",
        |b| FeatureValue::Integer(b.stock.into()),
    ),
    column(
        "review_count",
        Numeric,
        Role::Feature,
        Some("reviews"),
        "Reviews the site shows.",
        |b| FeatureValue::Integer(b.review_count.into()),
    ),
    column(
        "product_type",
        Categorical,
        Role::Feature,
        None,
        "The site's product type.",
        |b| text(&b.product_type),
    ),
    derived(
        "in_stock",
        Boolean,
        None,
        "stock",
        "stock > 0",
        "Whether any copy is available.",
        |b| FeatureValue::Bool(b.in_stock()),
    ),
    derived(
        "title_chars",
        Numeric,
        Some("characters"),
        "title",
        "characters (Unicode scalar values) in the title",
        "The title's length.",
        |b| count(chars(&b.title)),
    ),
    derived(
        "title_words",
        Numeric,
        Some("words"),
        "title",
        "runs of non-whitespace in the title",
        "The title's word count.",
        |b| count(words(&b.title)),
    ),
    derived(
        "description_chars",
        Numeric,
        Some("characters"),
        "description",
        "characters (Unicode scalar values) in the description",
        "The description's length; 0 when there is none.",
        |b| count(chars(&b.description)),
    ),
    derived(
        "description_words",
        Numeric,
        Some("words"),
        "description",
        "runs of non-whitespace in the description",
        "The description's word count; 0 when there is none.",
        |b| count(words(&b.description)),
    ),
    derived(
        "has_description",
        Boolean,
        None,
        "description",
        "the description is not empty",
        "Whether the site gives a description.",
        |b| FeatureValue::Bool(!b.description.is_empty()),
    ),
];

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::{BookId, Rating};
    use std::collections::BTreeSet;

    pub(crate) fn book(id: u32, title: &str, description: &str, pence: u64, stock: u32) -> Book {
        Book {
            id: BookId::new(id).unwrap(),
            upc: format!("upc{id}"),
            title: title.into(),
            category: "Poetry".into(),
            price: Price::from_pence(pence),
            price_excl_tax: Price::from_pence(pence),
            tax: Price::from_pence(0),
            rating: Rating::new(3).unwrap(),
            availability: "In stock".into(),
            stock,
            review_count: 0,
            product_type: "Books".into(),
            description: description.into(),
            image_url: String::new(),
            product_url: String::new(),
        }
    }

    #[test]
    fn names_are_unique_and_every_column_is_a_book_column() {
        let names: BTreeSet<&str> = FEATURES.iter().map(|f| f.name).collect();
        assert_eq!(names.len(), FEATURES.len());
        for f in FEATURES {
            assert!(Book::COLUMNS.contains(&f.column), "{}", f.name);
            // A derived feature says how; a column as is has its own name.
            assert_eq!(f.derivation.is_none(), f.column == f.name, "{}", f.name);
            assert!(!f.note.is_empty(), "{}", f.name);
            // Units are for numbers only.
            if f.unit.is_some() {
                assert_eq!(f.kind, FeatureKind::Numeric, "{}", f.name);
            }
        }
        let targets: Vec<&str> = FEATURES
            .iter()
            .filter(|f| f.role == Role::Target)
            .map(|f| f.name)
            .collect();
        assert_eq!(targets, ["category", "price", "rating"]);
        for placeholder in crate::ml::train::PSEUDO_CATEGORIES {
            assert!(feature("category").unwrap().note.contains(placeholder));
        }
    }

    #[test]
    fn values_have_their_kind_and_serialise_as_plain_json() {
        let b = book(7, "Ünïcode  title", "", 2608, 0);
        for f in FEATURES {
            let value = f.of(&b);
            assert_eq!(
                f.is_integer(),
                matches!(value, FeatureValue::Integer(_)),
                "{}",
                f.name
            );
            let ok = match f.kind {
                FeatureKind::Numeric => value.as_f64().is_some() && value.as_str().is_none(),
                FeatureKind::Categorical | FeatureKind::Text => value.as_str().is_some(),
                FeatureKind::Boolean => matches!(value, FeatureValue::Bool(_)),
            };
            assert!(ok, "{}: {value:?}", f.name);
        }
        let json = |name: &str| serde_json::to_string(&feature(name).unwrap().of(&b)).unwrap();
        assert_eq!(json("id"), "7");
        assert_eq!(json("price"), "26.08");
        assert_eq!(json("tax"), "0.00");
        assert_eq!(json("title"), "\"Ünïcode  title\"");
        assert_eq!(json("title_chars"), "14");
        assert_eq!(json("title_words"), "2");
        assert_eq!(json("description_words"), "0");
        assert_eq!(json("in_stock"), "false");
        assert_eq!(json("has_description"), "false");
        assert_eq!(feature("price").unwrap().of(&b).to_string(), "26.08");
        assert_eq!(FeatureValue::Bool(true).to_string(), "true");
        assert_eq!(feature("nope").map(|f| f.name), None);
    }
}
