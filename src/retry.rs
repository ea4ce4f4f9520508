//! The runner shared by the registry sync and the outbox sender: one run at a time, one more
//! when asked for meanwhile, and after a failure that may pass, a retry after a jittered delay
//! that grows with each failure in a row (the model's [`Backoff::DEFAULT`], one policy for both).
//!
//! What a run does, and which failures are worth a retry, stays with its owner; the runner only
//! keeps the bookkeeping and the timer.

use caremap_model::sync::Backoff;
use leptos::leptos_dom::helpers::TimeoutHandle;
use leptos::prelude::*;
use std::time::Duration;

/// The runner's bookkeeping (not reactive).
#[derive(Default)]
struct State {
    running: bool,
    /// A run was asked for while one ran: run again when it ends.
    again: bool,
    /// Failed runs in a row, for the backoff.
    failures: u32,
    retry: Option<TimeoutHandle>,
}

/// A handle to one runner; copy it freely.
#[derive(Clone, Copy)]
pub struct Runner {
    state: StoredValue<State, LocalStorage>,
    /// Names the runner in the console.
    name: &'static str,
}

impl Runner {
    pub fn new(name: &'static str) -> Self {
        Runner {
            state: StoredValue::new_local(State::default()),
            name,
        }
    }

    /// Starts a run: `true` if the caller may run now (a retry waiting is then called off);
    /// `false` if a run is under way, in which case one more follows it ([`Runner::end`]).
    pub fn begin(self) -> bool {
        self.state
            .try_update_value(|s| {
                if s.running {
                    s.again = true;
                    return false;
                }
                s.running = true;
                s.again = false;
                if let Some(retry) = s.retry.take() {
                    retry.clear();
                }
                true
            })
            .unwrap_or(false)
    }

    /// Ends a run: whether another was asked for while it ran.
    pub fn end(self) -> bool {
        self.state
            .try_update_value(|s| {
                s.running = false;
                std::mem::take(&mut s.again)
            })
            .unwrap_or(false)
    }

    /// Forgets the failures in a row: the next retry waits the shortest delay again.
    pub fn succeeded(self) {
        self.state.update_value(|s| s.failures = 0);
    }

    /// Counts a failure and calls `run` once the backoff's delay for it has passed (a retry
    /// already waiting is replaced).
    pub fn retry_later(self, run: impl Fn() + 'static) {
        self.retry_after(None, run);
    }

    /// [`Runner::retry_later`], waiting at least `asked` when the server said how long
    /// (`Retry-After`; see [`Backoff::delay_after`]).
    pub fn retry_after(self, asked: Option<Duration>, run: impl Fn() + 'static) {
        let failures = self
            .state
            .try_update_value(|s| {
                s.failures = s.failures.saturating_add(1);
                s.failures
            })
            .unwrap_or(1);
        let delay = retry_delay_after(failures, js_sys::Math::random(), asked);
        match set_timeout_with_handle(run, delay) {
            Ok(handle) => self.state.update_value(|s| {
                if let Some(old) = s.retry.replace(handle) {
                    old.clear();
                }
            }),
            Err(err) => leptos::logging::warn!("{}: retry not scheduled: {err:?}", self.name),
        }
    }
}

/// The delay before retrying after `failures` failures in a row (at least one), with `jitter`
/// drawn from [0, 1).
pub fn retry_delay(failures: u32, jitter: f64) -> Duration {
    retry_delay_after(failures, jitter, None)
}

/// [`retry_delay`] when the server asked to wait `asked`.
pub fn retry_delay_after(failures: u32, jitter: f64, asked: Option<Duration>) -> Duration {
    Backoff::DEFAULT.delay_after(failures.saturating_sub(1), jitter, asked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn the_first_retry_comes_within_two_seconds_and_later_ones_wait_longer() {
        assert!(retry_delay(1, 0.99) <= Duration::from_secs(2));
        assert!(retry_delay(1, 0.0) >= Duration::from_secs(1));
        assert!(retry_delay(4, 0.0) > retry_delay(1, 0.99));
        assert!(retry_delay(u32::MAX, 0.99) <= Backoff::DEFAULT.max);
        // A server that said "Retry-After: 5" is not asked again sooner.
        assert!(retry_delay_after(1, 0.0, Some(Duration::from_secs(5))) >= Duration::from_secs(5));
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn one_run_at_a_time_and_one_more_if_asked_meanwhile() {
        let owner = Owner::new();
        owner.with(|| {
            let runner = Runner::new("test");
            assert!(runner.begin());
            assert!(!runner.begin(), "a second run waits for the first");
            assert!(runner.end(), "and follows it");
            assert!(runner.begin());
            assert!(!runner.end(), "nothing was asked for meanwhile");
        });
    }
}
