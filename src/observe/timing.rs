//! Where a request's time went, for its `Server-Timing` header: the whole
//! answer (`total`) and, within it, the database (`db`) and the model
//! (`model`) where they ran. [`timed`] records a phase into the request
//! being answered (a task-local that [`measured`] sets up around it); code
//! outside a request (the CLI, training, tests) records into nothing and
//! pays one thread-local check.

use std::cell::Cell;
use std::future::Future;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderValue;

/// A part of answering a request that `Server-Timing` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// SQLite queries (a memoised aggregate costs none).
    Db,
    /// Model inference.
    Model,
}

impl Phase {
    /// The metric name in `Server-Timing`.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Db => "db",
            Phase::Model => "model",
        }
    }
}

/// The time one request spent in each phase; `None` for a phase that never
/// ran. Summed over every time the phase ran.
#[derive(Debug, Default)]
pub struct PhaseTimes {
    db: Cell<Option<Duration>>,
    model: Cell<Option<Duration>>,
}

impl PhaseTimes {
    fn cell(&self, phase: Phase) -> &Cell<Option<Duration>> {
        match phase {
            Phase::Db => &self.db,
            Phase::Model => &self.model,
        }
    }

    /// The time spent in `phase`, if it ran.
    pub fn get(&self, phase: Phase) -> Option<Duration> {
        self.cell(phase).get()
    }

    fn add(&self, phase: Phase, elapsed: Duration) {
        let cell = self.cell(phase);
        cell.set(Some(cell.get().unwrap_or_default() + elapsed));
    }

    /// The `Server-Timing` value for these phases and a `total`:
    /// `db;dur=0.042, total;dur=0.118`, durations in milliseconds to the
    /// microsecond.
    pub fn server_timing(&self, total: Duration) -> HeaderValue {
        let mut value = Vec::with_capacity(64);
        for phase in [Phase::Db, Phase::Model] {
            if let Some(elapsed) = self.get(phase) {
                push_metric(&mut value, phase.name(), elapsed);
                value.extend_from_slice(b", ");
            }
        }
        push_metric(&mut value, "total", total);
        // Only ASCII letters, digits and punctuation were written.
        HeaderValue::from_maybe_shared(Bytes::from(value))
            .unwrap_or_else(|_| HeaderValue::from_static("total"))
    }
}

/// `name;dur=<ms>.<µs>`, written by hand: this runs on every request, and
/// `format!` costs several times as much.
fn push_metric(out: &mut Vec<u8>, name: &str, elapsed: Duration) {
    let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b";dur=");
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut millis = micros / 1000;
    loop {
        start -= 1;
        digits[start] = b'0' + (millis % 10) as u8;
        millis /= 10;
        if millis == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
    let fraction = micros % 1000;
    out.extend_from_slice(&[
        b'.',
        b'0' + (fraction / 100) as u8,
        b'0' + (fraction / 10 % 10) as u8,
        b'0' + (fraction % 10) as u8,
    ]);
}

tokio::task_local! {
    static CURRENT: PhaseTimes;
}

/// Runs `work` and, inside a request, adds its time to `phase`.
pub fn timed<T>(phase: Phase, work: impl FnOnce() -> T) -> T {
    if CURRENT.try_with(|_| ()).is_err() {
        return work();
    }
    let started = Instant::now();
    let output = work();
    record(phase, started.elapsed());
    output
}

/// Inside a request, adds `elapsed` to `phase`; elsewhere does nothing.
pub fn record(phase: Phase, elapsed: Duration) {
    let _ = CURRENT.try_with(|times| times.add(phase, elapsed));
}

/// Awaits `request` with a fresh set of phase times that [`timed`] records
/// into, and returns them with its output. Work the request hands to
/// another task (`spawn_blocking`) is not counted.
pub async fn measured<F: Future>(request: F) -> (F::Output, PhaseTimes) {
    let mut scoped = std::pin::pin!(CURRENT.scope(PhaseTimes::default(), request));
    let output = scoped.as_mut().await;
    let times = scoped.as_mut().take_value().unwrap_or_default();
    (output, times)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn phases_are_summed_inside_a_request_and_ignored_outside() {
        // Outside any request: runs, records nothing, does not panic.
        assert_eq!(timed(Phase::Db, || 7), 7);
        let (output, times) = measured(async {
            timed(Phase::Db, || std::thread::sleep(Duration::from_millis(2)));
            timed(Phase::Db, || std::thread::sleep(Duration::from_millis(1)));
            42
        })
        .await;
        assert_eq!(output, 42);
        assert!(times.get(Phase::Db).unwrap() >= Duration::from_millis(3));
        assert_eq!(times.get(Phase::Model), None);
    }

    #[test]
    fn the_header_names_only_the_phases_that_ran_then_the_total() {
        let times = PhaseTimes::default();
        assert_eq!(
            times.server_timing(Duration::from_micros(1_234)),
            "total;dur=1.234"
        );
        times.add(Phase::Model, Duration::from_micros(5));
        times.add(Phase::Db, Duration::from_micros(42));
        times.add(Phase::Db, Duration::from_micros(1_000));
        assert_eq!(
            times.server_timing(Duration::from_micros(12_345_678)),
            "db;dur=1.042, model;dur=0.005, total;dur=12345.678"
        );
        let zero = PhaseTimes::default();
        assert_eq!(zero.server_timing(Duration::ZERO), "total;dur=0.000");
        assert_eq!(
            zero.server_timing(Duration::from_micros(100_200)),
            "total;dur=100.200"
        );
    }
}
