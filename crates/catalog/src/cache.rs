//! A keyed cache with a time to live, where concurrent loads of one key share one request.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

/// A source of time, injected so that tests can move it by hand.
pub trait Clock: fmt::Debug + Send + Sync {
    /// The current instant.
    fn now(&self) -> Instant;
}

/// The real monotonic clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that only moves when told to (for tests).
#[derive(Debug)]
pub struct ManualClock {
    base: Instant,
    offset: Mutex<Duration>,
}

impl ManualClock {
    /// A clock standing at the moment it is created.
    pub fn new() -> Self {
        Self {
            base: Instant::now(),
            offset: Mutex::new(Duration::ZERO),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        if let Ok(mut offset) = self.offset.lock() {
            *offset += by;
        }
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.base + self.offset.lock().map(|o| *o).unwrap_or_default()
    }
}

/// When cached metadata expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ttl {
    /// Never: metadata is loaded once per registration (until refreshed by hand).
    Forever,
    /// After this long.
    After(Duration),
}

impl Ttl {
    fn expired(self, loaded: Instant, now: Instant) -> bool {
        match self {
            Ttl::Forever => false,
            Ttl::After(ttl) => now.saturating_duration_since(loaded) >= ttl,
        }
    }
}

impl Default for Ttl {
    /// Five minutes.
    fn default() -> Self {
        Ttl::After(Duration::from_secs(300))
    }
}

/// One key's value (once loaded) and when it was loaded.
type Slot<V> = Arc<OnceCell<(V, Instant)>>;

/// A cache from names to values with a time to live. A value is loaded by the first caller
/// that misses; callers arriving while it loads wait for that same load (single flight).
/// A failed load leaves the key empty, so the next caller tries again.
pub(crate) struct TtlCache<V> {
    ttl: Ttl,
    clock: Arc<dyn Clock>,
    slots: Mutex<HashMap<String, Slot<V>>>,
}

impl<V> fmt::Debug for TtlCache<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let len = self.slots.lock().map(|s| s.len()).unwrap_or_default();
        f.debug_struct("TtlCache")
            .field("ttl", &self.ttl)
            .field("entries", &len)
            .finish()
    }
}

impl<V: Clone + Send + Sync> TtlCache<V> {
    pub(crate) fn new(ttl: Ttl, clock: Arc<dyn Clock>) -> Self {
        Self {
            ttl,
            clock,
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Slot<V>>> {
        // A poisoned map only means another thread panicked mid-insert; the map is still valid.
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The slot for `key`: the current one unless it holds an expired value.
    fn slot(&self, key: &str) -> Slot<V> {
        let now = self.clock.now();
        let mut slots = self.lock();
        if let Some(slot) = slots.get(key) {
            match slot.get() {
                Some((_, at)) if self.ttl.expired(*at, now) => {}
                _ => return Arc::clone(slot),
            }
        }
        let slot: Slot<V> = Arc::new(OnceCell::new());
        slots.insert(key.to_string(), Arc::clone(&slot));
        slot
    }

    /// The cached value of `key`, loading it with `load` when missing or expired.
    pub(crate) async fn get_or_load<E, F, Fut>(&self, key: &str, load: F) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let slot = self.slot(key);
        let clock = Arc::clone(&self.clock);
        let (value, _) = slot
            .get_or_try_init(|| async move {
                let value = load().await?;
                Ok::<_, E>((value, clock.now()))
            })
            .await?;
        Ok(value.clone())
    }

    /// Stores a value loaded elsewhere (e.g. from a listing page), replacing any other.
    pub(crate) fn insert(&self, key: &str, value: V) {
        let slot = Arc::new(OnceCell::new_with(Some((value, self.clock.now()))));
        self.lock().insert(key.to_string(), slot);
    }

    /// The value of `key` if loaded, and whether it is still fresh.
    pub(crate) fn peek(&self, key: &str) -> Option<(V, bool)> {
        let now = self.clock.now();
        let slots = self.lock();
        let (value, at) = slots.get(key)?.get()?;
        Some((value.clone(), !self.ttl.expired(*at, now)))
    }

    /// Forgets `key`.
    pub(crate) fn invalidate(&self, key: &str) {
        self.lock().remove(key);
    }

    /// Forgets everything.
    pub(crate) fn clear(&self) {
        self.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn cache(ttl: Ttl) -> (TtlCache<u32>, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new());
        (
            TtlCache::new(ttl, Arc::clone(&clock) as Arc<dyn Clock>),
            clock,
        )
    }

    async fn load(counter: &AtomicUsize) -> Result<u32, String> {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        Ok(u32::try_from(n).unwrap_or(u32::MAX) + 100)
    }

    #[tokio::test]
    async fn a_value_is_loaded_once_until_it_expires() {
        let (cache, clock) = cache(Ttl::After(Duration::from_secs(60)));
        let calls = AtomicUsize::new(0);
        assert_eq!(cache.get_or_load("t", || load(&calls)).await, Ok(100));
        clock.advance(Duration::from_secs(59));
        assert_eq!(cache.get_or_load("t", || load(&calls)).await, Ok(100));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(cache.peek("t"), Some((100, true)));
        clock.advance(Duration::from_secs(1));
        assert_eq!(cache.peek("t"), Some((100, false)));
        assert_eq!(cache.get_or_load("t", || load(&calls)).await, Ok(101));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn forever_never_expires() {
        let (cache, clock) = cache(Ttl::Forever);
        let calls = AtomicUsize::new(0);
        cache.get_or_load("t", || load(&calls)).await.ok();
        clock.advance(Duration::from_secs(10 * 365 * 24 * 3600));
        assert_eq!(cache.get_or_load("t", || load(&calls)).await, Ok(100));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn concurrent_loads_of_one_key_share_one_request() {
        let (cache, _clock) = cache(Ttl::default());
        let calls = AtomicUsize::new(0);
        let gate = tokio::sync::Notify::new();
        let slow = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            gate.notified().await;
            Ok::<_, String>(7)
        };
        let waiters = futures::future::join_all((0..8).map(|_| cache.get_or_load("t", slow)));
        let release = async {
            // Let every waiter reach the cell before the one load finishes.
            for _ in 0..10 {
                tokio::task::yield_now().await;
            }
            gate.notify_waiters();
        };
        let (results, ()) = tokio::join!(waiters, release);
        assert_eq!(results, vec![Ok(7); 8]);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_load_is_retried_by_the_next_caller() {
        let (cache, _clock) = cache(Ttl::default());
        let r: Result<u32, String> = cache
            .get_or_load("t", || async { Err("boom".to_string()) })
            .await;
        assert_eq!(r, Err("boom".to_string()));
        assert_eq!(
            cache
                .get_or_load("t", || async { Ok::<_, String>(3) })
                .await,
            Ok(3)
        );
    }

    #[tokio::test]
    async fn inserted_values_are_served_and_can_be_invalidated() {
        let (cache, _clock) = cache(Ttl::default());
        cache.insert("a", 1);
        let calls = AtomicUsize::new(0);
        assert_eq!(cache.get_or_load("a", || load(&calls)).await, Ok(1));
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        cache.invalidate("a");
        assert_eq!(cache.peek("a"), None);
        cache.insert("b", 2);
        cache.clear();
        assert_eq!(cache.peek("b"), None);
    }
}
