//! The model file's compact twin, `model.bin`, written by `books train`
//! beside `model.json`: the same model, ready in under a millisecond where
//! the JSON takes about 15 (parsing 1.9 MB of numbers and hashing it with
//! SHA-256 for its version). The JSON stays the language-neutral export and
//! the source of truth: the twin records the length and CRC-32 of the JSON
//! it was made from and is used only while `model.json` still has exactly
//! those bytes (a changed file is then refused by its version, as ever), and
//! CI checks that training makes both, byte for byte.
//!
//! Layout (postcard): the numbers (IDF, the coefficients row by row) as
//! byte strings of little-endian `f64`s, read back without a step per
//! number; the vocabulary as strings borrowed from the file's bytes; and
//! everything else, the small rest of the file with its card, as its JSON
//! text. The JSON is checked by streaming its bytes through CRC-32, not by
//! reading it whole.
//!
//! The head (everything up to the vocabulary) is all a [`ModelSummary`] needs:
//! the routes that show the card read only the first block of the twin, never
//! its weights.

use std::fmt;
use std::fs::{self, File};
use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::model::{ModelError, ModelFile, ModelSummary};

/// What the first bytes of every twin say, with the layout's version.
const MAGIC: &str = "books-model-compact/3";

/// How much of the twin is read first, for its head (the card is about
/// 12 KB); a longer head is read whole.
const HEAD_BLOCK: u64 = 64 * 1024;

/// Every field borrows: written from the model's own parts, read in place
/// from the twin's bytes. postcard writes the head's fields first, as if
/// they were this struct's own, so the head alone decodes from a prefix.
#[derive(Serialize, Deserialize)]
struct Compact<'a> {
    #[serde(borrow)]
    head: CompactHead<'a>,
    #[serde(borrow)]
    vocabulary: Vec<&'a str>,
    #[serde(borrow)]
    idf: F64Bytes<'a>,
    /// Class-major: class `c`'s row is `coefficients[c * terms..][..terms]`.
    #[serde(borrow)]
    coefficients: F64Bytes<'a>,
}

/// Everything but the weights: what a [`ModelSummary`] needs.
#[derive(Serialize, Deserialize)]
struct CompactHead<'a> {
    magic: &'a str,
    /// The `version` of the model file this was made from.
    version: &'a str,
    /// The length and CRC-32 of that file's bytes.
    json_len: u64,
    json_crc32: u32,
    /// The model file with the weights emptied, as JSON.
    rest: &'a str,
    /// How many vocabulary terms follow.
    terms: u64,
}

impl CompactHead<'_> {
    /// Whether this head is ours and was made from the bytes `json` has now.
    fn matches(&self, json: &Path) -> bool {
        self.magic == MAGIC && length_and_crc32(json) == Some((self.json_len, self.json_crc32))
    }

    /// The model file its `rest` holds (the arrays empty), at its version.
    fn rest(&self) -> Option<ModelFile> {
        let mut model: ModelFile = serde_json::from_str(self.rest).ok()?;
        model.version = self.version.to_owned();
        Some(model)
    }
}

/// `f64`s as one byte string (little-endian, 8 bytes each).
struct F64Bytes<'a>(&'a [u8]);

impl F64Bytes<'_> {
    /// The bytes of `values`.
    fn encode(values: impl IntoIterator<Item = f64>) -> Vec<u8> {
        values.into_iter().flat_map(f64::to_le_bytes).collect()
    }

    /// The numbers in rows of `width`, or `None` when the bytes are not a
    /// whole number of rows (each row one allocation, read straight from
    /// the bytes).
    fn rows(&self, width: usize) -> Option<Vec<Vec<f64>>> {
        let row_bytes = width.checked_mul(8).filter(|&n| n > 0)?;
        if !self.0.len().is_multiple_of(row_bytes) {
            return None;
        }
        self.0.chunks_exact(row_bytes).map(f64s).collect()
    }
}

/// Little-endian `f64`s, or `None` when `bytes` are not a whole number of them.
fn f64s(bytes: &[u8]) -> Option<Vec<f64>> {
    let chunks = bytes.chunks_exact(8);
    if !chunks.remainder().is_empty() {
        return None;
    }
    Some(
        chunks
            .map(|chunk| {
                let mut number = [0u8; 8];
                number.copy_from_slice(chunk);
                f64::from_le_bytes(number)
            })
            .collect(),
    )
}

impl Serialize for F64Bytes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for F64Bytes<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BytesVisitor;
        impl<'de> Visitor<'de> for BytesVisitor {
            type Value = F64Bytes<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a byte string of little-endian f64s")
            }
            fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Self::Value, E> {
                Ok(F64Bytes(v))
            }
        }
        deserializer.deserialize_bytes(BytesVisitor)
    }
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
    let coefficients = std::mem::take(&mut rest.classifier.coefficients);
    let json = model.to_bytes();
    // Plain structs of strings and finite numbers always serialise.
    let rest = serde_json::to_string(&rest).unwrap_or_default();
    let idf = F64Bytes::encode(idf);
    let coefficients = F64Bytes::encode(coefficients.into_iter().flatten());
    let compact = Compact {
        head: CompactHead {
            magic: MAGIC,
            version: &model.version,
            json_len: json.len() as u64,
            json_crc32: crc32fast::hash(&json),
            rest: &rest,
            terms: vocabulary.len() as u64,
        },
        vocabulary: vocabulary.iter().map(String::as_str).collect(),
        idf: F64Bytes(&idf),
        coefficients: F64Bytes(&coefficients),
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
    let compact: Compact<'_> = postcard::from_bytes(&bytes).ok()?;
    let head = &compact.head;
    if !head.matches(json) || compact.vocabulary.len() as u64 != head.terms {
        return None;
    }
    let mut model = head.rest()?;
    model.classifier.coefficients = compact.coefficients.rows(compact.vocabulary.len())?;
    model.vectorizer.vocabulary = compact.vocabulary.into_iter().map(str::to_owned).collect();
    model.vectorizer.idf = f64s(compact.idf.0)?;
    model.check().ok()?;
    Some(model)
}

/// The summary of the model from the head of its twin beside `json` (the
/// first block of the file, never the weights), on the same terms as
/// [`load_compact`]: `None` when there is no current, sound twin.
pub fn load_compact_summary(json: &Path) -> Option<ModelSummary> {
    let mut block = Vec::new();
    File::open(compact_path(json))
        .ok()?
        .take(HEAD_BLOCK)
        .read_to_end(&mut block)
        .ok()?;
    let whole;
    let head = match postcard::take_from_bytes::<CompactHead<'_>>(&block) {
        Ok((head, _)) => head,
        Err(_) => {
            whole = fs::read(compact_path(json)).ok()?;
            postcard::take_from_bytes::<CompactHead<'_>>(&whole).ok()?.0
        }
    };
    if !head.matches(json) {
        return None;
    }
    let model = head.rest()?;
    model.check_head().ok()?;
    Some(model.summary_with_terms(usize::try_from(head.terms).ok()?))
}

/// The length and CRC-32 of the file at `path`, read in blocks.
fn length_and_crc32(path: &Path) -> Option<(u64, u32)> {
    let mut file = File::open(path).ok()?;
    let mut crc = crc32fast::Hasher::new();
    let mut block = vec![0u8; 64 * 1024];
    let mut length = 0u64;
    loop {
        match file.read(&mut block) {
            Ok(0) => return Some((length, crc.finalize())),
            Ok(n) => {
                crc.update(&block[..n]);
                length += n as u64;
            }
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}
