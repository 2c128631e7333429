//! What changed between two catalogues: books added and removed, price and
//! stock changes, other edited fields, with totals; rendered as Markdown for a
//! CI job summary (`books diff OLD_DIR NEW_DIR`).
//!
//! Books are matched by their id (the site's own, stable across scrapes). The
//! inputs are expected to be validated data (unique ids); if an id repeats, the
//! last row with it wins.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::domain::{Book, BookId, Price};

/// A book named in a change list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookRef {
    pub id: BookId,
    pub title: String,
    pub category: String,
    pub price: Price,
    pub stock: u32,
}

impl BookRef {
    fn of(book: &Book) -> Self {
        BookRef {
            id: book.id,
            title: book.title.clone(),
            category: book.category.clone(),
            price: book.price,
            stock: book.stock,
        }
    }
}

/// A value of one book before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change<T> {
    pub id: BookId,
    /// The title in the new data.
    pub title: String,
    pub before: T,
    pub after: T,
}

/// The difference between an old and a new catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CatalogueDiff {
    pub old_count: usize,
    pub new_count: usize,
    pub old_stock: u64,
    pub new_stock: u64,
    /// In the new data only, by id.
    pub added: Vec<BookRef>,
    /// In the old data only, by id.
    pub removed: Vec<BookRef>,
    /// Books in both whose price (incl. tax) changed, by id.
    pub price_changes: Vec<Change<Price>>,
    /// Books in both whose stock count changed, by id.
    pub stock_changes: Vec<Change<u32>>,
    /// For every other column, how many books kept in both changed it.
    /// Only columns with at least one change are present.
    pub other_changes: BTreeMap<&'static str, usize>,
}

/// Compares two catalogues book by book.
pub fn diff(old: &[Book], new: &[Book]) -> CatalogueDiff {
    let old_by_id: BTreeMap<BookId, &Book> = old.iter().map(|b| (b.id, b)).collect();
    let new_by_id: BTreeMap<BookId, &Book> = new.iter().map(|b| (b.id, b)).collect();
    let mut out = CatalogueDiff {
        old_count: old_by_id.len(),
        new_count: new_by_id.len(),
        old_stock: old_by_id.values().map(|b| u64::from(b.stock)).sum(),
        new_stock: new_by_id.values().map(|b| u64::from(b.stock)).sum(),
        ..CatalogueDiff::default()
    };
    for (id, before) in &old_by_id {
        if !new_by_id.contains_key(id) {
            out.removed.push(BookRef::of(before));
        }
    }
    for (id, after) in &new_by_id {
        let Some(before) = old_by_id.get(id) else {
            out.added.push(BookRef::of(after));
            continue;
        };
        if before.price != after.price {
            out.price_changes
                .push(change(after, before.price, after.price));
        }
        if before.stock != after.stock {
            out.stock_changes
                .push(change(after, before.stock, after.stock));
        }
        for field in other_changed_fields(before, after) {
            *out.other_changes.entry(field).or_default() += 1;
        }
    }
    out
}

fn change<T>(after: &Book, before_value: T, after_value: T) -> Change<T> {
    Change {
        id: after.id,
        title: after.title.clone(),
        before: before_value,
        after: after_value,
    }
}

/// The columns other than id, price and stock that differ.
fn other_changed_fields(a: &Book, b: &Book) -> Vec<&'static str> {
    let fields: [(&'static str, bool); 12] = [
        ("upc", a.upc != b.upc),
        ("title", a.title != b.title),
        ("category", a.category != b.category),
        ("price_excl_tax", a.price_excl_tax != b.price_excl_tax),
        ("tax", a.tax != b.tax),
        ("rating", a.rating != b.rating),
        ("availability", a.availability != b.availability),
        ("review_count", a.review_count != b.review_count),
        ("product_type", a.product_type != b.product_type),
        ("description", a.description != b.description),
        ("image_url", a.image_url != b.image_url),
        ("product_url", a.product_url != b.product_url),
    ];
    fields
        .into_iter()
        .filter_map(|(name, changed)| changed.then_some(name))
        .collect()
}

