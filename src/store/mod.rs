//! The stored catalogue: `books.csv` (the portable artefact) and `books.db`
//! (the prebuilt read-only SQLite file the API serves from).

pub mod schema;
pub mod sqlite;

pub use sqlite::{Store, StoreError};
