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

    proptest! {
        #[test]
        fn delay_stays_within_half_and_full_ceiling(attempt in 0u32..100, jitter in 0.0f64..1.0) {
            let b = Backoff::DEFAULT;
            let d = b.delay(attempt, jitter);
            let ceiling = b.base.saturating_mul(2u32.saturating_pow(attempt.min(31))).min(b.max);
            prop_assert!(d >= ceiling / 2 && d <= ceiling);
            prop_assert!(d <= b.max);
        }
    }
}
