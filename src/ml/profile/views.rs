//! The serialisable shape of a profile: what `/ml/features` answers with
//! for each feature, and the warnings it lists.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ml::features::{FeatureKind, FeatureValue, Role};

/// One feature: its definition, its statistics over the catalogue, and
/// what they warn of.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeatureProfile {
    /// The dataset column's name.
    #[schema(examples("title_words"))]
    pub name: &'static str,
    #[serde(rename = "type")]
    pub kind: FeatureKind,
    pub role: Role,
    /// The unit of a numeric feature; null otherwise.
    #[schema(required = true, examples("GBP"))]
    pub unit: Option<&'static str>,
    /// The `books.csv` column it is read from.
    pub column: &'static str,
    /// How it is computed from the column; null when it is the column as is.
    #[schema(required = true)]
    pub derivation: Option<&'static str>,
    /// What a modeller should know about it.
    pub note: &'static str,
    pub stats: FeatureStats,
    /// What the statistics show is wrong with it as an input; empty when
    /// nothing is.
    pub warnings: Vec<Warning>,
}

/// Statistics over every book of the catalogue. The part for the feature's
/// type is filled; the others are null.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeatureStats {
    /// Books with a value: every book (no feature has missing values).
    pub count: usize,
    /// Distinct values.
    pub distinct: usize,
    /// The share of the books having the most common value.
    #[schema(minimum = 0, maximum = 1)]
    pub top_share: f64,
    #[schema(required = true)]
    pub numeric: Option<NumericStats>,
    #[schema(required = true)]
    pub boolean: Option<BooleanStats>,
    #[schema(required = true)]
    pub text: Option<TextStats>,
    /// The most common values, most common first (ties by value), at most
    /// 10: for categorical features and numeric ones with 10 distinct values
    /// or fewer (then every value); null otherwise.
    #[schema(required = true)]
    pub top_values: Option<Vec<ValueCount>>,
}

/// A numeric feature's distribution (`pandas.Series.describe()`'s figures).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct NumericStats {
    pub mean: f64,
    /// Sample standard deviation (n − 1).
    pub std: f64,
    pub min: f64,
    /// Quantiles by linear interpolation between the closest ranks (numpy's
    /// and pandas' default).
    pub p25: f64,
    pub median: f64,
    pub p75: f64,
    pub max: f64,
    /// Spearman rank correlation with the book id (ties take their average
    /// rank); null when the feature is constant. Near ±1, the feature
    /// follows the site's numbering of books.
    #[schema(required = true, minimum = -1, maximum = 1)]
    pub spearman_with_id: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BooleanStats {
    pub true_count: usize,
    #[schema(minimum = 0, maximum = 1)]
    pub true_share: f64,
}

/// A text feature's lengths (characters are Unicode scalar values, words
/// runs of non-whitespace).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TextStats {
    /// Books whose text is empty.
    pub empty: usize,
    pub mean_chars: f64,
    pub max_chars: usize,
    pub mean_words: f64,
    pub max_words: usize,
}

/// A value and how many books have it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ValueCount {
    pub value: FeatureValue<'static>,
    pub count: usize,
    #[schema(minimum = 0, maximum = 1)]
    pub share: f64,
}

/// Something the data shows about a feature.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Warning {
    pub code: WarningCode,
    pub detail: String,
}

/// - `constant`: one value for every book; no signal.
/// - `quasi_constant`: one value for at least 99% of the books.
/// - `leaks_id`: a number whose |Spearman ρ| with the book id is at least
///   0.9: it encodes the site's numbering, not the book.
/// - `leaks_target`: identical to a target for every book.
/// - `duplicate`: identical to an earlier feature for every book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WarningCode {
    Constant,
    QuasiConstant,
    LeaksId,
    LeaksTarget,
    Duplicate,
}
