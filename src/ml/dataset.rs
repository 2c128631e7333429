//! The training dataset: one row per book, the book's side of the split and
//! every feature of [`FEATURES`], each by the feature table's one definition,
//! for JSON and CSV alike.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, RefBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use super::features::{FEATURES, Feature, FeatureKind, FeatureValue, feature};
use super::split::{Split, SplitRule};
use crate::domain::{Book, named_schema, one_of_words};

/// The column that is not a feature: the book's side of the split.
pub const SPLIT_COLUMN: &str = "split";

/// A dataset column: the split, or a feature.
#[derive(Debug, Clone, Copy)]
pub enum Column {
    Split,
    Feature(&'static Feature),
}

impl Column {
    pub fn name(self) -> &'static str {
        match self {
            Column::Split => SPLIT_COLUMN,
            Column::Feature(feature) => feature.name,
        }
    }

    fn value(self, book: &Book, side: Split) -> FeatureValue<'static> {
        match self {
            Column::Split => FeatureValue::Text(side.as_str().into()),
            Column::Feature(feature) => feature.of(book).into_owned(),
        }
    }
}

/// Every column, in the order a full row lists them: the id, the split, then
/// the other features in the table's order.
pub fn all_columns() -> Vec<Column> {
    let (id, rest) = FEATURES.split_at(1);
    id.iter()
        .map(Column::Feature)
        .chain([Column::Split])
        .chain(rest.iter().map(Column::Feature))
        .collect()
}

/// The column named `name`.
pub fn column(name: &str) -> Option<Column> {
    if name == SPLIT_COLUMN {
        return Some(Column::Split);
    }
    feature(name).map(Column::Feature)
}

/// The rows of `split` under `rule`, by id, with `columns`.
pub fn rows(books: &[Book], rule: SplitRule, split: Split, columns: &[Column]) -> Vec<Row> {
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
                .map(|c| (c.name(), c.value(b, side)))
                .collect())
        })
        .collect()
}

/// One row: (column, value) in column order; serialises as a JSON object
/// keeping that order.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<(&'static str, FeatureValue<'static>)>);

impl Serialize for Row {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// A row with every column, from the feature table: a request's `columns`
/// keeps a subset.
impl PartialSchema for Row {
    fn schema() -> RefOr<Schema> {
        let mut row = ObjectBuilder::new()
            .description(Some(
                "One book. Each column is described at /api/v1/ml/features; `columns` keeps a subset.",
            ))
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        for column in all_columns() {
            let property = match column {
                Column::Split => {
                    let side = RefBuilder::new()
                        .ref_location_from_schema_name(Side::name())
                        .description(Some("The book's side of the train/test split."));
                    row = row.property(column.name(), side);
                    continue;
                }
                Column::Feature(feature) => {
                    let kind = match feature.kind {
                        FeatureKind::Numeric if feature.is_integer() => Type::Integer,
                        FeatureKind::Numeric => Type::Number,
                        FeatureKind::Boolean => Type::Boolean,
                        FeatureKind::Categorical | FeatureKind::Text => Type::String,
                    };
                    let unit = feature.unit.map(|u| format!(" ({u})")).unwrap_or_default();
                    ObjectBuilder::new()
                        .schema_type(kind)
                        .description(Some(format!("{}{unit}", feature.note)))
                }
            };
            row = row.property(column.name(), property);
        }
        row.into()
    }
}

impl ToSchema for Row {
    fn name() -> std::borrow::Cow<'static, str> {
        "DatasetRow".into()
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((Side::name().into(), Side::schema()));
    }
}

named_schema!(
    /// A book's side of the train/test split.
    Side => one_of_words(&["train", "test"], "A book's side of the train/test split.")
);

/// RFC 4180 CSV (CRLF line ends, quotes where needed) with a header row.
pub fn to_csv(columns: &[Column], rows: &[Row]) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = writer.write_record(columns.iter().map(|c| c.name()));
    for row in rows {
        let _ = writer.write_record(row.0.iter().map(|(_, value)| value.to_string()));
    }
    writer.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_feature_is_a_column_once_and_the_split_follows_the_id() {
        let names: Vec<&str> = all_columns().into_iter().map(Column::name).collect();
        assert_eq!(names[..2], ["id", SPLIT_COLUMN]);
        assert_eq!(names.len(), FEATURES.len() + 1);
        for feature in FEATURES {
            assert_eq!(names.iter().filter(|n| **n == feature.name).count(), 1);
            assert!(column(feature.name).is_some());
        }
        assert!(column("nope").is_none());
    }
}
