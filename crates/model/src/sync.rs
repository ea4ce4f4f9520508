//! Pure decisions of the sync engines, so they are tested without a network or a browser.

use std::time::Duration;

/// When to try again after a transient failure: exponential backoff with full jitter, so that
/// a thousand phones that lost the network together do not all come back in the same second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling of the first retry's delay.
    pub base: Duration,
    /// No delay is longer than this.
    pub max: Duration,
}

impl Backoff {
    /// Doctors may be offline for days; a phone still checks every few minutes.
    pub const DEFAULT: Backoff = Backoff {
        base: Duration::from_secs(2),
        max: Duration::from_secs(300),
    };

    /// The delay before retry number `attempt` (0 for the first retry), given `jitter` drawn
    /// uniformly from [0, 1): a random point in [ceiling / 2, ceiling], where the ceiling doubles
    /// with each attempt up to `max`.
    pub fn delay(self, attempt: u32, jitter: f64) -> Duration {
        let factor = 2u32.saturating_pow(attempt.min(31));
        let ceiling = self.base.saturating_mul(factor).min(self.max);
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.5
        };
        ceiling.mul_f64(0.5 + 0.5 * jitter)
    }

    /// The delay before retry number `attempt` when the server asked to wait `retry_after`
    /// (its `Retry-After`, on a 503 or a 429): never sooner than it asked, spread by up to half
    /// again with `jitter` so that the phones it turned away do not all come back in the same
    /// second, and never longer than `max` (a proxy asking for a day does not stop a phone).
    /// Without `retry_after`, [`Backoff::delay`].
    pub fn delay_after(self, attempt: u32, jitter: f64, retry_after: Option<Duration>) -> Duration {
        let backoff = self.delay(attempt, jitter);
        let Some(asked) = retry_after else {
            return backoff;
        };
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.5
        };
        let asked = asked.min(self.max).mul_f64(1.0 + 0.5 * jitter);
        backoff.max(asked).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn grows_then_caps() {
        let b = Backoff::DEFAULT;
        assert_eq!(b.delay(0, 1.0), Duration::from_secs(2));
        assert_eq!(b.delay(3, 1.0), Duration::from_secs(16));
        assert_eq!(b.delay(30, 1.0), Duration::from_secs(300));
        assert_eq!(b.delay(u32::MAX, 0.0), Duration::from_secs(150));
    }

    #[test]
    fn retry_after_is_honoured_within_max() {
        let b = Backoff::DEFAULT;
        // The first retry would come within 2 s; the server asked for 10.
        let d = b.delay_after(0, 0.0, Some(Duration::from_secs(10)));
        assert_eq!(d, Duration::from_secs(10));
        assert!(b.delay_after(0, 0.99, Some(Duration::from_secs(10))) <= Duration::from_secs(15));
        // Asking for less than the backoff does not make a phone hurry.
        assert_eq!(
            b.delay_after(5, 1.0, Some(Duration::from_secs(1))),
            b.delay(5, 1.0)
        );
        // A day is not waited.
        assert_eq!(
            b.delay_after(0, 0.5, Some(Duration::from_secs(86_400))),
            b.max
        );
        assert_eq!(b.delay_after(3, 0.3, None), b.delay(3, 0.3));
    }

    proptest! {
        #[test]
        fn delay_stays_within_half_and_full_ceiling(attempt in 0u32..100, jitter in 0.0f64..1.0) {
            let b = Backoff::DEFAULT;
            let d = b.delay(attempt, jitter);
            let ceiling = b.base.saturating_mul(2u32.saturating_pow(attempt.min(31))).min(b.max);
            prop_assert!(d >= ceiling / 2 && d <= ceiling);
            prop_assert!(d <= b.max);
        }

        #[test]
        fn a_retry_after_is_waited_unless_beyond_max(attempt in 0u32..100, jitter in 0.0f64..1.0, asked in 0u64..1000) {
            let b = Backoff::DEFAULT;
            let asked = Duration::from_secs(asked);
            let d = b.delay_after(attempt, jitter, Some(asked));
            prop_assert!(d >= asked.min(b.max));
            prop_assert!(d >= b.delay(attempt, jitter));
            prop_assert!(d <= b.max);
        }
    }
}
