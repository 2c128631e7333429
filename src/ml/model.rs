//! The model file (`data/model.json`): one JSON document holding everything
//! a prediction needs (tokenizer rules, vocabulary, IDF weights, classes,
//! coefficients) and the model card. docs/data-science.md ("The model file") restates
//! the arithmetic so any language can reproduce a prediction, and
//! `scripts/mlflow/books_model.py` does it in Python, to 1e-9 (tested).
//!
//! Its `version` is the first 16 hex digits of the SHA-256 of the file's own
//! bytes with the version's value emptied (`"version":""`): a file that was
//! changed after training no longer matches its version and is refused.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;
use utoipa::ToSchema;

use super::card::ModelCard;
use super::linear::{LinearClassifier, rank};
use super::text::{Vectorizer, book_text};

/// The `format` a reader of this file must understand.
pub const MODEL_FORMAT: &str = "books-text-classifier/1";
/// The served model's name.
pub const MODEL_NAME: &str = "book-category";
/// Where the model is found, relative to the working directory (or the executable).
pub const MODEL_RELATIVE_PATH: &str = "data/model.json";
/// The environment variable naming the model file.
pub const MODEL_ENV: &str = "BOOKS_MODEL";

/// The whole file. Field order is the file's key order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFile {
    pub format: String,
    pub version: String,
    pub name: String,
    /// The book fields a prediction reads, joined by `"\n"`.
    pub inputs: Vec<String>,
    pub vectorizer: Vectorizer,
    pub classifier: LinearClassifier,
    pub card: ModelCard,
}

/// What a model says about itself without its weights: what `/ml/model` and
/// the feature dictionary show. Read from the head of the compact twin, it is
/// ready in about a millisecond, where the whole model touches 3 MB.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSummary {
    pub format: String,
    pub version: String,
    pub name: String,
    /// The categories it predicts, sorted.
    pub classes: Vec<String>,
    pub vocabulary_terms: usize,
    pub card: ModelCard,
}

impl ModelSummary {
    /// The summary of the model at `path` (a `model.json`): from the head of
    /// its compact twin when that is current, else from the JSON, checked
    /// whole.
    pub fn open(path: &Path) -> Result<ModelSummary, ModelError> {
        match super::compact::load_compact_summary(path) {
            Some(summary) => Ok(summary),
            None => ModelFile::load(path).map(|model| model.summary()),
        }
    }
}

/// Why a model file cannot be used.
#[derive(Debug, Error)]
pub enum ModelError {
    #[error("model file {path} not found")]
    Missing { path: PathBuf },
    #[error("cannot read model file {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("model file {path} is corrupt: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("cannot write model file {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
}

/// One class and its probability.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ClassProbability {
    pub category: String,
    pub probability: f64,
}

/// The answer for one book.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Prediction {
    /// The most probable category.
    pub category: String,
    pub probability: f64,
    /// The `top` most probable categories, most probable first (ties by name).
    pub top: Vec<ClassProbability>,
}

impl ModelFile {
    /// A file for these parts; its version is computed when serialised.
    pub fn new(
        name: &str,
        vectorizer: Vectorizer,
        classifier: LinearClassifier,
        card: ModelCard,
    ) -> Self {
        let mut file = ModelFile {
            format: MODEL_FORMAT.into(),
            version: String::new(),
            name: name.into(),
            inputs: vec!["title".into(), "description".into()],
            vectorizer,
            classifier,
            card,
        };
        file.version = version_of(&file.unversioned_bytes());
        file
    }

    fn unversioned_bytes(&self) -> Vec<u8> {
        let mut copy = self.clone();
        copy.version.clear();
        copy.to_bytes_as_is()
    }

