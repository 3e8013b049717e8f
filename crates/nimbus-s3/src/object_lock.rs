//! S3 Object Lock and MFA delete.
//!
//! A bucket has Object Lock when it was created with `x-amz-bucket-object-lock-enabled`
//! or got a lock configuration later (AWS now allows that on a versioning-enabled
//! bucket); it then stays versioning-enabled. Each object version may carry a
//! retention (GOVERNANCE or COMPLIANCE until a date) and a legal hold; while either
//! is in force the version cannot be deleted for good (a DELETE without a version id
//! still just adds a delete marker). GOVERNANCE gives way to
//! `x-amz-bypass-governance-retention: true` from a caller allowed
//! s3:BypassGovernanceRetention (checked with the rest of the access decision, in
//! `State::authorize`); COMPLIANCE and legal holds never do.
//!
//! MFA delete: once a bucket's versioning configuration has MFADelete Enabled,
//! deleting a version for good and changing the versioning state need the
//! `x-amz-mfa: <serial> <code>` header. nimbus has no MFA devices and cannot check
//! codes: any well-formed "serial code" pair is accepted. (AWS also requires HTTPS
//! for requests carrying `x-amz-mfa`; nimbus serves plain HTTP and does not.)

use s3s::dto::{self as dto, Timestamp};
use s3s::{s3_error, S3Error, S3ErrorCode, S3Result};
use serde::{Deserialize, Serialize};

use crate::config::{BucketConfig, Versioning};
use crate::persist::ObjHeaders;
use crate::provider::{now_ms, ts_exact, State};
use crate::versions::Version;

const DAY_MS: u64 = 86_400_000;

/// A retention mode.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum Mode {
    Governance,
    Compliance,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Governance => "GOVERNANCE",
            Mode::Compliance => "COMPLIANCE",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "GOVERNANCE" => Some(Mode::Governance),
            "COMPLIANCE" => Some(Mode::Compliance),
            _ => None,
        }
    }
}

/// A bucket's Object Lock configuration (its presence means ObjectLockEnabled).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LockConfig {
    /// The default retention new versions get.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<DefaultRetention>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct DefaultRetention {
    pub mode: Mode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub years: Option<i32>,
}

impl DefaultRetention {
    /// The retention a version created at `created_ms` gets.
    pub fn retention_from(&self, created_ms: u64) -> Retention {
        let until_ms = match (self.days, self.years) {
            (Some(d), _) => created_ms.saturating_add(d.max(0) as u64 * DAY_MS),
            (None, Some(y)) => add_years(created_ms, y.max(0)),
            (None, None) => created_ms,
        };
        Retention { mode: self.mode, until_ms }
    }
}

/// `ms` plus `years` calendar years (29 February lands on 28 February).
fn add_years(ms: u64, years: i32) -> u64 {
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000) else { return ms };
    let year = t.year().saturating_add(years);
    let moved = t.replace_year(year).or_else(|_| t.replace_day(28).and_then(|t| t.replace_year(year)));
    match moved {
        Ok(m) => (m.unix_timestamp_nanos() / 1_000_000).max(0) as u64,
        Err(_) => ms.saturating_add(years as u64 * 365 * DAY_MS),
    }
}

/// One version's retention.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Retention {
    pub mode: Mode,
    /// Unix milliseconds.
    pub until_ms: u64,
}

impl Retention {
    pub fn in_force(&self, now_ms: u64) -> bool {
        self.until_ms > now_ms
    }
}

fn ms_of(t: &Timestamp) -> i128 {
    time::OffsetDateTime::from(t.clone()).unix_timestamp_nanos() / 1_000_000
}

pub fn access_denied_by_lock() -> S3Error {
    s3_error!(AccessDenied, "Access Denied because object protected by object lock.")
}

fn access_denied() -> S3Error {
    s3_error!(AccessDenied, "Access Denied")
}

fn mfa_required() -> S3Error {
    s3_error!(AccessDenied, "Mfa Authentication must be used for this request")
}

fn missing_lock_config() -> S3Error {
    s3_error!(InvalidRequest, "Bucket is missing Object Lock Configuration")
}

