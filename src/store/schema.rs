//! The SQLite schema of `data/books.db`: the one place that names its tables,
//! columns and indexes. The builder creates it; the read side queries it.

/// Bumped whenever the schema changes; kept in the `meta` table.
/// 2: `similar_books`. 3: `books_title_trigram`.
pub const SCHEMA_VERSION: u32 = 3;

/// Creates every table and index. Prices are integer pence.
pub const CREATE: &str = r#"
CREATE TABLE categories (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    slug        TEXT NOT NULL UNIQUE,
    book_count  INTEGER NOT NULL
);

CREATE TABLE books (
    id                   INTEGER PRIMARY KEY,
    upc                  TEXT NOT NULL UNIQUE,
    title                TEXT NOT NULL,
    -- Rust's Unicode lowercase of title: case-insensitive substring search
    -- with instr(), where SQLite's own lower()/LIKE fold only ASCII.
    title_folded         TEXT NOT NULL,
    category_id          INTEGER NOT NULL REFERENCES categories(id),
    category             TEXT NOT NULL,
    price_pence          INTEGER NOT NULL CHECK (price_pence >= 0),
    price_excl_tax_pence INTEGER NOT NULL CHECK (price_excl_tax_pence >= 0),
    tax_pence            INTEGER NOT NULL CHECK (tax_pence >= 0),
    rating               INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    availability         TEXT NOT NULL,
    stock                INTEGER NOT NULL CHECK (stock >= 0),
    review_count         INTEGER NOT NULL CHECK (review_count >= 0),
    product_type         TEXT NOT NULL,
    description          TEXT NOT NULL,
    image_url            TEXT NOT NULL,
    product_url          TEXT NOT NULL
);

-- One index per filter and sort the API offers; id breaks ties everywhere.
CREATE INDEX books_by_category ON books(category_id, id);
CREATE INDEX books_by_price    ON books(price_pence, id);
CREATE INDEX books_by_rating   ON books(rating, id);
CREATE INDEX books_by_stock    ON books(stock, id);
CREATE INDEX books_by_title    ON books(title COLLATE NOCASE, id);

-- Full-text index over title and description (external content: no copy).
CREATE VIRTUAL TABLE books_fts USING fts5(
    title, description,
    content = 'books', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

-- Trigrams of the folded titles (external content: no copy), so a title
-- substring search looks up the few candidate books instead of scanning
-- every title; instr() on title_folded still decides, so `%`, `_` and case
-- mean exactly what they do without it. Already folded: case-sensitive here.
CREATE VIRTUAL TABLE books_title_trigram USING fts5(
    title_folded,
    content = 'books', content_rowid = 'id',
    tokenize = 'trigram case_sensitive 1'
);

-- The nearest neighbours of every book by TF-IDF cosine over title and
-- description (ml::similar): rank 1 is the most similar; score descending,
-- ties by similar_id ascending; never the book itself.
CREATE TABLE similar_books (
    book_id     INTEGER NOT NULL REFERENCES books(id),
    rank        INTEGER NOT NULL CHECK (rank >= 1),
    similar_id  INTEGER NOT NULL REFERENCES books(id) CHECK (similar_id <> book_id),
    score       REAL NOT NULL CHECK (score BETWEEN 0 AND 1),
    PRIMARY KEY (book_id, rank)
) WITHOUT ROWID;

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#;

/// Keys of the `meta` table.
pub mod meta_key {
    pub const SCHEMA_VERSION: &str = "schema_version";
    /// RFC 3339 UTC time the scrape finished.
    pub const SCRAPED_AT: &str = "scraped_at";
    /// The base URL the scrape fetched from.
    pub const SOURCE: &str = "source";
    /// The book count the site itself reported ("1000 results").
    pub const REPORTED_TOTAL: &str = "reported_total";
    pub const BOOK_COUNT: &str = "book_count";
    /// SHA-256 (hex) of the canonical CSV serialisation of the books.
    pub const CONTENT_HASH: &str = "content_hash";
    /// Every feature's statistics and warnings over the books, as the JSON
    /// `/ml/features` lists them (`crate::ml::profile::profile_json`):
    /// computed once with the database rather than at a function's start.
    pub const FEATURE_PROFILES: &str = "feature_profiles";
}

/// The data-contract columns ([`Book::COLUMNS`](crate::domain::Book::COLUMNS))
/// a comma-separated SQL column list names, in order: table prefixes dropped,
/// `price_pence` read as `price`, and the columns in `derived` (kept only for
/// queries, like `title_folded`) skipped. SQL text cannot be built from the
/// list without losing its readability, so tests pin it to the list with this.
#[cfg(test)]
pub(crate) fn contract_columns(sql_columns: &str, derived: &[&str]) -> Vec<String> {
    sql_columns
        .split(',')
        .map(|column| {
            let column = column.trim();
            let column = column.rsplit('.').next().unwrap_or(column);
            column.strip_suffix("_pence").unwrap_or(column).to_owned()
        })
        .filter(|column| !derived.contains(&column.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Book;

    #[test]
    fn the_books_table_stores_every_contract_column_in_order() {
        let table = CREATE
            .split("CREATE TABLE books (")
            .nth(1)
            .and_then(|rest| rest.split(");").next())
            .expect("a books table");
        let columns: Vec<&str> = table
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with("--"))
            .filter_map(|line| line.split_whitespace().next())
            .collect();
        assert_eq!(
            contract_columns(&columns.join(","), &["title_folded", "category_id"]),
            Book::COLUMNS
        );
    }
}
