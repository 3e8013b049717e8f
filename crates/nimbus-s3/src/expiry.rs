//! Lifecycle expiration: which versions, delete markers and multipart uploads a
//! bucket's rules have made due, and the background task that expires them the way
//! S3's lifecycle does (a delete marker on a versioned bucket, a removal otherwise).
//!
//! A lifecycle "day" lasts 86,400 s; `NIMBUS_S3_LIFECYCLE_DAY_SECONDS` shortens it
//! (tests use 1). Like S3, a due time is rounded up to the next day boundary
//! (midnight UTC with real days).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Weak;
use std::time::Duration;

use crate::config::Versioning;
use crate::lifecycle::Rule;
use crate::notify::ReqInfo;
use crate::ops_config::EventCtx;
use crate::provider::{now_ms, State, Upload};
use crate::versioning::DeleteCause;
use crate::storage_class;
use crate::versions::{KeyVersions, Version};

/// Environment variable: the length of a lifecycle day in seconds (default 86400).
pub const DAY_SECONDS_ENV: &str = "NIMBUS_S3_LIFECYCLE_DAY_SECONDS";
const REAL_DAY_MS: u64 = 86_400_000;

/// The configured length of a lifecycle day, in milliseconds.
pub fn day_ms_from_env() -> u64 {
    match std::env::var(DAY_SECONDS_ENV).ok().map(|v| v.trim().parse::<f64>()) {
        None => REAL_DAY_MS,
        Some(Ok(s)) if s.is_finite() && s > 0.0 => ((s * 1000.0) as u64).max(1),
        Some(_) => {
            tracing::warn!("{DAY_SECONDS_ENV} must be a positive number of seconds; using 86400");
            REAL_DAY_MS
        }
    }
}

/// When `days` counted from `since_ms` have passed, rounded up to the next day boundary.
pub fn due_at(since_ms: u64, days: i32, day_ms: u64) -> u64 {
    let day_ms = day_ms.max(1);
    let t = since_ms.saturating_add((days.max(0) as u64).saturating_mul(day_ms));
    t.div_ceil(day_ms).saturating_mul(day_ms)
}

/// One thing the lifecycle does.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    /// The current version expires, as by a DELETE without a version id.
    ExpireCurrent { key: String, version_id: String },
    /// A noncurrent version, or a delete marker left alone, is removed for good.
    RemoveVersion { key: String, version_id: String },
    AbortUpload { upload_id: String },
    /// A version moves to a storage class further down S3's waterfall.
    Transition { key: String, version_id: String, class: String },
}

/// The class the due transitions of `rules` move a version (of `size`, in class
/// `current`) to: the furthest down, if further than where it is.
fn transition_target(rules: &[&Rule], size: u64, current: &str, min_size: Option<&str>, due: impl Fn(&Rule) -> Vec<String>) -> Option<String> {
    let mut best: Option<String> = None;
    for &r in rules {
        // A rule with its own size filter replaces the default minimum size.
        let sized = r.filter.as_ref().is_some_and(|f| {
            f.size_greater_than.is_some() || f.size_less_than.is_some() || f.and.as_ref().is_some_and(|a| a.size_greater_than.is_some() || a.size_less_than.is_some())
        });
        for class in due(r) {
            if !sized && storage_class::too_small_to_transition(size, &class, min_size) {
                continue;
            }
            if best.as_deref().is_none_or(|b| storage_class::rank(&class) > storage_class::rank(b)) {
                best = Some(class);
            }
        }
    }
    best.filter(|b| storage_class::rank(b) > storage_class::rank(current))
}

