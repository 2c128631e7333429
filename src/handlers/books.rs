//! `/books`, `/books/{id}`, `/books/{id}/similar`, `/books/search`,
//! `/books/top-rated`, `/books/price-range`.

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

/// The books most like one book, by their text.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SimilarBooks {
    /// The book they are similar to.
    #[schema(minimum = 1, examples(1))]
    pub book_id: u32,
    /// The most items asked for (there are fewer only in a catalogue that
    /// small).
    #[schema(schema_with = crate::http::openapi::similar_limit)]
    pub limit: u32,
    /// Most similar first: score descending, ties by id ascending. Never
    /// the book itself.
    pub items: Vec<SimilarBook>,
}

/// One similar book and how similar it is.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SimilarBook {
    /// Cosine similarity of the two books' TF-IDF vectors (title and
    /// description), from 0 (no word in common) to 1 (the same words
    /// equally weighted), to six decimal places.
    #[schema(minimum = 0, maximum = 1, examples(0.127595))]
    pub score: f64,
    pub book: BookView,
}

/// The `limit` books most similar to book `id`; 404 when there is no such
/// book.
pub fn similar(store: &Store, id: BookId, limit: u32) -> Result<SimilarBooks, ApiError> {
    let found = store.similar(id, limit)?;
    // No neighbours: no such book (or a catalogue of one).
    if found.is_empty() && !store.book_exists(id)? {
        return Err(ApiError::BookNotFound { id: id.to_string() });
    }
    Ok(SimilarBooks {
        book_id: id.get(),
        limit,
        items: found
            .into_iter()
            .map(|(book, score)| SimilarBook {
                score,
                book: book.into(),
            })
            .collect(),
    })
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
