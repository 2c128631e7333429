//! Slowing password guesses: after a few failed sign-ins for one account
//! name, each further attempt must wait twice as long as the last, up to a
//! cap. An attempt that comes too early is refused without checking the
//! password, so a guesser learns nothing and costs no hashing; the right
//! password is refused too until the wait is over. Every admitted attempt
//! counts as a failure until it succeeds, which clears the count.
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

    /// Admits a sign-in attempt for `name`, counting it as a failure until
    /// [`succeeded`](Self::succeeded) says otherwise, or refuses it with the
    /// wait left (not counting it). Counted before the password is checked,
    /// so that guesses sent at once cannot all slip in under the limit.
    pub fn attempt(&self, name: &str, now: Instant) -> Result<(), Duration> {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let entry = failures.entry(name.to_owned()).or_insert(Failures {
            in_a_row: 0,
            last: now,
        });
        if now.saturating_duration_since(entry.last) > self.policy.forget_after {
            entry.in_a_row = 0;
        }
        let ready_at = entry.last + self.wait_after(entry.in_a_row);
        if let Some(wait) = ready_at
            .checked_duration_since(now)
            .filter(|w| !w.is_zero())
        {
            return Err(wait);
        }
        entry.in_a_row = entry.in_a_row.saturating_add(1);
        entry.last = now;
        if failures.len() > self.policy.max_names {
            self.forget_stalest(&mut failures, now);
        }
        Ok(())
    }

    /// Drops the names quiet for longer than the policy keeps them, then the
    /// stalest until the map is within its bound.
    fn forget_stalest(&self, failures: &mut HashMap<String, Failures>, now: Instant) {
        let forget_after = self.policy.forget_after;
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
            assert_eq!(throttle.attempt("admin", start), Ok(()));
        }
        // Three free failures: the fourth attempt must wait, and waiting
        // attempts are not counted.
        assert_eq!(
            throttle.attempt("admin", start),
            Err(Duration::from_secs(1))
        );
        let mut now = start + Duration::from_millis(400);
        assert_eq!(
            throttle.attempt("admin", now),
            Err(Duration::from_millis(600))
        );
        now = start + Duration::from_secs(1);
        for expected in [2, 4, 8, 8] {
            assert_eq!(throttle.attempt("admin", now), Ok(()));
            assert_eq!(
                throttle.attempt("admin", now),
                Err(Duration::from_secs(expected))
            );
            now += Duration::from_secs(expected);
        }
        // Other names are not slowed.
        assert_eq!(throttle.attempt("reader", now), Ok(()));
    }

    #[test]
    fn a_success_or_a_quiet_hour_clears_the_count() {
        let throttle = SignInThrottle::new(policy());
        let start = Instant::now();
        for _ in 0..3 {
            throttle.attempt("admin", start).unwrap();
        }
        assert!(throttle.attempt("admin", start).is_err());
        throttle.succeeded("admin");
        assert_eq!(throttle.attempt("admin", start), Ok(()));

        for _ in 0..2 {
            throttle.attempt("admin", start).unwrap();
        }
        assert!(throttle.attempt("admin", start).is_err());
        // Forgotten after a quiet spell: a new run of free attempts.
        let later = start + Duration::from_secs(61);
        for _ in 0..3 {
            assert_eq!(throttle.attempt("admin", later), Ok(()));
        }
        assert!(throttle.attempt("admin", later).is_err());
    }

    #[test]
    fn the_names_tracked_are_bounded() {
        let throttle = SignInThrottle::new(policy());
        let start = Instant::now();
        for i in 0..10u64 {
            let name = format!("name-{i}");
            throttle
                .attempt(&name, start + Duration::from_millis(i))
                .unwrap();
        }
        let failures = throttle.failures.lock().unwrap();
        assert_eq!(failures.len(), 4);
        // The newest are kept.
        assert!(failures.contains_key("name-9"));
    }
}