/// The transitions a bucket's enabled rules make due at `now_ms` (versions that
/// expire now are left to expire).
pub fn due_transitions(
    rules: &[Rule],
    versioning: Option<Versioning>,
    keys: &BTreeMap<String, KeyVersions>,
    min_size: Option<&str>,
    now_ms: u64,
    day_ms: u64,
) -> Vec<Action> {
    let rules: Vec<&Rule> = rules.iter().filter(|r| r.enabled && (!r.transitions.is_empty() || !r.noncurrent_transitions.is_empty())).collect();
    let mut out = Vec::new();
    if rules.is_empty() {
        return out;
    }
    for (key, versions) in keys {
        let all: Vec<&Version> = versions.iter().collect();
        for (i, v) in all.iter().enumerate() {
            let Version::Object(o) = v else { continue };
            let matching: Vec<&Rule> = rules.iter().copied().filter(|r| r.matches(key, o.size, &o.headers.tags)).collect();
            let current = storage_class::of(&o.headers);
            let target = if i == 0 {
                transition_target(&matching, o.size, current, min_size, |r| {
                    r.transitions
                        .iter()
                        .filter(|t| match (t.days, t.date) {
                            (Some(days), _) => now_ms >= due_at(o.modified, days, day_ms),
                            (None, Some(date)) => now_ms as i64 >= date.saturating_mul(1000),
                            _ => false,
                        })
                        .filter_map(|t| t.storage_class.clone())
                        .collect()
                })
            } else if versioning.is_some() {
                // Noncurrent since its successor was written.
                let since = all[i - 1].modified();
                let rank = i; // 1 = the newest noncurrent version
                transition_target(&matching, o.size, current, min_size, |r| {
                    r.noncurrent_transitions
                        .iter()
                        .filter(|t| !t.newer_noncurrent_versions.is_some_and(|keep| rank <= keep.max(0) as usize))
                        .filter(|t| t.noncurrent_days.is_some_and(|days| now_ms >= due_at(since, days, day_ms)))
                        .filter_map(|t| t.storage_class.clone())
                        .collect()
                })
            } else {
                None
            };
            if let Some(class) = target {
                out.push(Action::Transition { key: key.clone(), version_id: o.version_id.clone(), class });
            }
        }
    }
    out
}

/// What a bucket's enabled rules make due at `now_ms`.
pub fn due_actions(
    rules: &[Rule],
    versioning: Option<Versioning>,
    keys: &BTreeMap<String, KeyVersions>,
    uploads: &BTreeMap<String, Upload>,
    now_ms: u64,
    day_ms: u64,
) -> Vec<Action> {
    let rules: Vec<&Rule> = rules.iter().filter(|r| r.enabled).collect();
    let mut out = BTreeSet::new();
    for (key, versions) in keys {
        match versions.latest() {
            Some(Version::Object(current)) => {
                let expired = rules.iter().filter(|r| r.matches(key, current.size, &current.headers.tags)).any(|r| {
                    r.expiration.as_ref().is_some_and(|e| match (e.days, e.date) {
                        (Some(days), _) => now_ms >= due_at(current.modified, days, day_ms),
                        (None, Some(date)) => now_ms as i64 >= date.saturating_mul(1000),
                        _ => false,
                    })
                });
                if expired {
                    out.insert(Action::ExpireCurrent { key: key.clone(), version_id: current.version_id.clone() });
                }
            }
            // A delete marker with no versions behind it is "expired": it hides nothing.
            Some(Version::DeleteMarker(marker)) if versions.iter().count() == 1 => {
                let cleanup = rules.iter().any(|r| {
                    r.matches(key, 0, &[]) && r.expiration.as_ref().is_some_and(|e| e.expired_object_delete_marker == Some(true))
                });
                if cleanup {
                    out.insert(Action::RemoveVersion { key: key.clone(), version_id: marker.version_id.clone() });
                }
            }
            _ => {}
        }
        if versioning.is_none() {
            continue;
        }
        // Noncurrent versions: one became noncurrent when the next newer one was written.
        let all: Vec<&Version> = versions.iter().collect();
        for (i, pair) in all.windows(2).enumerate() {
            let (successor, version) = (pair[0], pair[1]);
            let Version::Object(o) = version else { continue };
            let rank = i + 1;
            let expired = rules.iter().filter(|r| r.matches(key, o.size, &o.headers.tags)).any(|r| {
                r.noncurrent_expiration.as_ref().is_some_and(|n| {
                    let kept = n.newer_noncurrent_versions.is_some_and(|keep| rank <= keep.max(0) as usize);
                    let due = n.noncurrent_days.is_some_and(|days| now_ms >= due_at(successor.modified(), days, day_ms));
                    due && !kept
                })
            });
            if expired {
                out.insert(Action::RemoveVersion { key: key.clone(), version_id: o.version_id.clone() });
            }
        }
    }
    for (id, u) in uploads {
        let abort = rules.iter().any(|r| {
            r.aborts_uploads()
                && u.key.starts_with(r.key_prefix())
                && r.abort_incomplete_upload_days.is_some_and(|days| now_ms >= due_at(u.initiated, days, day_ms))
        });
        if abort {
            out.insert(Action::AbortUpload { upload_id: id.clone() });
        }
    }
    out.into_iter().collect()
}

