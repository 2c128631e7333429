//! Slowing password guesses: after a few failed sign-ins for one account
//! name, each further attempt must wait twice as long as the last, up to a
//! cap. An attempt that comes too early is refused without checking the
//! password, so a guesser learns nothing and costs no hashing; the right
//! password is refused too until the wait is over. A success clears the
//! count.
//!
//! Keyed by the name asked for, whether or not such an account exists, so
//! the answers never tell the two apart. The state lives in the process: on
//! a serverless platform each instance keeps its own, which still bounds
//! every instance's rate (argon2id's cost bounds it further).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many failures in a row are free, how the wait grows after them, and
/// when a quiet name is forgotten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failed sign-ins in a row before the first wait: room for typos.
    pub free_failures: u32,
    /// The wait after the first failure past the free ones; it doubles with
    /// each further failure.
    pub first_wait: Duration,
    pub max_wait: Duration,
    /// A name with no failure for this long starts afresh.
    pub forget_after: Duration,
    /// Names tracked at once; past it the stalest is dropped, so that a
    /// flood of made-up names cannot grow the memory without bound.
    pub max_names: usize,
}

impl Default for ThrottlePolicy {
    /// Ten free failures, then 1 s, 2 s, 4 s … up to 15 minutes: about a
    /// hundred guesses a day per name and instance, against the 200 in 4 s
    /// an unthrottled instance allowed.
    fn default() -> Self {
        ThrottlePolicy {
            free_failures: 10,
            first_wait: Duration::from_secs(1),
            max_wait: Duration::from_secs(15 * 60),
            forget_after: Duration::from_secs(60 * 60),
            max_names: 10_000,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    in_a_row: u32,
    last: Instant,
}

/// The failed sign-ins per account name.
#[derive(Debug, Default)]
pub struct SignInThrottle {
    policy: ThrottlePolicy,
    failures: Mutex<HashMap<String, Failures>>,
}

impl SignInThrottle {
    pub fn new(policy: ThrottlePolicy) -> Self {
        SignInThrottle {
            policy,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(wait)` when `name` may not try again before `wait` has passed.
    pub fn check(&self, name: &str, now: Instant) -> Result<(), Duration> {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let Some(seen) = failures.get(name) else {
            return Ok(());
        };
        let ready_at = seen.last + self.wait_after(seen.in_a_row);
        match ready_at.checked_duration_since(now) {
            Some(wait) if !wait.is_zero() => Err(wait),
            _ => Ok(()),
        }
    }

    /// Records a failed sign-in for `name`.
    pub fn failed(&self, name: &str, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let forget_after = self.policy.forget_after;
        let entry = failures.entry(name.to_owned()).or_insert(Failures {
            in_a_row: 0,
            last: now,
        });
        if now.saturating_duration_since(entry.last) > forget_after {
            entry.in_a_row = 0;
        }
        entry.in_a_row = entry.in_a_row.saturating_add(1);
        entry.last = now;
        if failures.len() > self.policy.max_names {
            failures.retain(|_, f| now.saturating_duration_since(f.last) <= forget_after);
            while failures.len() > self.policy.max_names {
                let Some(stalest) = failures
                    .iter()
                    .min_by_key(|(_, f)| f.last)
                    .map(|(name, _)| name.clone())
                else {
                    break;
                };
                failures.remove(&stalest);
            }
        }
    }

    /// Clears `name`'s failures after a successful sign-in.
    pub fn succeeded(&self, name: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(name);
    }

    /// The wait after `in_a_row` failures: none before the free ones are
    /// used up, then the first wait, doubling.
    fn wait_after(&self, in_a_row: u32) -> Duration {
        if in_a_row < self.policy.free_failures {
            return Duration::ZERO;
        }
        let doublings = (in_a_row - self.policy.free_failures).min(31);
        self.policy
            .first_wait
            .saturating_mul(1 << doublings)
            .min(self.policy.max_wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> ThrottlePolicy {
        ThrottlePolicy {
            free_failures: 3,
            first_wait: Duration::from_secs(1),
            max_wait: Duration::from_secs(8),
            forget_after: Duration::from_secs(60),
            max_names: 4,
        }
    }

    #[test]
    fn waits_double_after_the_free_failures_up_to_the_cap() {
        let throttle = SignInThrottle::new(policy());
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(throttle.check("admin", start), Ok(()));
            throttle.failed("admin", start);
        }
        // Three free failures: the fourth attempt must wait.
        assert_eq!(throttle.check("admin", start), Err(Duration::from_secs(1)));
        let mut now = start + Duration::from_secs(1);
        assert_eq!(throttle.check("admin", now), Ok(()));
        for expected in [2, 4, 8, 8] {
            throttle.failed("admin", now);
            assert_eq!(
                throttle.check("admin", now),
                Err(Duration::from_secs(expected))
            );
            now += Duration::from_secs(expected);
        }
        // Other names are not slowed.
        assert_eq!(throttle.check("reader", now), Ok(()));
    }

    #[test]
    fn a_success_or_a_quiet_hour_clears_the_count() {
        let throttle = SignInThrottle::new(policy());
        let start = Instant::now();
        for _ in 0..3 {
            throttle.failed("admin", start);
        }
        assert!(throttle.check("admin", start).is_err());
        throttle.succeeded("admin");
        assert_eq!(throttle.check("admin", start), Ok(()));

        for _ in 0..3 {
            throttle.failed("admin", start);
        }
        let later = start + Duration::from_secs(61);
        assert_eq!(throttle.check("admin", later), Ok(()));
        throttle.failed("admin", later);
        // Forgotten: this failure is the first of a new run.
        assert_eq!(throttle.check("admin", later), Ok(()));
    }

    #[test]
    fn the_names_tracked_are_bounded() {
        let throttle = SignInThrottle::new(policy());
        let start = Instant::now();
        for i in 0..10u64 {
            throttle.failed(&format!("name-{i}"), start + Duration::from_millis(i));
        }
        let tracked = throttle.failures.lock().unwrap().len();
        assert_eq!(tracked, 4);
        // The newest are kept.
        assert!(throttle.failures.lock().unwrap().contains_key("name-9"));
    }
}
