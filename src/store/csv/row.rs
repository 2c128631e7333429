//! One record of `books.csv` as text ([`RawBookRow`], read with serde) and
//! its conversion into a [`Book`], which reports every field that does not
//! parse rather than the first.

use std::sync::LazyLock;

use serde::Deserialize;

use crate::domain::{Book, BookId, Price, Rating};

/// One CSV record, every column as text. Fields are named after
/// [`Book::COLUMNS`] and declared in its order (a test pins both).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct RawBookRow {
    pub id: String,
    pub upc: String,
    pub title: String,
    pub category: String,
    pub price: String,
    pub price_excl_tax: String,
    pub tax: String,
    pub rating: String,
    pub availability: String,
    pub stock: String,
    pub review_count: String,
    pub product_type: String,
    pub description: String,
    pub image_url: String,
    pub product_url: String,
}

/// [`Book::COLUMNS`] as a header record: records are deserialized by column
/// name, so the struct's field order cannot silently shift a column.
static COLUMNS_RECORD: LazyLock<csv::StringRecord> =
    LazyLock::new(|| csv::StringRecord::from(Book::COLUMNS.to_vec()));

impl RawBookRow {
    /// Reads a record of [`Book::COLUMNS`]`.len()` fields, in that order.
    /// Fails only on a record of another length.
    pub fn from_record(record: &csv::StringRecord) -> Result<Self, csv::Error> {
        record.deserialize(Some(&COLUMNS_RECORD))
    }

    /// The fields in [`Book::COLUMNS`] order.
    pub fn fields(&self) -> [&str; 15] {
        [
            &self.id,
            &self.upc,
            &self.title,
            &self.category,
            &self.price,
            &self.price_excl_tax,
            &self.tax,
            &self.rating,
            &self.availability,
            &self.stock,
            &self.review_count,
            &self.product_type,
            &self.description,
            &self.image_url,
            &self.product_url,
        ]
    }
}

/// A book's fields as the CSV writes them: prices as `51.77`, the rating as
/// its number of stars.
impl From<&Book> for RawBookRow {
    fn from(book: &Book) -> Self {
        RawBookRow {
            id: book.id.to_string(),
            upc: book.upc.clone(),
            title: book.title.clone(),
            category: book.category.clone(),
            price: book.price.to_string(),
            price_excl_tax: book.price_excl_tax.to_string(),
            tax: book.tax.to_string(),
            rating: book.rating.stars().to_string(),
            availability: book.availability.clone(),
            stock: book.stock.to_string(),
            review_count: book.review_count.to_string(),
            product_type: book.product_type.clone(),
            description: book.description.clone(),
            image_url: book.image_url.clone(),
            product_url: book.product_url.clone(),
        }
    }
}

/// A field of a [`RawBookRow`] that does not parse: its column and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub column: &'static str,
    pub message: String,
}

impl TryFrom<RawBookRow> for Book {
    /// Every field that does not parse, in column order; never empty.
    type Error = Vec<FieldError>;

    fn try_from(raw: RawBookRow) -> Result<Self, Self::Error> {
        let mut errors = Vec::new();
        let id = field(&mut errors, "id", raw.id.parse::<BookId>());
        let price = field(&mut errors, "price", parse_price(&raw.price));
        let price_excl_tax = field(
            &mut errors,
            "price_excl_tax",
            parse_price(&raw.price_excl_tax),
        );
        let tax = field(&mut errors, "tax", parse_price(&raw.tax));
        let rating = field(&mut errors, "rating", raw.rating.parse::<Rating>());
        let stock = field(&mut errors, "stock", parse_count(&raw.stock));
        let review_count = field(&mut errors, "review_count", parse_count(&raw.review_count));
        // Every `None` above recorded its error, so `errors` is never empty
        // when this gives `None`.
        let book = || {
            Some(Book {
                id: id?,
                upc: raw.upc,
                title: raw.title,
                category: raw.category,
                price: price?,
                price_excl_tax: price_excl_tax?,
                tax: tax?,
                rating: rating?,
                availability: raw.availability,
                stock: stock?,
                review_count: review_count?,
                product_type: raw.product_type,
                description: raw.description,
                image_url: raw.image_url,
                product_url: raw.product_url,
            })
        };
        book().ok_or(errors)
    }
}