fn malformed() -> S3Error {
    s3_error!(MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema")
}

fn integrity_required() -> S3Error {
    s3_error!(
        InvalidRequest,
        "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters"
    )
}

fn invalid_bucket_state(msg: &str) -> S3Error {
    S3Error::with_message(S3ErrorCode::InvalidBucketState, msg.to_string())
}

fn no_object_lock_config() -> S3Error {
    s3_error!(NoSuchObjectLockConfiguration, "The specified object does not have a ObjectLock configuration")
}

/// Is `h` a well-formed `x-amz-mfa` value: a device serial, one space, a code?
/// (nimbus cannot verify the code; any well-formed pair passes.)
pub fn mfa_well_formed(h: Option<&str>) -> bool {
    let Some(h) = h else { return false };
    let mut parts = h.trim().split(' ');
    matches!((parts.next(), parts.next(), parts.next()), (Some(s), Some(c), None) if !s.is_empty() && !c.is_empty())
}

/// Is a version held by a legal hold or by retention not bypassed?
pub fn protects(h: &ObjHeaders, now_ms: u64, bypass_governance: bool) -> bool {
    if h.legal_hold == Some(true) {
        return true;
    }
    match h.retention {
        Some(r) if r.in_force(now_ms) => r.mode == Mode::Compliance || !bypass_governance,
        _ => false,
    }
}

/// Checks a PutObjectRetention change of `current` to `new` (None: remove).
pub fn check_retention_change(current: Option<Retention>, new: Option<Retention>, now_ms: u64, bypass: bool) -> S3Result<()> {
    let Some(cur) = current.filter(|c| c.in_force(now_ms)) else { return Ok(()) };
    let weakened = match new {
        None => true,
        Some(n) => n.until_ms < cur.until_ms || (cur.mode == Mode::Compliance && n.mode == Mode::Governance),
    };
    if !weakened {
        return Ok(());
    }
    match cur.mode {
        Mode::Compliance => Err(access_denied()),
        Mode::Governance if bypass => Ok(()),
        Mode::Governance => Err(access_denied()),
    }
}

/// The Object Lock settings a write requested, checked against its bucket.
#[derive(Debug, Default, Clone)]
pub struct NewLock {
    retention: Option<Retention>,
    legal_hold: Option<bool>,
    default: Option<DefaultRetention>,
}

impl NewLock {
    /// Stores the settings on a new version created at `now_ms`: the requested
    /// retention, else the bucket's default.
    pub fn apply(&self, h: &mut ObjHeaders, now_ms: u64) {
        h.retention = self.retention.or_else(|| self.default.map(|d| d.retention_from(now_ms)));
        h.legal_hold = self.legal_hold;
    }
}

/// Does the request carry Content-MD5 or an x-amz-checksum-* header (or trailer)?
fn has_integrity_header(headers: &http::HeaderMap) -> bool {
    headers.contains_key("content-md5")
        || headers.contains_key("x-amz-sdk-checksum-algorithm")
        || headers.keys().any(|k| k.as_str().starts_with("x-amz-checksum-"))
        || headers
            .get("x-amz-trailer")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.to_ascii_lowercase().contains("x-amz-checksum-"))
}

pub fn on_create_bucket(config: &mut BucketConfig, lock_enabled: Option<bool>) {
    if lock_enabled == Some(true) {
        config.versioning = Some(Versioning::Enabled);
        config.object_lock = Some(LockConfig::default());
    }
}

impl State {
    fn lock_config_of(&self, bucket: &str) -> S3Result<Option<LockConfig>> {
        self.with_config(bucket, |c| c.object_lock.clone())
    }

