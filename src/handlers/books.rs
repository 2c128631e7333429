//! `/books`, `/books/{id}`, `/books/search`, `/books/top-rated`, `/books/price-range`.

use serde::Serialize;
use utoipa::ToSchema;

use super::ListPage;
use crate::domain::{Book, BookId};
use crate::http::error::ApiError;
use crate::http::params::Pagination;
use crate::store::Store;
use crate::store::query::BookQuery;

/// A book as the API shows it: every CSV column, plus derived fields.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Book)]
pub struct BookView {
    #[serde(flatten)]
    #[schema(inline)]
    pub book: Book,
    /// `stock > 0`.
    pub in_stock: bool,
    /// ISO 4217 code of every price.
    #[schema(schema_with = crate::http::openapi::gbp)]
    pub currency: &'static str,
}

impl From<Book> for BookView {
    fn from(book: Book) -> Self {
        BookView {
            in_stock: book.in_stock(),
            currency: "GBP",
            book,
        }
    }
}

/// One book by id; 404 when there is none.
pub fn book(store: &Store, id: BookId) -> Result<BookView, ApiError> {
    store
        .book(id)?
        .map(BookView::from)
        .ok_or_else(|| ApiError::BookNotFound { id: id.to_string() })
}

/// A page of the books `query` selects. Every list endpoint ends here; they
/// differ only in how their parameters build the query.
pub fn list(
    store: &Store,
    query: &BookQuery,
    page: Pagination,
) -> Result<ListPage<BookView>, ApiError> {
    let found = store.books(query)?;
    Ok(ListPage {
        items: found.books.into_iter().map(BookView::from).collect(),
        page: page.page,
        per_page: page.per_page,
        total: found.total,
        total_pages: page.total_pages(found.total),
    })
}