impl State {
    /// Applies every bucket's lifecycle rules once.
    pub(crate) async fn apply_lifecycle(&self, now_ms: u64, day_ms: u64) {
        let work: Vec<(String, Vec<Action>)> = {
            let buckets = self.buckets.read();
            buckets
                .iter()
                .filter_map(|(name, b)| {
                    let rules = b.config.lifecycle.as_deref().filter(|r| !r.is_empty())?;
                    let mut actions = due_actions(rules, b.config.versioning, &b.objects, &b.uploads, now_ms, day_ms);
                    let min_size = b.config.lifecycle_min_size.as_deref();
                    let transitions = due_transitions(rules, b.config.versioning, &b.objects, min_size, now_ms, day_ms);
                    let expiring: BTreeSet<(&str, &str)> = actions
                        .iter()
                        .filter_map(|a| match a {
                            Action::ExpireCurrent { key, version_id } | Action::RemoveVersion { key, version_id } => Some((key.as_str(), version_id.as_str())),
                            _ => None,
                        })
                        .collect();
                    let transitions: Vec<Action> = transitions
                        .into_iter()
                        .filter(|t| !matches!(t, Action::Transition { key, version_id, .. } if expiring.contains(&(key.as_str(), version_id.as_str()))))
                        .collect();
                    actions.extend(transitions);
                    (!actions.is_empty()).then(|| (name.clone(), actions))
                })
                .collect()
        };
        // Lifecycle events are reported as done by S3 itself.
        let info = ReqInfo { source_ip: "s3.amazonaws.com".into(), ..ReqInfo::new(None) };
        let ctx = EventCtx { info, principal: "s3.amazonaws.com".into() };
        let cause = DeleteCause::Lifecycle { day_ms };
        for (bucket, actions) in work {
            for action in actions {
                let result = match &action {
                    Action::ExpireCurrent { key, version_id } => {
                        // Only if nothing newer was written since the scan.
                        match self.lookup(&bucket, key, None) {
                            Ok(found) if found.meta.version_id == *version_id => {
                                self.delete_version(&ctx, &bucket, key, None, cause).await.map(|_| ())
                            }
                            _ => Ok(()),
                        }
                    }
                    Action::RemoveVersion { key, version_id } => {
                        self.delete_version(&ctx, &bucket, key, Some(version_id), cause).await.map(|_| ())
                    }
                    Action::AbortUpload { upload_id } => self.abort_upload(&bucket, upload_id).await,
                    Action::Transition { key, version_id, class } => self.transition_version(&ctx, &bucket, key, version_id, class).await,
                };
                if let Err(e) = result {
                    tracing::warn!(%bucket, ?action, error = %e, "S3 lifecycle action failed");
                }
            }
        }
    }
}

