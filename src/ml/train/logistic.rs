//! Multinomial logistic regression with an L2 penalty, fitted by Nesterov's
//! accelerated gradient (with adaptive restart) over the whole batch for a
//! fixed number of steps:
//! deterministic (same data, same floats, same order), and with unit-length
//! inputs the step size needs no search.

use serde::{Deserialize, Serialize};

use crate::ml::linear::softmax;
use crate::ml::text::SparseVector;

/// The hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LogisticParams {
    /// The L2 penalty on the coefficients (not the intercepts).
    pub l2: f64,
    /// Weight each example by `n / (classes · n_class)`, so small classes
    /// count as much as large ones.
    pub balanced: bool,
    pub iterations: u32,
}

/// Fits `classes` linear scores over `terms` features. Returns the
/// intercepts and the coefficients, one row per class.
pub fn fit(
    xs: &[SparseVector],
    labels: &[usize],
    classes: usize,
    terms: usize,
    params: &LogisticParams,
) -> (Vec<f64>, Vec<Vec<f64>>) {
    let k = classes;
    let mut counts = vec![0usize; k];
    for &label in labels {
        counts[label] += 1;
    }
    let example_weight: Vec<f64> = labels
        .iter()
        .map(|&label| {
            if params.balanced {
                xs.len() as f64 / (k as f64 * counts[label] as f64)
            } else {
                1.0
            }
        })
        .collect();
    let total_weight: f64 = example_weight.iter().sum();

    // Parameters term-major (term t's k scores side by side), intercepts
    // last: one document's update touches contiguous memory.
    let size = (terms + 1) * k;
    let bias = terms * k;
    // The loss is the weighted mean cross-entropy plus l2/2 |W|^2. With
    // |x| <= 1 and the intercept's constant input, its gradient is
    // Lipschitz with a constant of at most 1 + l2.
    let step = 1.0 / (1.0 + params.l2);
    let mut w = vec![0.0; size];
    let mut lookahead = w.clone();
    let mut gradient = vec![0.0; size];
    let mut scores = vec![0.0; k];
    let mut since_restart: u32 = 1;
    for _ in 0..params.iterations {
        gradient.iter_mut().for_each(|g| *g = 0.0);
        for ((x, &label), &weight) in xs.iter().zip(labels).zip(&example_weight) {
            scores.copy_from_slice(&lookahead[bias..]);
            for (&t, &v) in x.indices.iter().zip(&x.values) {
                let row = &lookahead[t as usize * k..(t as usize + 1) * k];
                for (s, c) in scores.iter_mut().zip(row) {
                    *s += v * c;
                }
            }
            let mut residual = softmax(&scores);
            residual[label] -= 1.0;
            let scale = weight / total_weight;
            for (&t, &v) in x.indices.iter().zip(&x.values) {
                let row = &mut gradient[t as usize * k..(t as usize + 1) * k];
                for (g, r) in row.iter_mut().zip(&residual) {
                    *g += scale * v * r;
                }
            }
            for (g, r) in gradient[bias..].iter_mut().zip(&residual) {
                *g += scale * r;
            }
        }
        for (g, p) in gradient[..bias].iter_mut().zip(&lookahead[..bias]) {
            *g += params.l2 * p;
        }
        // Adaptive restart (O'Donoghue and Candès, 2015): when the step
        // goes against the gradient, momentum is overshooting; drop it.
        let mut against = 0.0;
        for i in 0..size {
            let next = lookahead[i] - step * gradient[i];
            against += gradient[i] * (next - w[i]);
        }
        if against > 0.0 {
            since_restart = 1;
        }
        let momentum = f64::from(since_restart - 1) / f64::from(since_restart + 2);
        for i in 0..size {
            let next = lookahead[i] - step * gradient[i];
            lookahead[i] = next + momentum * (next - w[i]);
            w[i] = next;
        }
        since_restart += 1;
    }
    let intercepts = w[bias..].to_vec();
    let coefficients = (0..k)
        .map(|c| (0..terms).map(|t| w[t * k + c]).collect())
        .collect();
    (intercepts, coefficients)
}
