//! A book of the catalogue, as the data contract (DESIGN.md §3) describes it.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use utoipa::ToSchema;

use super::{DomainError, Price};

/// The site's own numeric id, taken from the product URL
/// (`a-light-in-the-attic_1000` is 1000). Stable across scrapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct BookId(u32);

impl BookId {
    pub fn new(id: u32) -> Result<Self, DomainError> {
        if id == 0 {
            return Err(DomainError::BookId(id.to_string()));
        }
        Ok(BookId(id))
    }

    pub const fn get(self) -> u32 {
        self.0
    }
}

impl FromStr for BookId {
    type Err = DomainError;
    /// Accepts only plain decimal digits: no sign, no fraction, no spaces, and
    /// nothing above `u32::MAX`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::BookId(s.to_owned()));
        }
        let id: u32 = s.parse().map_err(|_| DomainError::BookId(s.to_owned()))?;
        BookId::new(id)
    }
}

impl fmt::Display for BookId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A star rating from 1 to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Rating(u8);

impl Rating {
    pub fn new(stars: u8) -> Result<Self, DomainError> {
        if (1..=5).contains(&stars) {
            Ok(Rating(stars))
        } else {
            Err(DomainError::Rating(stars.to_string()))
        }
    }

    /// Reads the site's CSS class word (`star-rating Three`).
    pub fn from_word(word: &str) -> Result<Self, DomainError> {
        let stars = match word {
            "One" => 1,
            "Two" => 2,
            "Three" => 3,
            "Four" => 4,
            "Five" => 5,
            _ => return Err(DomainError::Rating(word.to_owned())),
        };
        Ok(Rating(stars))
    }

    pub const fn stars(self) -> u8 {
        self.0
    }
}

impl FromStr for Rating {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let stars: u8 = s.parse().map_err(|_| DomainError::Rating(s.to_owned()))?;
        Rating::new(stars)
    }
}

/// One book, every column of `data/books.csv`. Field names are the CSV's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Book {
    /// The site's own id, from the product URL.
    #[schema(value_type = u32, format = Int64, minimum = 1, maximum = 4_294_967_295_u32, examples(1000))]
    pub id: BookId,
    /// Universal Product Code.
    #[schema(examples("a897fe39b1053632"))]
    pub upc: String,
    #[schema(examples("A Light in the Attic"))]
    pub title: String,
    #[schema(examples("Poetry"))]
    pub category: String,
    /// Price including tax.
    pub price: Price,
    /// Price excluding tax.
    pub price_excl_tax: Price,
    /// Tax.
    pub tax: Price,
    /// Stars, 1 to 5.
    #[schema(value_type = u8, minimum = 1, maximum = 5)]
    pub rating: Rating,
    /// The availability text before the parenthesis, e.g. `In stock`.
    #[schema(examples("In stock"))]
    pub availability: String,
    /// Copies available, from `In stock (22 available)`; 0 when none is said.
    pub stock: u32,
    pub review_count: u32,
    #[schema(examples("Books"))]
    pub product_type: String,
    /// May be empty: two books of the site have no description.
    pub description: String,
    #[schema(format = "uri")]
    pub image_url: String,
    #[schema(format = "uri")]
    pub product_url: String,
}

impl Book {
    /// The names of a book's columns, in the order of the data contract
    /// (DESIGN.md §3): the CSV header. The one list; every other list of the
    /// columns (the CSV row type, SQL column lists) is derived from it or
    /// pinned to it by a test.
    pub const COLUMNS: [&'static str; 15] = [
        "id",
        "upc",
        "title",
        "category",
        "price",
        "price_excl_tax",
        "tax",
        "rating",
        "availability",
        "stock",
        "review_count",
        "product_type",
        "description",
        "image_url",
        "product_url",
    ];

    pub fn in_stock(&self) -> bool {
        self.stock > 0
    }

    pub fn category_slug(&self) -> String {
        category_slug(&self.category)
    }
}

/// The URL-friendly form of a category name, as the site uses in its own
/// category URLs: `Historical Fiction` -> `historical-fiction`.
pub fn category_slug(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    for word in name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.extend(word.chars().flat_map(char::to_lowercase));
    }
    slug
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn book_id_accepts_only_positive_integers() {
        assert_eq!("42".parse::<BookId>().unwrap().get(), 42);
        for bad in [
            "0",
            "-1",
            "+1",
            "1.5",
            "abc",
            "",
            " 1",
            "99999999999999999999",
        ] {
            assert!(bad.parse::<BookId>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn rating_words_and_numbers() {
        assert_eq!(Rating::from_word("Three").unwrap().stars(), 3);
        assert!(Rating::from_word("Zero").is_err());
        assert!("6".parse::<Rating>().is_err());
        assert!("0".parse::<Rating>().is_err());
        assert_eq!("5".parse::<Rating>().unwrap().stars(), 5);
    }

    #[test]
    fn slugs_match_the_site() {
        assert_eq!(category_slug("Historical Fiction"), "historical-fiction");
        assert_eq!(category_slug("Add a comment"), "add-a-comment");
        assert_eq!(category_slug("Sequential Art"), "sequential-art");
        assert_eq!(category_slug("Science Fiction"), "science-fiction");
    }
}