/// Runs the lifecycle every quarter day (at most every minute) while `state` lives.
pub fn start_sweeper(state: Weak<State>, day_ms: u64) {
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        tracing::warn!("S3 lifecycle disabled: no async runtime");
        return;
    };
    let period = Duration::from_millis((day_ms / 4).clamp(100, 60_000));
    handle.spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(state) = state.upgrade() else { return };
            state.apply_lifecycle(now_ms(), day_ms).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::{Expiration, Filter, NoncurrentExpiration};
    use crate::persist::ObjHeaders;
    use crate::provider::ObjMeta;
    use crate::versions::DeleteMarker;
    use std::sync::Arc;

    const DAY: u64 = 1000;

    fn obj(id: &str, seq: u64, modified: u64) -> Version {
        Version::Object(Arc::new(ObjMeta {
            size: 5,
            etag: "e".into(),
            modified,
            file: "f".into(),
            headers: ObjHeaders::default(),
            version_id: id.into(),
            seq,
        }))
    }

    fn rule(prefix: &str) -> Rule {
        Rule { enabled: true, filter: Some(Filter { prefix: Some(prefix.into()), ..Default::default() }), ..Default::default() }
    }

    #[test]
    fn due_times_round_up_to_the_next_day() {
        assert_eq!(due_at(0, 1, DAY), 1000);
        assert_eq!(due_at(1, 1, DAY), 2000);
        assert_eq!(due_at(999, 1, DAY), 2000);
        assert_eq!(due_at(10 * 3_600_000, 1, REAL_DAY_MS), 2 * REAL_DAY_MS);
    }

    #[test]
    fn current_versions_expire_after_days_or_on_a_date() {
        let mut keys: BTreeMap<String, KeyVersions> = BTreeMap::new();
        keys.entry("logs/a".into()).or_default().put(obj("null", 1, 500));
        keys.entry("keep/b".into()).or_default().put(obj("null", 2, 500));
        let days = Rule { expiration: Some(Expiration { days: Some(2), ..Default::default() }), ..rule("logs/") };
        let none = BTreeMap::new();
        assert!(due_actions(std::slice::from_ref(&days), None, &keys, &none, 2999, DAY).is_empty());
        assert_eq!(
            due_actions(std::slice::from_ref(&days), None, &keys, &none, 3000, DAY),
            [Action::ExpireCurrent { key: "logs/a".into(), version_id: "null".into() }]
        );
        let disabled = Rule { enabled: false, ..days.clone() };
        assert!(due_actions(&[disabled], None, &keys, &none, 10_000, DAY).is_empty());
        let date = Rule { expiration: Some(Expiration { date: Some(5), ..Default::default() }), ..rule("") };
        assert!(due_actions(std::slice::from_ref(&date), None, &keys, &none, 4999, DAY).is_empty());
        assert_eq!(due_actions(&[date], None, &keys, &none, 5000, DAY).len(), 2);
    }

    #[test]
    fn noncurrent_versions_and_lone_delete_markers() {
        let mut keys: BTreeMap<String, KeyVersions> = BTreeMap::new();
        let k = keys.entry("k".into()).or_default();
        k.put(obj("v1", 1, 0));
        k.put(obj("v2", 2, 1000)); // v1 noncurrent since 1000
        k.put(obj("v3", 3, 3000)); // v2 noncurrent since 3000
        keys.entry("gone".into()).or_default().put(Version::DeleteMarker(Arc::new(DeleteMarker { version_id: "m".into(), seq: 4, modified: 0 })));
        let none = BTreeMap::new();
        let nc = Rule { noncurrent_expiration: Some(NoncurrentExpiration { noncurrent_days: Some(1), newer_noncurrent_versions: None }), ..rule("") };
        let v = Some(Versioning::Enabled);
        assert_eq!(due_actions(std::slice::from_ref(&nc), v, &keys, &none, 2000, DAY), [Action::RemoveVersion { key: "k".into(), version_id: "v1".into() }]);
        assert_eq!(due_actions(std::slice::from_ref(&nc), v, &keys, &none, 4000, DAY).len(), 2);
        // Keeping the newest noncurrent version spares v2.
        let keep_one = Rule { noncurrent_expiration: Some(NoncurrentExpiration { noncurrent_days: Some(1), newer_noncurrent_versions: Some(1) }), ..rule("") };
        assert_eq!(due_actions(&[keep_one], v, &keys, &none, 9000, DAY), [Action::RemoveVersion { key: "k".into(), version_id: "v1".into() }]);
        let markers = Rule { expiration: Some(Expiration { expired_object_delete_marker: Some(true), ..Default::default() }), ..rule("") };
        assert_eq!(due_actions(&[markers], v, &keys, &none, 0, DAY), [Action::RemoveVersion { key: "gone".into(), version_id: "m".into() }]);
    }

    fn sized(id: &str, seq: u64, modified: u64, size: u64) -> Version {
        match obj(id, seq, modified) {
            Version::Object(o) => Version::Object(Arc::new(ObjMeta { size, ..(*o).clone() })),
            v => v,
        }
    }

    #[test]
    fn transitions_move_versions_down_the_waterfall() {
        use crate::lifecycle::{NoncurrentTransition, Transition};
        let big = storage_class::TRANSITION_MIN_SIZE;
        let mut keys: BTreeMap<String, KeyVersions> = BTreeMap::new();
        keys.entry("a".into()).or_default().put(sized("null", 1, 0, big));
        keys.entry("small".into()).or_default().put(sized("null", 2, 0, 10));
        let t = |days: i32, class: &str| Transition { days: Some(days), date: None, storage_class: Some(class.into()) };
        let r = Rule { transitions: vec![t(30, "STANDARD_IA"), t(60, "GLACIER")], ..rule("") };
        let due = |now: u64, min: Option<&str>| due_transitions(std::slice::from_ref(&r), None, &keys, min, now, DAY);
        assert!(due(29_999, None).is_empty());
        assert_eq!(due(30_000, None), [Action::Transition { key: "a".into(), version_id: "null".into(), class: "STANDARD_IA".into() }]);
        assert_eq!(due(60_000, None), [Action::Transition { key: "a".into(), version_id: "null".into(), class: "GLACIER".into() }]);
        // Small objects go to GLACIER only when the bucket allows it.
        assert_eq!(due(60_000, Some("varies_by_storage_class")).len(), 2);
        // Nothing moves back up.
        let mut deep = keys.clone();
        let headers = ObjHeaders { storage_class: Some("DEEP_ARCHIVE".into()), ..Default::default() };
        deep.insert("a".into(), KeyVersions::default());
        if let (Some(k), Version::Object(o)) = (deep.get_mut("a"), sized("null", 1, 0, big)) {
            k.put(Version::Object(Arc::new(ObjMeta { headers, ..(*o).clone() })));
        }
        assert!(due_transitions(std::slice::from_ref(&r), None, &deep, None, 90_000, DAY).is_empty());
        // Noncurrent versions, counted from when they became noncurrent.
        let mut keys: BTreeMap<String, KeyVersions> = BTreeMap::new();
        let k = keys.entry("k".into()).or_default();
        k.put(sized("v1", 1, 0, big));
        k.put(sized("v2", 2, 5000, big));
        let nc = Rule {
            noncurrent_transitions: vec![NoncurrentTransition { noncurrent_days: Some(1), newer_noncurrent_versions: None, storage_class: Some("GLACIER".into()) }],
            ..rule("")
        };
        let v = Some(Versioning::Enabled);
        assert!(due_transitions(std::slice::from_ref(&nc), v, &keys, None, 5999, DAY).is_empty());
        assert_eq!(
            due_transitions(std::slice::from_ref(&nc), v, &keys, None, 6000, DAY),
            [Action::Transition { key: "k".into(), version_id: "v1".into(), class: "GLACIER".into() }]
        );
        assert!(due_transitions(&[nc], None, &keys, None, 6000, DAY).is_empty());
    }

    #[test]
    fn incomplete_uploads_abort() {
        let mut uploads = BTreeMap::new();
        uploads.insert("u1".to_string(), Upload { key: "tmp/x".into(), initiated: 0, headers: ObjHeaders::default(), parts: BTreeMap::new() });
        uploads.insert("u2".to_string(), Upload { key: "data/x".into(), initiated: 0, headers: ObjHeaders::default(), parts: BTreeMap::new() });
        let r = Rule { abort_incomplete_upload_days: Some(1), ..rule("tmp/") };
        assert_eq!(due_actions(&[r], None, &BTreeMap::new(), &uploads, 1000, DAY), [Action::AbortUpload { upload_id: "u1".into() }]);
    }
}
