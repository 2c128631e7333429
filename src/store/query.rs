//! The read queries the API runs against `books.db`. Every value reaches SQL
//! as a bound parameter; only fixed fragments chosen from enums are spliced.

use std::sync::OnceLock;

use rusqlite::{Connection, Row, params, params_from_iter, types::Value};

use super::schema::meta_key;
use super::sqlite::{Store, StoreError, read_meta};
use super::summary::{CategoryStats, CategorySummary, Overview};
use crate::domain::{Book, BookId, Price, Rating};

/// The columns of `books`, in the order [`book_from_row`] reads them: the
/// order of [`Book::COLUMNS`] (a test pins it).
const BOOK_COLUMNS: &str = "books.id, upc, title, category, price_pence, price_excl_tax_pence, \
     tax_pence, rating, availability, stock, review_count, product_type, description, \
     image_url, product_url";
/// How many columns [`BOOK_COLUMNS`] selects: a column after them is this index.
const BOOK_COLUMN_COUNT: usize = 15;

/// What a list of books may be sorted by. Ties are always broken by id, ascending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Id,
    Title,
    Price,
    Rating,
    Stock,
    /// Full-text rank; only meaningful with a text query.
    Relevance,
}

impl SortKey {
    fn column(self) -> &'static str {
        match self {
            SortKey::Id => "books.id",
            SortKey::Title => "books.title COLLATE NOCASE",
            SortKey::Price => "books.price_pence",
            SortKey::Rating => "books.rating",
            SortKey::Stock => "books.stock",
            SortKey::Relevance => "fts.fts_rank",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Asc,
    Desc,
}

/// A filtered, sorted, paginated selection of books. Filters are ANDed.
#[derive(Debug, Clone, PartialEq)]
pub struct BookQuery {
    /// A category slug (names are turned into slugs by the caller).
    pub category_slug: Option<String>,
    pub min_price: Option<Price>,
    pub max_price: Option<Price>,
    pub min_rating: Option<Rating>,
    pub in_stock: Option<bool>,
    /// Case-insensitive substring of the title; `%` and `_` are literal.
    pub title_contains: Option<String>,
    /// An FTS5 MATCH expression over title and description, already built
    /// from user words by the caller (see `http::params`).
    pub full_text: Option<String>,
    pub sort: SortKey,
    pub order: Order,
    pub limit: u32,
    pub offset: u64,
}

impl BookQuery {
    /// Every book, by id, first `limit`.
    pub fn all(limit: u32) -> Self {
        BookQuery {
            category_slug: None,
            min_price: None,
            max_price: None,
            min_rating: None,
            in_stock: None,
            title_contains: None,
            full_text: None,
            sort: SortKey::Id,
            order: Order::Asc,
            limit,
            offset: 0,
        }
    }

    /// The `FROM ... WHERE ...` part shared by the page and its count, and
    /// the values it binds, in order.
    fn sql_filter(&self) -> (String, Vec<Value>) {
        let mut sql = String::from(" FROM books");
        let mut values = Vec::new();
        if let Some(text) = &self.full_text {
            sql.push_str(
                " JOIN (SELECT rowid AS fts_id, rank AS fts_rank FROM books_fts \
                 WHERE books_fts MATCH ?) AS fts ON fts.fts_id = books.id",
            );
            values.push(Value::Text(text.clone()));
        }
        sql.push_str(" WHERE 1 = 1");
        if let Some(slug) = &self.category_slug {
            sql.push_str(" AND books.category_id = (SELECT id FROM categories WHERE slug = ?)");
            values.push(Value::Text(slug.clone()));
        }
        if let Some(min) = self.min_price {
            sql.push_str(" AND books.price_pence >= ?");
            values.push(Value::Integer(to_i64(min.pence())));
        }
        if let Some(max) = self.max_price {
            sql.push_str(" AND books.price_pence <= ?");
            values.push(Value::Integer(to_i64(max.pence())));
        }
        if let Some(rating) = self.min_rating {
            sql.push_str(" AND books.rating >= ?");
            values.push(Value::Integer(rating.stars().into()));
        }
        match self.in_stock {
            Some(true) => sql.push_str(" AND books.stock > 0"),
            Some(false) => sql.push_str(" AND books.stock = 0"),
            None => {}
        }
        if let Some(needle) = &self.title_contains {
            let needle = needle.to_lowercase();
            // Three characters make a trigram: the index then narrows the
            // books to the few whose folded title holds every trigram of
            // the needle, in order, and instr() confirms each. (FTS5 reads
            // its query as a C string: a NUL would cut it, so such a needle
            // is left to instr() alone.)
            if needle.chars().count() >= 3 && !needle.contains('\0') {
                sql.push_str(
                    " AND books.id IN (SELECT rowid FROM books_title_trigram \
                     WHERE books_title_trigram MATCH ?)",
                );
                values.push(Value::Text(fts_phrase(&needle)));
            }
            sql.push_str(" AND instr(books.title_folded, ?) > 0");
            values.push(Value::Text(needle));
        }
        (sql, values)
    }
}

/// `text` as one FTS5 string (a phrase): in double quotes, inner quotes
/// doubled, so no character of it is query syntax.
fn fts_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// Prices and offsets come from validated `u64`s well below `i64::MAX`; saturate
/// rather than wrap if one ever is not.
fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// One page of a [`BookQuery`] and the number of books matching it in all.
#[derive(Debug, Clone)]
pub struct BookPage {
    pub books: Vec<Book>,
    pub total: u64,
}

/// The value in `cell`, computing it with `compute` the first time. Two
/// racing first callers may both compute; both get the same answer.
fn memoized<T: Clone>(
    cell: &OnceLock<T>,
    compute: impl FnOnce() -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    if let Some(value) = cell.get() {
        return Ok(value.clone());
    }
    let value = compute()?;
    Ok(cell.get_or_init(|| value).clone())
}

impl Store {
    /// One book, or `None` when no book has that id.
    pub fn book(&self, id: BookId) -> Result<Option<Book>, StoreError> {
        self.with_connection(|conn| {
            let sql = format!("SELECT {BOOK_COLUMNS} FROM books WHERE id = ?");
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query([id.get()])?;
            match rows.next()? {
                Some(row) => Ok(Some(book_from_row(row)?)),
                None => Ok(None),
            }
        })
    }

