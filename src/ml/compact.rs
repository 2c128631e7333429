//! The model file's compact twin, `model.bin`, written by `books train`
//! beside `model.json`: the same model, ready in under a millisecond where
//! the JSON takes about 15 (parsing 1.9 MB of numbers and hashing it with
//! SHA-256 for its version). The JSON stays the language-neutral export and
//! the source of truth: the twin records the length and CRC-32 of the JSON
//! it was made from and is used only while `model.json` still has exactly
//! those bytes (a changed file is then refused by its version, as ever), and
//! CI checks that training makes both, byte for byte.
//!
//! Layout (postcard): the numeric parts as arrays (vocabulary, IDF, the
//! coefficients row by row) and everything else, the small rest of the
//! file with its card, as its JSON text.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::model::{ModelError, ModelFile};

/// What the first bytes of every twin say, with the layout's version.
const MAGIC: &str = "books-model-compact/1";

#[derive(Serialize, Deserialize)]
struct Compact {
    magic: String,
    /// The `version` of the model file this was made from.
    version: String,
    /// The length and CRC-32 of that file's bytes.
    json_len: u64,
    json_crc32: u32,
    /// The model file with the arrays below emptied, as JSON.
    rest: String,
    vocabulary: Vec<String>,
    idf: Vec<f64>,
    /// Class-major: class `c`'s row is `coefficients[c * terms..][..terms]`.
    coefficients: Vec<f64>,
}

/// Where the twin of the model file at `json` is: the same name with
/// `.bin` (`data/model.json`: `data/model.bin`).
pub fn compact_path(json: &Path) -> PathBuf {
    json.with_extension("bin")
}

/// The twin's bytes for `model`.
pub fn to_compact_bytes(model: &ModelFile) -> Vec<u8> {
    let mut rest = model.clone();
    let vocabulary = std::mem::take(&mut rest.vectorizer.vocabulary);
    let idf = std::mem::take(&mut rest.vectorizer.idf);
    let coefficients = std::mem::take(&mut rest.classifier.coefficients)
        .into_iter()
        .flatten()
        .collect();
    let json = model.to_bytes();
    let compact = Compact {
        magic: MAGIC.to_owned(),
        version: model.version.clone(),
        json_len: json.len() as u64,
        json_crc32: crc32fast::hash(&json),
        // Plain structs of strings and finite numbers always serialise.
        rest: serde_json::to_string(&rest).unwrap_or_default(),
        vocabulary,
        idf,
        coefficients,
    };
    postcard::to_stdvec(&compact).unwrap_or_default()
}

/// Writes the twin of `model` beside the model file at `json`, atomically.
pub fn write_compact(model: &ModelFile, json: &Path) -> Result<(), ModelError> {
    let path = compact_path(json);
    let temp = path.with_extension("bin.tmp");
    let write_err = |source| ModelError::Write {
        path: path.clone(),
        source,
    };
    fs::write(&temp, to_compact_bytes(model)).map_err(write_err)?;
    fs::rename(&temp, &path).map_err(|source| {
        let _ = fs::remove_file(&temp);
        write_err(source)
    })
}

/// The model from its twin beside `json`, if there is one made from the
/// bytes `json` has now; `None` (then load the JSON) when there is none, it
/// is stale, or it does not decode into a sound model.
pub fn load_compact(json: &Path) -> Option<ModelFile> {
    let bytes = fs::read(compact_path(json)).ok()?;
    let compact: Compact = postcard::from_bytes(&bytes).ok()?;
    let source = fs::read(json).ok()?;
    if compact.magic != MAGIC
        || compact.json_len != source.len() as u64
        || compact.json_crc32 != crc32fast::hash(&source)
    {
        return None;
    }
    let mut model: ModelFile = serde_json::from_str(&compact.rest).ok()?;
    let terms = compact.vocabulary.len();
    if terms == 0 || !compact.coefficients.len().is_multiple_of(terms) {
        return None;
    }
    model.version = compact.version;
    model.classifier.coefficients = compact
        .coefficients
        .chunks_exact(terms)
        .map(<[f64]>::to_vec)
        .collect();
    model.vectorizer.vocabulary = compact.vocabulary;
    model.vectorizer.idf = compact.idf;
    model.check().ok()?;
    Some(model)
}