    fn to_bytes_as_is(&self) -> Vec<u8> {
        // Plain structs of strings and finite numbers always serialise.
        let mut bytes = serde_json::to_vec(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// The file's bytes, versioned.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_bytes_as_is()
    }

    /// Writes the file atomically (temporary file, then rename).
    pub fn write(&self, path: &Path) -> Result<(), ModelError> {
        let temp = path.with_extension("json.tmp");
        let write_err = |source| ModelError::Write {
            path: path.to_owned(),
            source,
        };
        fs::write(&temp, self.to_bytes()).map_err(write_err)?;
        fs::rename(&temp, path).map_err(|source| {
            let _ = fs::remove_file(&temp);
            write_err(source)
        })
    }

    /// Reads and checks a model file: format, version, shapes.
    pub fn load(path: &Path) -> Result<ModelFile, ModelError> {
        let bytes = fs::read(path).map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => ModelError::Missing {
                path: path.to_owned(),
            },
            _ => ModelError::Read {
                path: path.to_owned(),
                source,
            },
        })?;
        Self::from_bytes(&bytes).map_err(|reason| ModelError::Corrupt {
            path: path.to_owned(),
            reason,
        })
    }

    /// Parses and checks the bytes of a model file.
    pub fn from_bytes(bytes: &[u8]) -> Result<ModelFile, String> {
        let file: ModelFile =
            serde_json::from_slice(bytes).map_err(|err| format!("not a model file: {err}"))?;
        file.check()?;
        let computed = version_of(&without_version(bytes, &file.version)?);
        if computed != file.version {
            return Err(format!(
                "content does not match version {} (computed {computed})",
                file.version
            ));
        }
        Ok(file)
    }

    /// Reads the model at `path` (a `model.json`) the quickest sound way:
    /// from its compact twin (`model.bin`) when that was made from the
    /// version the JSON has now, else from the JSON itself.
    pub fn open(path: &Path) -> Result<ModelFile, ModelError> {
        match super::compact::load_compact(path) {
            Some(model) => Ok(model),
            None => Self::load(path),
        }
    }

    /// Checks the parts agree (what [`Self::check_head`] checks, one IDF
    /// weight per sorted, distinct term, a coefficient per term and class).
    pub(crate) fn check(&self) -> Result<(), String> {
        let file = self;
        file.check_head()?;
        let terms = file.vectorizer.vocabulary.len();
        if file.vectorizer.idf.len() != terms {
            return Err("idf must have one weight per vocabulary term".into());
        }
        if !file.vectorizer.vocabulary.windows(2).all(|w| w[0] < w[1]) {
            return Err("the vocabulary must be sorted and distinct".into());
        }
        file.classifier.check_shape(terms)?;
        Ok(())
    }

    /// Checks what a [`ModelSummary`] shows: the format, and classes sorted,
    /// distinct and at least two.
    pub(crate) fn check_head(&self) -> Result<(), String> {
        if self.format != MODEL_FORMAT {
            return Err(format!(
                "format {:?}, expected {MODEL_FORMAT:?}",
                self.format
            ));
        }
        self.classifier.check_classes()
    }

    /// What the model says about itself without its weights.
    pub fn summary(&self) -> ModelSummary {
        self.summary_with_terms(self.vectorizer.len())
    }

    /// The summary, for a model whose vocabulary (not loaded) has `terms`.
    pub(crate) fn summary_with_terms(&self, terms: usize) -> ModelSummary {
        ModelSummary {
            format: self.format.clone(),
            version: self.version.clone(),
            name: self.name.clone(),
            classes: self.classifier.classes.clone(),
            vocabulary_terms: terms,
            card: self.card.clone(),
        }
    }

    /// Predicts the category of one book from its title and description.
    pub fn predict(&self, title: &str, description: &str, top: usize) -> Prediction {
        let x = self.vectorizer.transform(&book_text(title, description));
        Prediction::ranked(
            &self.classifier.classes,
            self.classifier.probabilities(&x),
            top,
        )
    }
}

impl Prediction {
    /// The prediction for the `probabilities` of `classes` (sorted, one
    /// probability each, at least one): the most probable first, ties by
    /// class order, which is by name.
    pub fn ranked<S: AsRef<str>>(classes: &[S], probabilities: Vec<f64>, top: usize) -> Self {
        let ranked = rank(probabilities);
        let class = |&(c, p): &(usize, f64)| ClassProbability {
            category: classes[c].as_ref().to_owned(),
            probability: p,
        };
        let best = class(&ranked[0]);
        Prediction {
            category: best.category,
            probability: best.probability,
            top: ranked.iter().take(top).map(class).collect(),
        }
    }
}

/// The version for `unversioned` bytes.
fn version_of(unversioned: &[u8]) -> String {
    crate::hex::hex(&Sha256::digest(unversioned)[..8])
}

/// `bytes` with the first `"version":"<version>"` emptied.
fn without_version(bytes: &[u8], version: &str) -> Result<Vec<u8>, String> {
    let needle = format!("\"version\":{}", serde_json::Value::from(version));
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8".to_owned())?;
    let at = text
        .find(&needle)
        .ok_or_else(|| "no top-level version field in compact form".to_owned())?;
    Ok(format!(
        "{}\"version\":\"\"{}",
        &text[..at],
        &text[at + needle.len()..]
    )
    .into_bytes())
}

/// Finds the model file: `$BOOKS_MODEL` if set; else `data/model.json`
/// next to wherever the database was found.
pub fn locate_model(database: &Path) -> PathBuf {
    if let Some(path) = std::env::var_os(MODEL_ENV).filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    database
        .parent()
        .map(|dir| dir.join("model.json"))
        .unwrap_or_else(|| PathBuf::from(MODEL_RELATIVE_PATH))
}
