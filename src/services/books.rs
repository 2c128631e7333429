//! `/books`, `/books/{id}`, `/books/{id}/similar`, `/books/search`,
//! `/books/top-rated`, `/books/price-range`.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{Object, Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use super::ServiceError;
use super::page::{ListPage, Pagination};
use super::schema::Currency;
use crate::domain::{Book, BookId};
use crate::ml::similar::NEIGHBOURS;
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
    #[schema(value_type = Currency)]
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

/// A field of a [`BookView`], by the name `fields=` gives it: the book's
/// columns in the data contract's order, then the derived fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookField {
    Id,
    Upc,
    Title,
    Category,
    Price,
    PriceExclTax,
    Tax,
    Rating,
    Availability,
    Stock,
    ReviewCount,
    ProductType,
    Description,
    ImageUrl,
    ProductUrl,
    InStock,
    Currency,
}

impl BookField {
    /// Every field, in the order a book is written.
    pub const ALL: [BookField; 17] = [
        BookField::Id,
        BookField::Upc,
        BookField::Title,
        BookField::Category,
        BookField::Price,
        BookField::PriceExclTax,
        BookField::Tax,
        BookField::Rating,
        BookField::Availability,
        BookField::Stock,
        BookField::ReviewCount,
        BookField::ProductType,
        BookField::Description,
        BookField::ImageUrl,
        BookField::ProductUrl,
        BookField::InStock,
        BookField::Currency,
    ];

    /// The field's JSON name: a column's is the CSV's (a test pins both
    /// lists to the derived serialisation of [`BookView`]).
    pub fn name(self) -> &'static str {
        match self {
            BookField::InStock => "in_stock",
            BookField::Currency => "currency",
            column => Book::COLUMNS[column as usize],
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|field| field.name() == name)
    }

    fn bit(self) -> u32 {
        1 << self as u32
    }

    fn write<M: SerializeMap>(self, view: &BookView, map: &mut M) -> Result<(), M::Error> {
        let book = &view.book;
        let name = self.name();
        match self {
            BookField::Id => map.serialize_entry(name, &book.id),
            BookField::Upc => map.serialize_entry(name, &book.upc),
            BookField::Title => map.serialize_entry(name, &book.title),
            BookField::Category => map.serialize_entry(name, &book.category),
            BookField::Price => map.serialize_entry(name, &book.price),
            BookField::PriceExclTax => map.serialize_entry(name, &book.price_excl_tax),
            BookField::Tax => map.serialize_entry(name, &book.tax),
            BookField::Rating => map.serialize_entry(name, &book.rating),
            BookField::Availability => map.serialize_entry(name, &book.availability),
            BookField::Stock => map.serialize_entry(name, &book.stock),
            BookField::ReviewCount => map.serialize_entry(name, &book.review_count),
            BookField::ProductType => map.serialize_entry(name, &book.product_type),
            BookField::Description => map.serialize_entry(name, &book.description),
            BookField::ImageUrl => map.serialize_entry(name, &book.image_url),
            BookField::ProductUrl => map.serialize_entry(name, &book.product_url),
            BookField::InStock => map.serialize_entry(name, &view.in_stock),
            BookField::Currency => map.serialize_entry(name, view.currency),
        }
    }
}

/// The fields of a book a list shows (JSON:API's sparse fieldsets): a set,
/// so the order and repeats of `fields=` do not matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSet(u32);

impl FieldSet {
    pub const ALL: FieldSet = FieldSet((1 << BookField::ALL.len()) - 1);

    pub fn of(fields: impl IntoIterator<Item = BookField>) -> Self {
        FieldSet(fields.into_iter().fold(0, |bits, field| bits | field.bit()))
    }

    pub fn contains(self, field: BookField) -> bool {
        self.0 & field.bit() != 0
    }
}

/// A book of a list: every field, or the [`FieldSet`] asked for, in the
/// order of a whole book.
#[derive(Debug, Clone)]
pub struct ListedBook {
    pub view: BookView,
    pub fields: FieldSet,
}

impl Serialize for ListedBook {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.fields == FieldSet::ALL {
            return self.view.serialize(serializer);
        }
        let mut map = serializer.serialize_map(None)?;
        for field in BookField::ALL {
            if self.fields.contains(field) {
                field.write(&self.view, &mut map)?;
            }
        }
        map.end()
    }
}

/// The name of the schema of a book with only some fields.
const SPARSE_BOOK: &str = "BookFields";

/// A whole [`Book`](BookView), or, when `fields` names some, a
/// `BookFields` (the same properties, none required).
impl PartialSchema for ListedBook {
    fn schema() -> RefOr<Schema> {
        AnyOfBuilder::new()
            .item(Ref::from_schema_name(BookView::name()))
            .item(Ref::from_schema_name(SPARSE_BOOK))
            .description(Some(
                "A book: every field, or only those `fields` names (in this same order).",
            ))
            .into()
    }
}

