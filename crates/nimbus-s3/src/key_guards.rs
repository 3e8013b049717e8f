//! Conditional writes are atomic: "If multiple conditional writes occur for the same
//! object name, the first write operation to finish succeeds" and the others fail
//! (S3 user guide, "How to prevent object overwrites with conditional writes"). A write
//! with If-Match / If-None-Match holds its key's guard from the last check of its
//! condition until the new version is visible, so two such writes cannot both pass.
//!
//! Writes without a condition take no guard (and pay nothing).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use tokio::sync::{Mutex, MutexGuard};

/// Keys share guards by hash; distinct keys rarely wait on each other.
const STRIPES: usize = 64;

pub(crate) struct KeyGuards(Vec<Mutex<()>>);

impl Default for KeyGuards {
    fn default() -> Self {
        KeyGuards((0..STRIPES).map(|_| Mutex::new(())).collect())
    }
}

impl KeyGuards {
    /// The guard of `bucket`/`key`, waited for.
    pub async fn lock(&self, bucket: &str, key: &str) -> MutexGuard<'_, ()> {
        let mut h = DefaultHasher::new();
        (bucket, key).hash(&mut h);
        self.0[(h.finish() as usize) % STRIPES].lock().await
    }

    /// The guard when the write is conditional, else None.
    pub async fn lock_if(&self, conditional: bool, bucket: &str, key: &str) -> Option<MutexGuard<'_, ()>> {
        match conditional {
            true => Some(self.lock(bucket, key).await),
            false => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_key_one_holder() {
        let g = KeyGuards::default();
        let held = g.lock("b", "k").await;
        assert!(tokio::time::timeout(std::time::Duration::from_millis(20), g.lock("b", "k")).await.is_err());
        drop(held);
        assert!(g.lock_if(true, "b", "k").await.is_some());
        assert!(g.lock_if(false, "b", "k").await.is_none());
    }
}