    /// The books most similar to book `id`, best first, at most `limit`,
    /// each with its score (see `ml::similar`). Empty when `id` names no
    /// book (or the only one).
    pub fn similar(&self, id: BookId, limit: u32) -> Result<Vec<(Book, f64)>, StoreError> {
        self.with_connection(|conn| {
            let sql = format!(
                "SELECT {BOOK_COLUMNS}, similar_books.score FROM similar_books \
                 JOIN books ON books.id = similar_books.similar_id \
                 WHERE similar_books.book_id = ? ORDER BY similar_books.rank LIMIT ?"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![id.get(), limit], |row| {
                Ok((book_from_row(row)?, row.get(BOOK_COLUMN_COUNT)?))
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Whether a book has id `id`.
    pub fn book_exists(&self, id: BookId) -> Result<bool, StoreError> {
        self.with_connection(|conn| {
            let mut stmt = conn.prepare_cached("SELECT 1 FROM books WHERE id = ?")?;
            Ok(stmt.exists([id.get()])?)
        })
    }

    /// A page of books and the total matching `query`.
    pub fn books(&self, query: &BookQuery) -> Result<BookPage, StoreError> {
        self.with_connection(|conn| {
            let (from_where, values) = query.sql_filter();
            let total: i64 = conn
                .prepare_cached(&format!("SELECT count(*){from_where}"))?
                .query_row(params_from_iter(values.iter()), |row| row.get(0))?;

            let direction = match query.order {
                Order::Asc => "ASC",
                Order::Desc => "DESC",
            };
            let sql = format!(
                "SELECT {BOOK_COLUMNS}{from_where} ORDER BY {} {direction}, books.id ASC \
                 LIMIT ? OFFSET ?",
                query.sort.column()
            );
            let mut page_values = values;
            page_values.push(Value::Integer(query.limit.into()));
            page_values.push(Value::Integer(to_i64(query.offset)));
            let mut stmt = conn.prepare_cached(&sql)?;
            let books = stmt
                .query_map(params_from_iter(page_values.iter()), book_from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(BookPage {
                books,
                total: u64::try_from(total).unwrap_or(0),
            })
        })
    }

    /// Every book, by id.
    pub fn all_books(&self) -> Result<Vec<Book>, StoreError> {
        Ok(self.books(&BookQuery::all(u32::MAX))?.books)
    }

    /// Every category by name, with its book count.
    pub fn categories(&self) -> Result<Vec<CategorySummary>, StoreError> {
        memoized(&self.memo.categories, || self.query_categories())
    }

    fn query_categories(&self) -> Result<Vec<CategorySummary>, StoreError> {
        self.with_connection(|conn| {
            let mut stmt =
                conn.prepare_cached("SELECT name, slug, book_count FROM categories ORDER BY name")?;
            let rows = stmt.query_map([], |row| {
                Ok(CategorySummary {
                    name: row.get(0)?,
                    slug: row.get(1)?,
                    book_count: row.get(2)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Figures per category, by name.
    pub fn category_stats(&self) -> Result<Vec<CategoryStats>, StoreError> {
        memoized(&self.memo.category_stats, || self.query_category_stats())
    }

    fn query_category_stats(&self) -> Result<Vec<CategoryStats>, StoreError> {
        self.with_connection(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT c.name, c.slug, count(b.id), coalesce(avg(b.price_pence), 0), \
                        coalesce(min(b.price_pence), 0), coalesce(max(b.price_pence), 0), \
                        coalesce(avg(b.rating), 0), coalesce(sum(b.stock), 0) \
                 FROM categories c LEFT JOIN books b ON b.category_id = c.id \
                 GROUP BY c.id ORDER BY c.name",
            )?;
            let rows = stmt.query_map([], |row| {
                Ok(CategoryStats {
                    name: row.get(0)?,
                    slug: row.get(1)?,
                    book_count: row.get(2)?,
                    average_price_pence: row.get(3)?,
                    min_price: Price::from_pence(row.get(4)?),
                    max_price: Price::from_pence(row.get(5)?),
                    average_rating: row.get(6)?,
                    total_stock: row.get(7)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Catalogue-wide figures.
    pub fn overview(&self) -> Result<Overview, StoreError> {
        memoized(&self.memo.overview, || self.query_overview())
    }

    fn query_overview(&self) -> Result<Overview, StoreError> {
        self.with_connection(|conn| {
            let (total_books, average_price, min_price, max_price, average_rating, in_stock, stock) =
                conn.query_row(
                    "SELECT count(*), coalesce(avg(price_pence), 0), coalesce(min(price_pence), 0), \
                            coalesce(max(price_pence), 0), coalesce(avg(rating), 0), \
                            count(*) FILTER (WHERE stock > 0), coalesce(sum(stock), 0) \
                     FROM books",
                    [],
                    |row| {
                        Ok((
                            row.get::<_, u64>(0)?,
                            row.get::<_, f64>(1)?,
                            row.get::<_, u64>(2)?,
                            row.get::<_, u64>(3)?,
                            row.get::<_, f64>(4)?,
                            row.get::<_, u64>(5)?,
                            row.get::<_, u64>(6)?,
                        ))
                    },
                )?;
            let total_categories: u64 =
                conn.query_row("SELECT count(*) FROM categories", [], |row| row.get(0))?;
            let mut rating_distribution = [0u64; 5];
            let mut stmt =
                conn.prepare_cached("SELECT rating, count(*) FROM books GROUP BY rating")?;
            for row in stmt.query_map([], |row| Ok((row.get::<_, u8>(0)?, row.get::<_, u64>(1)?)))? {
                let (rating, count) = row?;
                if let Some(slot) = rating_distribution.get_mut(usize::from(rating).wrapping_sub(1)) {
                    *slot = count;
                }
            }
            Ok(Overview {
                total_books,
                total_categories,
                average_price_pence: average_price,
                min_price: Price::from_pence(min_price),
                max_price: Price::from_pence(max_price),
                median_price_pence: median_price_pence(conn, total_books)?,
                rating_distribution,
                average_rating,
                books_in_stock: in_stock,
                total_stock: stock,
            })
        })
    }

    /// Number of books, by a real query: the health check.
    pub fn count_books(&self) -> Result<u64, StoreError> {
        self.with_connection(|conn| {
            Ok(conn.query_row("SELECT count(*) FROM books", [], |row| row.get(0))?)
        })
    }

    /// Every book's id, in id order.
    pub fn book_ids(&self) -> Result<Vec<u32>, StoreError> {
        self.with_connection(|conn| {
            let mut stmt = conn.prepare_cached("SELECT id FROM books ORDER BY id")?;
            let ids = stmt.query_map([], |row| row.get(0))?;
            Ok(ids.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// The feature profiles built with the database (`meta`'s
    /// `feature_profiles`), if it has them.
    pub fn feature_profiles(&self) -> Result<Option<String>, StoreError> {
        self.with_connection(|conn| read_meta(conn, meta_key::FEATURE_PROFILES))
    }
}

/// The middle price (mean of the two middle ones for an even count), in pence.
fn median_price_pence(conn: &Connection, count: u64) -> Result<f64, StoreError> {
    if count == 0 {
        return Ok(0.0);
    }
    let lower = (count - 1) / 2;
    let taken = if count.is_multiple_of(2) { 2 } else { 1 };
    let mut stmt =
        conn.prepare_cached("SELECT price_pence FROM books ORDER BY price_pence LIMIT ? OFFSET ?")?;
    let middle = stmt
        .query_map([taken, lower], |row| row.get::<_, i64>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(middle.iter().sum::<i64>() as f64 / middle.len().max(1) as f64)
}

/// Reads a row selected with [`BOOK_COLUMNS`], checking the domain's ranges.
fn book_from_row(row: &Row<'_>) -> rusqlite::Result<Book> {
    let invalid = |index: usize, err: crate::domain::DomainError| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Integer, err.into())
    };
    Ok(Book {
        id: BookId::new(row.get(0)?).map_err(|e| invalid(0, e))?,
        upc: row.get(1)?,
        title: row.get(2)?,
        category: row.get(3)?,
        price: Price::from_pence(row.get(4)?),
        price_excl_tax: Price::from_pence(row.get(5)?),
        tax: Price::from_pence(row.get(6)?),
        rating: Rating::new(row.get(7)?).map_err(|e| invalid(7, e))?,
        availability: row.get(8)?,
        stock: row.get(9)?,
        review_count: row.get(10)?,
        product_type: row.get(11)?,
        description: row.get(12)?,
        image_url: row.get(13)?,
        product_url: row.get(14)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::schema::contract_columns;

    #[test]
    fn book_columns_follow_the_contract() {
        assert_eq!(contract_columns(BOOK_COLUMNS, &[]), Book::COLUMNS);
        assert_eq!(BOOK_COLUMNS.split(',').count(), BOOK_COLUMN_COUNT);
    }
}