/// The value of one column, or `None` with its error recorded, so that the
/// conversion goes on and reports every bad field of the row.
fn field<T, E: ToString>(
    errors: &mut Vec<FieldError>,
    column: &'static str,
    parsed: Result<T, E>,
) -> Option<T> {
    parsed
        .map_err(|err| {
            errors.push(FieldError {
                column,
                message: err.to_string(),
            });
        })
        .ok()
}

/// A price as the CSV writes it: `51.77`. No currency sign or spaces, which
/// `Price::parse_gbp` would forgive in user input.
pub(crate) fn parse_price(text: &str) -> Result<Price, String> {
    if text.starts_with(|c: char| c.is_ascii_digit())
        && text.ends_with(|c: char| c.is_ascii_digit())
    {
        Price::parse_gbp(text).map_err(|e| e.to_string())
    } else {
        Err(format!(
            "price must be a decimal number like 51.77, got {text:?}"
        ))
    }
}

/// A count (stock, reviews): plain decimal digits.
pub(crate) fn parse_count(text: &str) -> Result<u32, String> {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    match digits.then(|| text.parse::<u32>()) {
        Some(Ok(n)) => Ok(n),
        _ => Err(format!("must be a non-negative integer, got {text:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_named_and_ordered_as_the_columns() {
        // Each field reads the column of its name, so a record of the column
        // names comes back in column order only if names and order match.
        let raw = RawBookRow::from_record(&COLUMNS_RECORD).unwrap();
        assert_eq!(raw.fields(), Book::COLUMNS);
    }

    #[test]
    fn a_book_survives_the_round_trip() {
        let raw = RawBookRow {
            id: "1000".into(),
            upc: "a897fe39b1053632".into(),
            title: "A Light in the Attic".into(),
            category: "Poetry".into(),
            price: "51.77".into(),
            price_excl_tax: "51.77".into(),
            tax: "0.00".into(),
            rating: "3".into(),
            availability: "In stock".into(),
            stock: "22".into(),
            review_count: "0".into(),
            product_type: "Books".into(),
            description: "It's hard to imagine, a world".into(),
            image_url: "https://books.toscrape.com/media/a.jpg".into(),
            product_url: "https://books.toscrape.com/catalogue/a_1000/index.html".into(),
        };
        let book = Book::try_from(raw.clone()).unwrap();
        assert_eq!(book.price.pence(), 5177);
        assert_eq!(RawBookRow::from(&book), raw);
    }

    #[test]
    fn every_bad_field_is_reported_in_column_order() {
        let raw = RawBookRow {
            id: "x".into(),
            price: "£1".into(),
            price_excl_tax: "1".into(),
            tax: "".into(),
            rating: "0".into(),
            stock: "-1".into(),
            review_count: "1.5".into(),
            ..RawBookRow::default()
        };
        let errors = Book::try_from(raw).unwrap_err();
        let columns: Vec<&str> = errors.iter().map(|e| e.column).collect();
        assert_eq!(
            columns,
            ["id", "price", "tax", "rating", "stock", "review_count"]
        );
        assert!(columns.iter().all(|c| Book::COLUMNS.contains(c)));
    }

    #[test]
    fn prices_and_counts_are_strict() {
        assert_eq!(parse_price("51.77").map(Price::pence), Ok(5177));
        for bad in ["£51.77", " 51.77", "51.77 ", "", "-1.00", "1.234"] {
            assert!(parse_price(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_count("22"), Ok(22));
        for bad in ["", "-1", "+1", "1.0", "4294967296"] {
            assert!(parse_count(bad).is_err(), "{bad:?}");
        }
    }
}
