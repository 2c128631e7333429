//! Machine learning over the catalogue: the text features, the train/test
//! split, the category model (trained by `books train`, stored as a JSON
//! model file, served by `/api/v1/ml/predictions`) and its card, and the
//! feature table with its statistics (`/api/v1/ml/features`), and the
//! content-based neighbours of every book (stored in `books.db`); and the
//! client of the model endpoint that serves the same model in orchestrator
//! mode ([`serving`]).

pub mod card;
pub mod compact;
pub mod dataset;
pub mod features;
pub mod linear;
pub mod model;
pub mod profile;
pub mod serving;
pub mod similar;
pub mod split;
pub mod text;
pub mod train;

pub use model::{ModelError, ModelFile, ModelSummary};
