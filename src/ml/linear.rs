//! The served classifier's shape: one linear score per class over the TF-IDF
//! vector, turned into probabilities by a softmax. Both candidate algorithms
//! (complement naive Bayes, logistic regression) end up in this form, so the
//! model file and every reader of it need only this.

use serde::{Deserialize, Serialize};

use super::text::SparseVector;

/// `score[c] = intercepts[c] + coefficients[c] · x`;
/// `probability[c] = exp(score[c] - max) / Σ exp(score[k] - max)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearClassifier {
    /// Class labels, sorted; a class's index is its position.
    pub classes: Vec<String>,
    pub intercepts: Vec<f64>,
    /// One row per class, one column per vocabulary term.
    pub coefficients: Vec<Vec<f64>>,
}

impl LinearClassifier {
    /// The linear score of every class, in class order.
    pub fn scores(&self, x: &SparseVector) -> Vec<f64> {
        self.coefficients
            .iter()
            .zip(&self.intercepts)
            .map(|(row, b)| b + x.dot(row))
            .collect()
    }

    /// The probability of every class, in class order.
    pub fn probabilities(&self, x: &SparseVector) -> Vec<f64> {
        softmax(&self.scores(x))
    }

    /// Class indices by probability, highest first (ties by class order).
    pub fn ranked(&self, x: &SparseVector) -> Vec<(usize, f64)> {
        rank(self.probabilities(x))
    }

    /// Whether the labels are at least two, sorted and distinct.
    pub fn check_classes(&self) -> Result<(), String> {
        let k = self.classes.len();
        if k < 2 {
            return Err(format!("{k} classes; a classifier needs at least 2"));
        }
        if !self.classes.windows(2).all(|w| w[0] < w[1]) {
            return Err("classes must be sorted and distinct".into());
        }
        Ok(())
    }

    /// Whether the classes are sound and the shapes agree with each other
    /// and with `terms`.
    pub fn check_shape(&self, terms: usize) -> Result<(), String> {
        self.check_classes()?;
        let k = self.classes.len();
        if self.intercepts.len() != k || self.coefficients.len() != k {
            return Err("intercepts and coefficients must have one entry per class".into());
        }
        if let Some(row) = self.coefficients.iter().find(|row| row.len() != terms) {
            return Err(format!(
                "a coefficient row has {} entries for {terms} vocabulary terms",
                row.len()
            ));
        }
        let finite = self
            .intercepts
            .iter()
            .chain(self.coefficients.iter().flatten());
        if !finite.into_iter().all(|v| v.is_finite()) {
            return Err("a coefficient is not a finite number".into());
        }
        Ok(())
    }
}

/// Numerically stable softmax.
pub fn softmax(scores: &[f64]) -> Vec<f64> {
    let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exps: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
    let sum: f64 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

/// `(index, value)` by value descending, ties by index.
pub fn rank(values: Vec<f64>) -> Vec<(usize, f64)> {
    let mut ranked: Vec<(usize, f64)> = values.into_iter().enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_are_a_softmax_of_linear_scores() {
        let model = LinearClassifier {
            classes: vec!["a".into(), "b".into()],
            intercepts: vec![0.0, 1.0],
            coefficients: vec![vec![2.0, 0.0], vec![0.0, 0.0]],
        };
        model.check_shape(2).unwrap();
        let x = SparseVector {
            indices: vec![0],
            values: vec![1.0],
        };
        // scores 2 and 1.
        let p = model.probabilities(&x);
        let e = 1f64.exp();
        assert!((p[0] - e / (e + 1.0)).abs() < 1e-15);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        assert_eq!(model.ranked(&x)[0].0, 0);
        // Ties keep class order.
        assert_eq!(rank(vec![0.5, 0.5]), [(0, 0.5), (1, 0.5)]);
        assert!(model.check_shape(3).is_err());
    }
}