impl CatalogueDiff {
    /// True when no book was added, removed or changed in any column.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.price_changes.is_empty()
            && self.stock_changes.is_empty()
            && self.other_changes.is_empty()
    }

    /// How many fewer books the new catalogue holds (0 when it did not shrink).
    pub fn books_lost(&self) -> usize {
        self.old_count.saturating_sub(self.new_count)
    }

    /// True when the new catalogue holds fewer books than the old one by more
    /// than `max_percent` percent of the old count (the deploy's guard against
    /// a broken or emptied site).
    pub fn shrank_beyond(&self, max_percent: f64) -> bool {
        self.books_lost() as f64 > self.old_count as f64 * max_percent / 100.0
    }

    /// One line with the number of changes of each kind.
    fn headline(&self) -> String {
        let other: usize = self.other_changes.values().sum();
        format!(
            "{} added, {} removed, {} price {}, {} stock {}, {} other field {}",
            self.added.len(),
            self.removed.len(),
            self.price_changes.len(),
            plural(self.price_changes.len(), "change", "changes"),
            self.stock_changes.len(),
            plural(self.stock_changes.len(), "change", "changes"),
            other,
            plural(other, "change", "changes"),
        )
    }

    /// The report as GitHub-flavoured Markdown, suitable for
    /// `$GITHUB_STEP_SUMMARY`. Each list shows at most `max_rows` rows and
    /// says how many more there are (a job summary is capped at 1 MiB).
    pub fn to_markdown(&self, max_rows: usize) -> String {
        let mut md = String::from("## Catalogue changes\n\n");
        if self.is_empty() {
            let _ = writeln!(
                md,
                "No changes: the new catalogue is identical to the old one ({} books).",
                self.new_count
            );
            return md;
        }
        let _ = writeln!(md, "**{}.**\n", self.headline());
        md.push_str("| | before | after | change |\n|---|---:|---:|---:|\n");
        let _ = writeln!(
            md,
            "| books | {} | {} | {} |",
            self.old_count,
            self.new_count,
            signed(self.new_count as i64 - self.old_count as i64)
        );
        let _ = writeln!(
            md,
            "| total stock | {} | {} | {} |",
            self.old_stock,
            self.new_stock,
            signed(self.new_stock as i64 - self.old_stock as i64)
        );
        self.book_section(&mut md, "Added", &self.added, max_rows);
        self.book_section(&mut md, "Removed", &self.removed, max_rows);
        change_section(
            &mut md,
            "Price changes",
            &self.price_changes,
            max_rows,
            |p| format!("£{p}"),
            |c| signed_pence(c.after.pence() as i64 - c.before.pence() as i64),
        );
        change_section(
            &mut md,
            "Stock changes",
            &self.stock_changes,
            max_rows,
            u32::to_string,
            |c| signed(i64::from(c.after) - i64::from(c.before)),
        );
        if !self.other_changes.is_empty() {
            md.push_str("\n### Other changed fields\n\n| field | books |\n|---|---:|\n");
            for (field, count) in &self.other_changes {
                let _ = writeln!(md, "| `{field}` | {count} |");
            }
        }
        md
    }

    fn book_section(&self, md: &mut String, heading: &str, books: &[BookRef], max_rows: usize) {
        if books.is_empty() {
            return;
        }
        let _ = writeln!(md, "\n### {heading} ({})\n", books.len());
        md.push_str("| id | title | category | price | stock |\n|---:|---|---|---:|---:|\n");
        for book in books.iter().take(max_rows) {
            let _ = writeln!(
                md,
                "| {} | {} | {} | £{} | {} |",
                book.id,
                escape(&book.title),
                escape(&book.category),
                book.price,
                book.stock
            );
        }
        more(md, books.len(), max_rows);
    }
}

fn change_section<T>(
    md: &mut String,
    heading: &str,
    changes: &[Change<T>],
    max_rows: usize,
    show: impl Fn(&T) -> String,
    delta: impl Fn(&Change<T>) -> String,
) {
    if changes.is_empty() {
        return;
    }
    let _ = writeln!(md, "\n### {heading} ({})\n", changes.len());
    md.push_str("| id | title | before | after | change |\n|---:|---|---:|---:|---:|\n");
    for c in changes.iter().take(max_rows) {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} |",
            c.id,
            escape(&c.title),
            show(&c.before),
            show(&c.after),
            delta(c)
        );
    }
    more(md, changes.len(), max_rows);
}

fn more(md: &mut String, total: usize, shown: usize) {
    if total > shown {
        let _ = writeln!(md, "\n…and {} more.", total - shown);
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// `+3`, `-2`, `0`.
fn signed(n: i64) -> String {
    if n > 0 {
        format!("+{n}")
    } else {
        n.to_string()
    }
}

/// `+£1.50`, `-£0.05`, `£0.00`.
fn signed_pence(pence: i64) -> String {
    let sign = match pence.signum() {
        1 => "+",
        -1 => "-",
        _ => "",
    };
    let abs = pence.unsigned_abs();
    format!("{sign}£{}", Price::from_pence(abs))
}

/// Makes text safe inside a Markdown table cell: no line breaks, and the
/// characters that would end the cell or start markup are escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\r' | '\n' => out.push(' '),
            '\\' | '|' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_signed_figures() {
        assert_eq!(signed(3), "+3");
        assert_eq!(signed(-2), "-2");
        assert_eq!(signed(0), "0");
        assert_eq!(signed_pence(150), "+£1.50");
        assert_eq!(signed_pence(-5), "-£0.05");
    }

    #[test]
    fn escapes_table_cells() {
        assert_eq!(escape("a|b*c\nd"), "a\\|b\\*c d");
        assert_eq!(escape("<script>"), "\\<script\\>");
    }
}