    /// Checks the Object Lock headers of a PutObject / CopyObject /
    /// CreateMultipartUpload; `put_headers` (PutObject only) are checked for the
    /// Content-MD5 or x-amz-checksum-* that AWS requires of Object Lock puts.
    pub(crate) fn requested_lock(
        &self,
        bucket: &str,
        mode: Option<&str>,
        until: Option<&Timestamp>,
        legal_hold: Option<&str>,
        put_headers: Option<&http::HeaderMap>,
    ) -> S3Result<NewLock> {
        let config = self.lock_config_of(bucket)?;
        let any = mode.is_some() || until.is_some() || legal_hold.is_some();
        let Some(config) = config else {
            if any {
                return Err(s3_error!(InvalidRequest, "Bucket is missing ObjectLockConfiguration"));
            }
            return Ok(NewLock::default());
        };
        let retention = match (mode, until) {
            (None, None) => None,
            (Some(m), Some(u)) => {
                let mode = Mode::parse(m).ok_or_else(|| s3_error!(InvalidArgument, "Unknown wormMode directive."))?;
                let until_ms = ms_of(u);
                if until_ms <= now_ms() as i128 {
                    return Err(s3_error!(InvalidArgument, "The retain until date must be in the future!"));
                }
                Some(Retention { mode, until_ms: until_ms.min(u64::MAX as i128) as u64 })
            }
            _ => {
                return Err(s3_error!(
                    InvalidArgument,
                    "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied"
                ))
            }
        };
        let legal_hold = match legal_hold {
            None => None,
            Some("ON") => Some(true),
            Some("OFF") => Some(false),
            Some(_) => return Err(s3_error!(InvalidArgument, "Legal Hold must be either of 'ON' or 'OFF'")),
        };
        if let Some(h) = put_headers {
            if (any || config.default.is_some()) && !has_integrity_header(h) {
                return Err(integrity_required());
            }
        }
        Ok(NewLock { retention, legal_hold, default: config.default })
    }

    /// UploadPart of an upload whose object gets Object Lock settings needs
    /// Content-MD5 or an x-amz-checksum-* header, as a PutObject would.
    pub(crate) fn check_part_integrity(&self, bucket: &str, upload_id: &str, headers: &http::HeaderMap) -> S3Result<()> {
        let locked = {
            let buckets = self.buckets.read();
            let u = buckets.get(bucket).and_then(|b| b.uploads.get(upload_id));
            u.is_some_and(|u| u.headers.retention.is_some() || u.headers.legal_hold.is_some())
        };
        if locked && !has_integrity_header(headers) {
            return Err(integrity_required());
        }
        Ok(())
    }

    /// Checks that a DeleteObject(s) may remove `version_id` for good: MFA delete's
    /// `x-amz-mfa`, then the version's legal hold and retention.
    pub(crate) fn check_version_delete(&self, bucket: &str, key: &str, version_id: Option<&str>, bypass: bool, mfa: Option<&str>) -> S3Result<()> {
        let buckets = self.buckets.read();
        let Some(b) = buckets.get(bucket) else { return Ok(()) };
        // Without a version id only an unversioned bucket deletes for good (and
        // MFA delete exists only on versioned buckets); with one, always.
        let Some(id) = version_id.or_else(|| b.config.versioning.is_none().then_some(crate::versions::NULL_VERSION)) else {
            return Ok(());
        };
        if b.config.mfa_delete == Some(true) && !mfa_well_formed(mfa) {
            return Err(mfa_required());
        }
        match b.objects.get(key).and_then(|k| k.find(id)) {
            Some(Version::Object(meta)) if protects(&meta.headers, now_ms(), bypass) => Err(access_denied_by_lock()),
            _ => Ok(()),
        }
    }

    /// Must lifecycle leave this version alone? (It never bypasses governance.)
    pub(crate) fn version_locked(&self, bucket: &str, key: &str, version_id: &str) -> bool {
        let buckets = self.buckets.read();
        let found = buckets.get(bucket).and_then(|b| b.objects.get(key)).and_then(|k| k.find(version_id));
        matches!(found, Some(Version::Object(meta)) if protects(&meta.headers, now_ms(), false))
    }

    /// PutBucketVersioning's Object Lock and MFA delete rules; returns the MFA delete
    /// state to store.
    pub(crate) fn check_versioning_change(&self, bucket: &str, status: Versioning, mfa_delete: Option<&str>, mfa: Option<&str>) -> S3Result<Option<bool>> {
        let (locked, current) = self.with_config(bucket, |c| (c.object_lock.is_some(), c.mfa_delete))?;
        if locked && status != Versioning::Enabled {
            return Err(invalid_bucket_state("An Object Lock configuration is present on this bucket, so the versioning state cannot be changed."));
        }
        let wanted = match mfa_delete {
            None => current,
            Some("Enabled") => Some(true),
            Some("Disabled") => Some(false),
            Some(_) => return Err(malformed()),
        };
        // Enabling MFA delete, or any change to a bucket that has it, needs x-amz-mfa.
        if (wanted == Some(true) || current == Some(true)) && !mfa_well_formed(mfa) {
            return Err(mfa_required());
        }
        Ok(wanted)
    }

