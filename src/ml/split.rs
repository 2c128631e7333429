//! The train/test split: a book is in the test split when a hash of the seed
//! and its id falls below `test_size`. Each book's side depends on nothing but
//! its own id, so adding or removing books moves no other book, and any
//! language can recompute it:
//!
//! ```text
//! h = SHA-256("{seed}:{id}" as UTF-8); u = (first 8 bytes of h, big-endian) / 2^64
//! test  <=>  u < test_size
//! ```

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The seed the served model was evaluated with.
pub const DEFAULT_SEED: u64 = 42;
/// The test share the served model was evaluated with.
pub const DEFAULT_TEST_SIZE: f64 = 0.2;
/// The rule in one line, as the model card and `/api/v1/ml/features` state it.
pub const RULE: &str =
    "test <=> (first 8 bytes of SHA-256(\"{seed}:{id}\"), big-endian) / 2^64 < test_size";

/// Which side of the split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Test,
    All,
}

impl Split {
    pub fn parse(text: &str) -> Option<Split> {
        match text {
            "train" => Some(Split::Train),
            "test" => Some(Split::Test),
            "all" => Some(Split::All),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "test",
            Split::All => "all",
        }
    }
}

/// A split's definition: the seed and the test share.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SplitRule {
    pub seed: u64,
    /// In (0, 1).
    pub test_size: f64,
}

impl Default for SplitRule {
    fn default() -> Self {
        SplitRule {
            seed: DEFAULT_SEED,
            test_size: DEFAULT_TEST_SIZE,
        }
    }
}

impl SplitRule {
    /// The book's position in [0, 1), uniform over ids.
    pub fn position(self, book_id: u32) -> f64 {
        let digest = Sha256::digest(format!("{}:{book_id}", self.seed).as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        // u64 -> f64 rounds to nearest; dividing by a power of two is exact.
        u64::from_be_bytes(first) as f64 / 18_446_744_073_709_551_616.0
    }

    pub fn is_test(self, book_id: u32) -> bool {
        self.position(book_id) < self.test_size
    }

    /// Whether the book belongs to `split`.
    pub fn contains(self, split: Split, book_id: u32) -> bool {
        match split {
            Split::All => true,
            Split::Test => self.is_test(book_id),
            Split::Train => !self.is_test(book_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_position_is_the_documented_hash() {
        // The first 8 bytes of sha256("42:1"), computed independently with
        // Python's hashlib.
        let rule = SplitRule::default();
        let expected = u64::from_str_radix(PINNED_42_1, 16).unwrap() as f64 / 2f64.powi(64);
        assert_eq!(rule.position(1), expected);
    }

    const PINNED_42_1: &str = "03ddf851127d6cfe";

    #[test]
    fn the_share_is_near_test_size_and_seeds_differ() {
        let rule = SplitRule::default();
        let test = (1..=1000).filter(|&id| rule.is_test(id)).count();
        assert!((170..=230).contains(&test), "{test}");
        let other = SplitRule { seed: 7, ..rule };
        assert!((1..=1000).any(|id| rule.is_test(id) != other.is_test(id)));
        for id in 1..=50 {
            assert!(rule.contains(Split::All, id));
            assert_ne!(
                rule.contains(Split::Train, id),
                rule.contains(Split::Test, id)
            );
        }
    }
}
