//! Temperature scaling (Guo et al., 2017): one number T that divides every
//! score, chosen to minimise the log loss of held-out predictions. The
//! ranking, and every accuracy figure, stay as they are.

use crate::ml::linear::softmax;

/// The mean negative log-likelihood of the true class when every score is
/// divided by `temperature`. `scored`: (scores, true class index).
pub fn log_loss(scored: &[(Vec<f64>, usize)], temperature: f64) -> f64 {
    if scored.is_empty() {
        return 0.0;
    }
    let total: f64 = scored
        .iter()
        .map(|(scores, class)| {
            let scaled: Vec<f64> = scores.iter().map(|s| s / temperature).collect();
            -softmax(&scaled)[*class].max(f64::MIN_POSITIVE).ln()
        })
        .sum();
    total / scored.len() as f64
}

/// The temperature in [1/100, 100] minimising [`log_loss`], by golden-section
/// search over its logarithm (the loss is unimodal in it).
pub fn fit_temperature(scored: &[(Vec<f64>, usize)]) -> f64 {
    let loss = |log_t: f64| log_loss(scored, log_t.exp());
    let (mut low, mut high) = ((0.01f64).ln(), (100.0f64).ln());
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let mut a = high - ratio * (high - low);
    let mut b = low + ratio * (high - low);
    let (mut fa, mut fb) = (loss(a), loss(b));
    for _ in 0..60 {
        if fa <= fb {
            high = b;
            b = a;
            fb = fa;
            a = high - ratio * (high - low);
            fa = loss(a);
        } else {
            low = a;
            a = b;
            fa = fb;
            b = low + ratio * (high - low);
            fb = loss(b);
        }
    }
    ((low + high) / 2.0).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaling_finds_the_temperature_that_fits() {
        // Scores twice as confident as the truth: class 0 wins 2 of 3 times
        // with scores that claim more.
        let scored = vec![
            (vec![2.0 * 2f64.ln(), 0.0], 0),
            (vec![2.0 * 2f64.ln(), 0.0], 0),
            (vec![2.0 * 2f64.ln(), 0.0], 1),
        ];
        // p(class 0) = 2/3 exactly when the score gap is ln 2: T = 2.
        let t = fit_temperature(&scored);
        assert!((t - 2.0).abs() < 1e-6, "{t}");
        assert!(log_loss(&scored, t) < log_loss(&scored, 1.0));
    }
}