    pub(crate) async fn put_object_lock_configuration(&self, input: dto::PutObjectLockConfigurationInput) -> S3Result<()> {
        let c = input.object_lock_configuration.ok_or_else(malformed)?;
        if c.object_lock_enabled.as_ref().map(|e| e.as_str()) != Some(dto::ObjectLockEnabled::ENABLED) {
            return Err(malformed());
        }
        let default = match c.rule {
            None => None,
            Some(rule) => {
                let d = rule.default_retention.ok_or_else(malformed)?;
                let mode = d.mode.as_ref().and_then(|m| Mode::parse(m.as_str())).ok_or_else(malformed)?;
                match (d.days, d.years) {
                    (Some(_), Some(_)) | (None, None) => return Err(malformed()),
                    (Some(n), None) | (None, Some(n)) if n <= 0 => {
                        return Err(s3_error!(InvalidArgument, "Default retention period must be a positive integer value."))
                    }
                    (Some(n), None) if n > 36500 => return Err(s3_error!(InvalidArgument, "Default retention period is too large.")),
                    (None, Some(n)) if n > 100 => return Err(s3_error!(InvalidArgument, "Default retention period is too large.")),
                    _ => {}
                }
                Some(DefaultRetention { mode, days: d.days, years: d.years })
            }
        };
        self.update_config(&input.bucket, move |cfg| {
            if cfg.object_lock.is_none() && cfg.versioning != Some(Versioning::Enabled) {
                return Err(invalid_bucket_state("Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration"));
            }
            cfg.object_lock = Some(LockConfig { default });
            Ok(())
        })
        .await
    }

    pub(crate) fn get_object_lock_configuration(&self, bucket: &str) -> S3Result<dto::ObjectLockConfiguration> {
        let config = self.lock_config_of(bucket)?.ok_or_else(|| {
            s3_error!(ObjectLockConfigurationNotFoundError, "Object Lock configuration does not exist for this bucket")
        })?;
        Ok(dto::ObjectLockConfiguration {
            object_lock_enabled: Some(dto::ObjectLockEnabled::from(dto::ObjectLockEnabled::ENABLED.to_string())),
            rule: config.default.map(|d| dto::ObjectLockRule {
                default_retention: Some(dto::DefaultRetention {
                    days: d.days,
                    years: d.years,
                    mode: Some(dto::ObjectLockRetentionMode::from(d.mode.as_str().to_string())),
                }),
            }),
        })
    }

    fn require_lock(&self, bucket: &str) -> S3Result<()> {
        match self.lock_config_of(bucket)? {
            Some(_) => Ok(()),
            None => Err(missing_lock_config()),
        }
    }

    /// Rewrites one version's lock settings; `change` decides from the current headers.
    async fn change_lock(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        change: impl Fn(&mut ObjHeaders) -> S3Result<()>,
    ) -> S3Result<Option<String>> {
        self.require_lock(bucket)?;
        let refused: parking_lot::Mutex<Option<S3Error>> = parking_lot::Mutex::new(None);
        let found = self
            .update_object_headers(bucket, key, version_id, |h| {
                let mut candidate = h.clone();
                match change(&mut candidate) {
                    Ok(()) => {
                        *refused.lock() = None;
                        *h = candidate;
                    }
                    Err(e) => *refused.lock() = Some(e),
                }
            })
            .await?;
        if let Some(e) = refused.lock().take() {
            return Err(e);
        }
        Ok(found.version_header())
    }

    pub(crate) async fn put_object_retention(&self, input: dto::PutObjectRetentionInput) -> S3Result<Option<String>> {
        let bypass = input.bypass_governance_retention.unwrap_or(false);
        // An empty <Retention/> removes the retention.
        let new = match input.retention {
            None => None,
            Some(r) => match (r.mode, r.retain_until_date) {
                (None, None) => None,
                (Some(m), Some(u)) => {
                    let mode = Mode::parse(m.as_str()).ok_or_else(malformed)?;
                    let until_ms = ms_of(&u);
                    if until_ms <= now_ms() as i128 {
                        return Err(s3_error!(InvalidArgument, "The retain until date must be in the future!"));
                    }
                    Some(Retention { mode, until_ms: until_ms.min(u64::MAX as i128) as u64 })
                }
                _ => return Err(malformed()),
            },
        };
        self.change_lock(&input.bucket, &input.key, input.version_id.as_deref(), |h| {
            check_retention_change(h.retention, new, now_ms(), bypass)?;
            h.retention = new;
            Ok(())
        })
        .await
    }

