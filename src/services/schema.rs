//! Schema pieces the services' views share and derive cannot infer, each
//! under its own name in the document.

use crate::domain::{named_schema, one_of_words};

named_schema!(
    /// `currency`: the ISO 4217 code of every price, always `GBP`.
    Currency => one_of_words(&["GBP"], "ISO 4217 code of every price.")
);

named_schema!(
    /// A check that passed: always `ok` (a failed one is a 503 problem).
    CheckStatus => one_of_words(&["ok"], "A check that passed (a failed one is a 503 problem).")
);
