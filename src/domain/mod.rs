//! The catalogue's vocabulary: a [`Book`] and the small types its fields are
//! made of. Constructors validate, so a value of these types is always in range
//! ("parse, don't validate"); everything downstream can rely on that.

mod book;
mod decimal;
mod price;
mod schema;

pub use book::{Book, BookId, Rating, category_slug};
pub use decimal::Decimal;
pub use price::{Decimal2, Price, PriceBound};
pub(crate) use schema::named_schema;
pub use schema::{constant, one_of_words};

use thiserror::Error;

/// A value that does not fit a domain type, with what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    #[error("book id must be a positive integer, got {0:?}")]
    BookId(String),
    #[error("rating must be an integer from 1 to 5, got {0:?}")]
    Rating(String),
    #[error("price must be a non-negative amount with at most two decimals, got {0:?}")]
    Price(String),
    #[error("a price bound must be a non-negative number, got {0:?}")]
    PriceBound(String),
}