    pub(crate) fn get_object_retention(&self, bucket: &str, key: &str, version_id: Option<&str>) -> S3Result<dto::ObjectLockRetention> {
        self.require_lock(bucket)?;
        let found = self.lookup(bucket, key, version_id)?;
        let r = found.meta.headers.retention.ok_or_else(no_object_lock_config)?;
        Ok(dto::ObjectLockRetention {
            mode: Some(dto::ObjectLockRetentionMode::from(r.mode.as_str().to_string())),
            retain_until_date: Some(ts_exact(r.until_ms)),
        })
    }

    pub(crate) async fn put_object_legal_hold(&self, input: dto::PutObjectLegalHoldInput) -> S3Result<Option<String>> {
        let on = match input.legal_hold.and_then(|l| l.status).as_ref().map(|s| s.as_str()) {
            Some("ON") => true,
            Some("OFF") => false,
            _ => return Err(malformed()),
        };
        self.change_lock(&input.bucket, &input.key, input.version_id.as_deref(), |h| {
            h.legal_hold = Some(on);
            Ok(())
        })
        .await
    }

    pub(crate) fn get_object_legal_hold(&self, bucket: &str, key: &str, version_id: Option<&str>) -> S3Result<dto::ObjectLockLegalHold> {
        self.require_lock(bucket)?;
        let found = self.lookup(bucket, key, version_id)?;
        let on = found.meta.headers.legal_hold.ok_or_else(no_object_lock_config)?;
        Ok(dto::ObjectLockLegalHold { status: Some(legal_hold_status(on)) })
    }
}

fn legal_hold_status(on: bool) -> dto::ObjectLockLegalHoldStatus {
    dto::ObjectLockLegalHoldStatus::from(if on { "ON" } else { "OFF" }.to_string())
}

