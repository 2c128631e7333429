//! Complement naive Bayes (Rennie et al., 2003), without weight
//! normalisation: each class is scored by how unlike the *other* classes a
//! document is, which copes with unbalanced classes better than the
//! multinomial form. Its scores are linear in the TF-IDF vector.

use serde::{Deserialize, Serialize};

use crate::ml::text::SparseVector;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BayesParams {
    /// Additive (Laplace/Lidstone) smoothing.
    pub alpha: f64,
}

/// `coefficients[c][t] = -ln(θ[c][t])`, where `θ[c]` is the smoothed term
/// distribution of every class but `c`; intercepts are 0.
pub fn fit(
    xs: &[SparseVector],
    labels: &[usize],
    classes: usize,
    terms: usize,
    params: &BayesParams,
) -> (Vec<f64>, Vec<Vec<f64>>) {
    let mut per_class = vec![vec![0.0; terms]; classes];
    for (x, &label) in xs.iter().zip(labels) {
        for (&t, &v) in x.indices.iter().zip(&x.values) {
            per_class[label][t as usize] += v;
        }
    }
    let all: Vec<f64> = (0..terms)
        .map(|t| per_class.iter().map(|row| row[t]).sum())
        .collect();
    let coefficients = per_class
        .iter()
        .map(|own| {
            let complement: Vec<f64> = all
                .iter()
                .zip(own)
                .map(|(a, o)| a - o + params.alpha)
                .collect();
            let total: f64 = complement.iter().sum();
            complement.iter().map(|c| -(c / total).ln()).collect()
        })
        .collect();
    (vec![0.0; classes], coefficients)
}