impl ToSchema for ListedBook {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((BookView::name().into(), BookView::schema()));
        BookView::schemas(schemas);
        schemas.push((SPARSE_BOOK.into(), sparse_book_schema()));
    }
}

/// `Book`'s properties (its own and the derived ones) with none required:
/// derived from `Book`'s schema, so the two cannot drift apart.
fn sparse_book_schema() -> RefOr<Schema> {
    fn properties(schema: RefOr<Schema>, into: &mut Vec<(String, RefOr<Schema>)>) {
        match schema {
            RefOr::T(Schema::Object(object)) => into.extend(object.properties),
            RefOr::T(Schema::AllOf(all_of)) => {
                for part in all_of.items {
                    properties(part, into);
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    properties(BookView::schema(), &mut found);
    found
        .into_iter()
        .fold(
            ObjectBuilder::new()
                .description(Some("A book with only the fields `fields` names."))
                .min_properties(Some(1)),
            |object, (name, property)| object.property(name, property),
        )
        .into()
}

/// One book by id; 404 when there is none.
pub fn book(store: &Store, id: BookId) -> Result<BookView, ServiceError> {
    store
        .book(id)?
        .map(BookView::from)
        .ok_or_else(|| ServiceError::BookNotFound { id: id.to_string() })
}

/// `/books/{id}/similar`'s default `limit`; the largest is every neighbour
/// stored per book.
pub const DEFAULT_SIMILAR_LIMIT: u32 = 5;
pub const MAX_SIMILAR_LIMIT: u32 = NEIGHBOURS as u32;

/// The books most like one book, by their text.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SimilarBooks {
    /// The book they are similar to.
    #[schema(minimum = 1, examples(1))]
    pub book_id: u32,
    /// The most items asked for (there are fewer only in a catalogue that
    /// small).
    #[schema(schema_with = similar_limit)]
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
pub fn similar(store: &Store, id: BookId, limit: u32) -> Result<SimilarBooks, ServiceError> {
    let found = store.similar(id, limit)?;
    // No neighbours: no such book (or a catalogue of one).
    if found.is_empty() && !store.book_exists(id)? {
        return Err(ServiceError::BookNotFound { id: id.to_string() });
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
    fields: FieldSet,
) -> Result<ListPage<ListedBook>, ServiceError> {
    let found = store.books(query)?;
    Ok(ListPage {
        items: found
            .books
            .into_iter()
            .map(|book| ListedBook {
                view: book.into(),
                fields,
            })
            .collect(),
        page: page.page,
        per_page: page.per_page,
        total: found.total,
        total_pages: page.total_pages(found.total),
    })
}

/// `/books/{id}/similar`'s `limit`, within the parser's limit.
fn similar_limit() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(1))
        .maximum(Some(MAX_SIMILAR_LIMIT))
        .description(Some("The most items asked for (`limit`)."))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::features::tests::book;

    fn view() -> BookView {
        let mut book = book(7, "A \"quoted\" title", "Words.", 1234, 0);
        book.image_url = "https://books.toscrape.com/media/x.jpg".into();
        book.into()
    }

    /// Every field, one by one and all together, is written as the derived
    /// serialisation writes it: the names, the values and the order.
    #[test]
    fn sparse_fields_are_the_whole_books_own() {
        let view = view();
        let whole = serde_json::to_string(&view).unwrap();
        let all = ListedBook {
            view: view.clone(),
            fields: FieldSet::of(BookField::ALL),
        };
        assert_eq!(FieldSet::of(BookField::ALL), FieldSet::ALL);
        assert_eq!(serde_json::to_string(&all).unwrap(), whole);
        // Written pair by pair, not through the derived path.
        let mut pairs = Vec::new();
        for field in BookField::ALL {
            let one = ListedBook {
                view: view.clone(),
                fields: FieldSet::of([field]),
            };
            let text = serde_json::to_string(&one).unwrap();
            pairs.push(text[1..text.len() - 1].to_owned());
        }
        assert_eq!(format!("{{{}}}", pairs.join(",")), whole);
    }

    #[test]
    fn a_set_keeps_a_books_order_and_names_parse_back() {
        let grid = FieldSet::of([BookField::ImageUrl, BookField::Title, BookField::Id]);
        let listed = ListedBook {
            view: view(),
            fields: grid,
        };
        assert_eq!(
            serde_json::to_string(&listed).unwrap(),
            r#"{"id":7,"title":"A \"quoted\" title","image_url":"https://books.toscrape.com/media/x.jpg"}"#
        );
        for field in BookField::ALL {
            assert_eq!(BookField::from_name(field.name()), Some(field));
        }
        assert_eq!(BookField::from_name("ID"), None);
    }
}