/// The x-amz-object-lock-* response headers of a GET/HEAD: (mode, retain until, legal hold).
pub fn response_headers(h: &ObjHeaders) -> (Option<dto::ObjectLockMode>, Option<Timestamp>, Option<dto::ObjectLockLegalHoldStatus>) {
    (
        h.retention.map(|r| dto::ObjectLockMode::from(r.mode.as_str().to_string())),
        h.retention.map(|r| ts_exact(r.until_ms)),
        h.legal_hold.map(legal_hold_status),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(mode: Mode, until_ms: u64) -> Option<Retention> {
        Some(Retention { mode, until_ms })
    }

    #[test]
    fn mfa_header_shape() {
        assert!(mfa_well_formed(Some("20899872 301749")));
        assert!(mfa_well_formed(Some("arn:aws:iam::123456789012:mfa/root 123456")));
        for bad in [None, Some(""), Some("20899872"), Some("a b c"), Some(" 123"), Some("a  b")] {
            assert!(!mfa_well_formed(bad), "{bad:?}");
        }
    }

    #[test]
    fn protection() {
        let now = 1_000;
        let mut h = ObjHeaders::default();
        assert!(!protects(&h, now, false));
        h.retention = r(Mode::Governance, 2_000);
        assert!(protects(&h, now, false));
        assert!(!protects(&h, now, true));
        assert!(!protects(&h, 2_000, false), "expired retention protects nothing");
        h.retention = r(Mode::Compliance, 2_000);
        assert!(protects(&h, now, true));
        h.retention = None;
        h.legal_hold = Some(true);
        assert!(protects(&h, now, true));
        h.legal_hold = Some(false);
        assert!(!protects(&h, now, false));
    }

    #[test]
    fn retention_changes() {
        let now = 1_000;
        let denied = |res: S3Result<()>| res.is_err_and(|e| *e.code() == S3ErrorCode::AccessDenied);
        // Compliance: only extended, never shortened, removed or turned governance.
        assert!(check_retention_change(r(Mode::Compliance, 5_000), r(Mode::Compliance, 6_000), now, false).is_ok());
        assert!(denied(check_retention_change(r(Mode::Compliance, 5_000), r(Mode::Compliance, 4_000), now, true)));
        assert!(denied(check_retention_change(r(Mode::Compliance, 5_000), r(Mode::Governance, 9_000), now, true)));
        assert!(denied(check_retention_change(r(Mode::Compliance, 5_000), None, now, true)));
        // Governance: extending or hardening is free; weakening needs the bypass.
        assert!(check_retention_change(r(Mode::Governance, 5_000), r(Mode::Governance, 6_000), now, false).is_ok());
        assert!(check_retention_change(r(Mode::Governance, 5_000), r(Mode::Compliance, 5_000), now, false).is_ok());
        assert!(denied(check_retention_change(r(Mode::Governance, 5_000), r(Mode::Governance, 2_000), now, false)));
        assert!(check_retention_change(r(Mode::Governance, 5_000), r(Mode::Governance, 2_000), now, true).is_ok());
        assert!(denied(check_retention_change(r(Mode::Governance, 5_000), None, now, false)));
        assert!(check_retention_change(r(Mode::Governance, 5_000), None, now, true).is_ok());
        // Expired retention or none: anything goes.
        assert!(check_retention_change(r(Mode::Compliance, 500), None, now, false).is_ok());
        assert!(check_retention_change(None, r(Mode::Governance, 2_000), now, false).is_ok());
    }

    #[test]
    fn default_retention_periods() {
        let d = DefaultRetention { mode: Mode::Governance, days: Some(2), years: None };
        assert_eq!(d.retention_from(1_000), Retention { mode: Mode::Governance, until_ms: 1_000 + 2 * DAY_MS });
        // 2024-02-29T00:00:00Z plus one year → 2025-02-28.
        let leap = 1_709_164_800_000;
        let y = DefaultRetention { mode: Mode::Compliance, days: None, years: Some(1) };
        assert_eq!(y.retention_from(leap).until_ms, leap + 365 * DAY_MS);
        // 2023-01-01 plus one year crosses no leap day; 2024-01-01 plus one does.
        assert_eq!(y.retention_from(1_672_531_200_000).until_ms, 1_672_531_200_000 + 365 * DAY_MS);
        assert_eq!(y.retention_from(1_704_067_200_000).until_ms, 1_704_067_200_000 + 366 * DAY_MS);
    }

    #[test]
    fn new_lock_applies_request_before_default() {
        let default = Some(DefaultRetention { mode: Mode::Governance, days: Some(1), years: None });
        let mut h = ObjHeaders::default();
        NewLock { retention: None, legal_hold: None, default }.apply(&mut h, 0);
        assert_eq!(h.retention, r(Mode::Governance, DAY_MS));
        NewLock { retention: r(Mode::Compliance, 7), legal_hold: Some(true), default }.apply(&mut h, 0);
        assert_eq!((h.retention, h.legal_hold), (r(Mode::Compliance, 7), Some(true)));
        NewLock::default().apply(&mut h, 0);
        assert_eq!((h.retention, h.legal_hold), (None, None));
    }

    #[test]
    fn integrity_headers() {
        let mut h = http::HeaderMap::new();
        assert!(!has_integrity_header(&h));
        h.insert("x-amz-checksum-crc32", http::HeaderValue::from_static("AAAAAA=="));
        assert!(has_integrity_header(&h));
        let mut t = http::HeaderMap::new();
        t.insert("x-amz-trailer", http::HeaderValue::from_static("x-amz-checksum-crc64nvme"));
        assert!(has_integrity_header(&t));
        let mut m = http::HeaderMap::new();
        m.insert("content-md5", http::HeaderValue::from_static("1B2M2Y8AsgTpgAmY7PhCfg=="));
        assert!(has_integrity_header(&m));
        let mut a = http::HeaderMap::new();
        a.insert("x-amz-sdk-checksum-algorithm", http::HeaderValue::from_static("CRC32"));
        assert!(has_integrity_header(&a));
    }

    #[test]
    fn stored_fields_default_when_absent() {
        let h: ObjHeaders = serde_json::from_str(r#"{"content_type":"text/plain"}"#).unwrap();
        assert_eq!((h.retention, h.legal_hold), (None, None));
        let with = ObjHeaders { retention: r(Mode::Compliance, 9), legal_hold: Some(false), ..Default::default() };
        let back: ObjHeaders = serde_json::from_str(&serde_json::to_string(&with).unwrap()).unwrap();
        assert_eq!(back, with);
        let c: BucketConfig = serde_json::from_str("{}").unwrap();
        assert_eq!((c.object_lock, c.mfa_delete), (None, None));
    }
}
