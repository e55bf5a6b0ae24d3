//! Fault injection knobs, settable while the emulator runs. Decisions come from a seeded
//! generator, so a test with a fixed seed sees the same faults on every run.

use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Which error a throttled Athena or Glue call gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ThrottleKind {
    /// `ThrottlingException: Rate exceeded` (a request rate limit).
    Throttling,
    /// `TooManyRequestsException` with Reason `CONCURRENT_QUERY_LIMIT_EXCEEDED`.
    TooManyRequests,
}

#[derive(Debug)]
struct State {
    rng: u64,
    throttle_share: f64,
    throttle_kind: ThrottleKind,
    throttle_operations: Option<Vec<String>>,
    http_500_share: f64,
    s3_get_failure_share: f64,
    s3_truncate_share: f64,
    slow_query: Duration,
}

impl State {
    fn new(seed: u64) -> Self {
        Self {
            rng: seed,
            throttle_share: 0.0,
            throttle_kind: ThrottleKind::Throttling,
            throttle_operations: None,
            http_500_share: 0.0,
            s3_get_failure_share: 0.0,
            s3_truncate_share: 0.0,
            slow_query: Duration::ZERO,
        }
    }

    /// SplitMix64: a uniform value in `[0, 1)`.
    fn next(&mut self) -> f64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    fn roll(&mut self, share: f64) -> bool {
        share > 0.0 && self.next() < share
    }
}

/// Runtime fault knobs of a running emulator (see [`crate::EmulatorHandle::faults`]).
///
/// A share is a probability in `0.0..=1.0` (values outside are clamped, NaN counts as 0).
/// Every knob starts off.
#[derive(Debug, Clone)]
pub struct Faults {
    state: Arc<Mutex<State>>,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            state: Arc::new(Mutex::new(State::new(0x5EED))),
        }
    }
}

fn clamp(share: f64) -> f64 {
    if share.is_nan() {
        0.0
    } else {
        share.clamp(0.0, 1.0)
    }
}

impl Faults {
    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut state)
    }

    /// Restarts the generator from `seed` (the same seed gives the same fault sequence).
    pub fn set_seed(&self, seed: u64) {
        self.with(|s| s.rng = seed);
    }

    /// Throttles a share of Athena and Glue calls (S3 calls get `503 SlowDown`).
    pub fn throttle(&self, share: f64, kind: ThrottleKind) {
        self.with(|s| {
            s.throttle_share = clamp(share);
            s.throttle_kind = kind;
        });
    }

    /// Limits throttling to the named operations (`StartQueryExecution`, `GetObject`, ...);
    /// an empty list means every operation.
    pub fn throttle_only(&self, operations: &[&str]) {
        self.with(|s| {
            s.throttle_operations = if operations.is_empty() {
                None
            } else {
                Some(operations.iter().map(|o| (*o).to_owned()).collect())
            };
        });
    }

    /// Answers a share of all calls with HTTP 500 (`InternalServerException` / `InternalError`).
    pub fn http_500(&self, share: f64) {
        self.with(|s| s.http_500_share = clamp(share));
    }

    /// Fails a share of S3 GetObject calls with `500 InternalError`.
    pub fn s3_get_failures(&self, share: f64) {
        self.with(|s| s.s3_get_failure_share = clamp(share));
    }

    /// Cuts a share of S3 GetObject bodies after half their bytes (the connection drops).
    pub fn s3_truncated_bodies(&self, share: f64) {
        self.with(|s| s.s3_truncate_share = clamp(share));
    }

    /// Keeps every query RUNNING this much longer before it executes.
    pub fn slow_queries(&self, extra: Duration) {
        self.with(|s| s.slow_query = extra);
    }

    /// Turns every knob off (the generator keeps its position).
    pub fn clear(&self) {
        self.with(|s| {
            let rng = s.rng;
            *s = State::new(rng);
        });
    }

    pub(crate) fn roll_throttle(&self, operation: &str) -> Option<ThrottleKind> {
        self.with(|s| {
            let applies = s
                .throttle_operations
                .as_ref()
                .is_none_or(|ops| ops.iter().any(|o| o == operation));
            let share = s.throttle_share;
            (applies && s.roll(share)).then_some(s.throttle_kind)
        })
    }

    pub(crate) fn roll_http_500(&self) -> bool {
        self.with(|s| {
            let share = s.http_500_share;
            s.roll(share)
        })
    }

    pub(crate) fn roll_s3_get_failure(&self) -> bool {
        self.with(|s| {
            let share = s.s3_get_failure_share;
            s.roll(share)
        })
    }

    pub(crate) fn roll_s3_truncate(&self) -> bool {
        self.with(|s| {
            let share = s.s3_truncate_share;
            s.roll(share)
        })
    }

    pub(crate) fn slow_query(&self) -> Duration {
        self.with(|s| s.slow_query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_shares_are_deterministic_and_close_to_the_share() {
        let a = Faults::default();
        a.set_seed(7);
        a.http_500(0.3);
        let first: Vec<bool> = (0..1000).map(|_| a.roll_http_500()).collect();
        a.set_seed(7);
        let second: Vec<bool> = (0..1000).map(|_| a.roll_http_500()).collect();
        assert_eq!(first, second);
        let hits = first.iter().filter(|h| **h).count();
        assert!((230..370).contains(&hits), "{hits}");
        a.clear();
        assert!(!(0..100).any(|_| a.roll_http_500()));
    }

    #[test]
    fn throttle_can_target_operations() {
        let f = Faults::default();
        f.throttle(1.0, ThrottleKind::TooManyRequests);
        f.throttle_only(&["StartQueryExecution"]);
        assert_eq!(
            f.roll_throttle("StartQueryExecution"),
            Some(ThrottleKind::TooManyRequests)
        );
        assert_eq!(f.roll_throttle("GetQueryExecution"), None);
        f.throttle(f64::NAN, ThrottleKind::Throttling);
        assert_eq!(f.roll_throttle("StartQueryExecution"), None);
    }
}
