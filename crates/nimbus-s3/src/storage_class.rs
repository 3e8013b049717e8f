//! S3 storage classes: the `x-amz-storage-class` of writes, how a class is reported,
//! which classes are archived (GLACIER, DEEP_ARCHIVE: not readable until restored),
//! and RestoreObject with the `x-amz-restore` state it leaves on a version.
//!
//! Nothing is stored differently per class: a class is a label on a version (in its
//! `ObjHeaders`), with the rules AWS attaches to it.
//!
//! A restore completes after `NIMBUS_S3_RESTORE_SECONDS` (default 0: at once; real
//! restores take minutes to hours, which makes no sense locally). The restored copy
//! lasts the requested Days, each a lifecycle day (`NIMBUS_S3_LIFECYCLE_DAY_SECONDS`),
//! and expires at the day boundary after, as S3's does at midnight UTC.

use std::sync::Arc;
use std::time::Duration;

use s3s::dto::{self, TimestampFormat};
use s3s::{S3Error, S3ErrorCode, S3Result};
use serde::{Deserialize, Serialize};

use crate::expiry;
use crate::ops_config::EventCtx;
use crate::persist::ObjHeaders;
use crate::provider::{now_ms, ObjMeta, State};
use crate::versioning::Found;

/// Environment variable: how long a restore takes, in seconds (default 0).
pub const RESTORE_SECONDS_ENV: &str = "NIMBUS_S3_RESTORE_SECONDS";

pub const STANDARD: &str = "STANDARD";

/// The classes a general purpose bucket stores.
pub const CLASSES: &[&str] = &[
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
];

/// The classes lifecycle Transitions may name.
pub const TRANSITION_CLASSES: &[&str] = &["STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR"];

/// Objects in these classes must be restored before they can be read.
pub fn is_archived(class: &str) -> bool {
    matches!(class, "GLACIER" | "DEEP_ARCHIVE")
}

/// Where a class sits in S3's transition waterfall: lifecycle only moves objects
/// to a class further down.
pub fn rank(class: &str) -> u8 {
    match class {
        "STANDARD_IA" => 1,
        "INTELLIGENT_TIERING" => 2,
        "ONEZONE_IA" => 3,
        "GLACIER_IR" => 4,
        "GLACIER" => 5,
        "DEEP_ARCHIVE" => 6,
        _ => 0,
    }
}

/// The smallest object (in bytes) lifecycle transitions by default.
pub const TRANSITION_MIN_SIZE: u64 = 128 * 1024;

/// Is an object of `size` too small for a lifecycle transition to `class` under the
/// bucket's `TransitionDefaultMinimumObjectSize` (None: all_storage_classes_128K)?
pub fn too_small_to_transition(size: u64, class: &str, policy: Option<&str>) -> bool {
    let varies = policy == Some(dto::TransitionDefaultMinimumObjectSize::VARIES_BY_STORAGE_CLASS);
    if varies && is_archived(class) {
        return false;
    }
    size < TRANSITION_MIN_SIZE
}

/// InvalidStorageClass; its error document names the class asked for in
/// `<StorageClassRequested>` (added by `add_error_elements`).
pub fn invalid_storage_class(requested: &str) -> S3Error {
    let mut e = S3Error::with_message(S3ErrorCode::InvalidStorageClass, "The storage class you specified is not valid");
    e.set_headers(error_element_headers(ERROR_REQUESTED_CLASS_HEADER, requested));
    e
}

/// Checks a request's `x-amz-storage-class`: Some(class) when given (STANDARD too).
/// EXPRESS_ONEZONE, OUTPOSTS and SNOW exist only for directory buckets, Outposts and
/// Snow devices: a general purpose bucket rejects them like any unknown class.
pub fn requested(class: Option<&dto::StorageClass>) -> S3Result<Option<String>> {
    match class {
        None => Ok(None),
        Some(c) if CLASSES.contains(&c.as_str()) => Ok(Some(c.as_str().to_string())),
        Some(c) => Err(invalid_storage_class(c.as_str())),
    }
}

/// What a version stores for a requested class (nothing for STANDARD).
pub fn stored(class: Option<String>) -> Option<String> {
    class.filter(|c| c != STANDARD)
}

/// A version's class.
pub fn of(h: &ObjHeaders) -> &str {
    h.storage_class.as_deref().unwrap_or(STANDARD)
}

/// The `x-amz-storage-class` of GET/HEAD: only when not STANDARD.
pub fn header(h: &ObjHeaders) -> Option<dto::StorageClass> {
    h.storage_class.as_deref().map(|c| dto::StorageClass::from(c.to_string()))
}

pub fn object_class(h: &ObjHeaders) -> dto::ObjectStorageClass {
    dto::ObjectStorageClass::from(of(h).to_string())
}

pub fn version_class(h: &ObjHeaders) -> dto::ObjectVersionStorageClass {
    dto::ObjectVersionStorageClass::from(of(h).to_string())
}

pub fn upload_class(h: &ObjHeaders) -> dto::StorageClass {
    dto::StorageClass::from(of(h).to_string())
}

/// A restore of an archived version: requested, and (once `ready_ms` has passed)
/// readable until `expiry_ms`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Restore {
    pub ready_ms: u64,
    pub expiry_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreState {
    None,
    Ongoing,
    Restored { expiry_ms: u64 },
}

pub fn restore_state(h: &ObjHeaders, now_ms: u64) -> RestoreState {
    match h.restore {
        Some(r) if now_ms < r.ready_ms => RestoreState::Ongoing,
        Some(r) if now_ms < r.expiry_ms => RestoreState::Restored { expiry_ms: r.expiry_ms },
        _ => RestoreState::None,
    }
}

fn http_date(ms: u64) -> String {
    let mut buf = Vec::new();
    let _ = crate::provider::ts(ms).format(TimestampFormat::HttpDate, &mut buf);
    String::from_utf8(buf).unwrap_or_default()
}

/// The `x-amz-restore` header of GET/HEAD.
pub fn restore_header(h: &ObjHeaders, now_ms: u64) -> Option<String> {
    match restore_state(h, now_ms) {
        RestoreState::None => None,
        RestoreState::Ongoing => Some("ongoing-request=\"true\"".to_string()),
        RestoreState::Restored { expiry_ms } => Some(format!("ongoing-request=\"false\", expiry-date=\"{}\"", http_date(expiry_ms))),
    }
}

/// Did a listing ask for `x-amz-optional-object-attributes: RestoreStatus`?
pub fn wants_restore_status(attrs: Option<&dto::OptionalObjectAttributesList>) -> bool {
    attrs.is_some_and(|a| a.iter().any(|x| x.as_str() == dto::OptionalObjectAttributes::RESTORE_STATUS))
}

/// A listing entry's RestoreStatus: only for versions being or having been restored.
pub fn restore_status(h: &ObjHeaders) -> Option<dto::RestoreStatus> {
    match restore_state(h, now_ms()) {
        RestoreState::None => None,
        RestoreState::Ongoing => Some(dto::RestoreStatus { is_restore_in_progress: Some(true), restore_expiry_date: None }),
        RestoreState::Restored { expiry_ms } => {
            Some(dto::RestoreStatus { is_restore_in_progress: Some(false), restore_expiry_date: Some(crate::provider::ts(expiry_ms)) })
        }
    }
}

/// Can a version's body be read now (GetObject, a copy source)?
pub fn readable(h: &ObjHeaders, now_ms: u64) -> bool {
    !is_archived(of(h)) || matches!(restore_state(h, now_ms), RestoreState::Restored { .. })
}

/// An error's response headers carrying one extra element of its error document.
pub(crate) fn error_element_headers(header: &'static str, value: &str) -> http::HeaderMap {
    error_element_headers_many(&[(header, value)])
}

/// The same for several elements, in the order given.
pub(crate) fn error_element_headers_many(elements: &[(&'static str, &str)]) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/xml"));
    for (header, value) in elements {
        if let Ok(v) = http::HeaderValue::from_str(value) {
            headers.insert(*header, v);
        }
    }
    headers
}

fn invalid_object_state(msg: &'static str, class: &str) -> S3Error {
    let mut e = S3Error::with_message(S3ErrorCode::InvalidObjectState, msg);
    // The error document names the class (added by `add_error_elements`).
    e.set_headers(error_element_headers(ERROR_CLASS_HEADER, class));
    e
}

/// The message of GetObject's InvalidObjectState (also on the website endpoint).
pub const GET_ARCHIVED_MESSAGE: &str = "The operation is not valid for the object's storage class";

/// GetObject of an archived version that is not restored.
pub fn check_get(h: &ObjHeaders) -> S3Result<()> {
    if readable(h, now_ms()) {
        return Ok(());
    }
    Err(invalid_object_state(GET_ARCHIVED_MESSAGE, of(h)))
}

/// A copy source (CopyObject, UploadPartCopy) that is archived and not restored.
pub fn check_copy_source(h: &ObjHeaders) -> S3Result<()> {
    if readable(h, now_ms()) {
        return Ok(());
    }
    Err(invalid_object_state(
        "The source object of the COPY operation is not in the active tier and is only stored in Amazon Glacier.",
        of(h),
    ))
}

/// An internal response header naming the class of an InvalidObjectState error;
/// `add_error_elements` moves it into the error document, as S3 reports it.
pub const ERROR_CLASS_HEADER: &str = "x-nimbus-error-storage-class";

/// The same for the class an InvalidStorageClass error refused.
pub const ERROR_REQUESTED_CLASS_HEADER: &str = "x-nimbus-error-storage-class-requested";

/// Internal header carrying an error's `<ArgumentName>` (an InvalidArgument naming the
/// element or header at fault).
pub const ERROR_ARGUMENT_NAME_HEADER: &str = "x-nimbus-error-argument-name";

/// Internal header carrying an error's `<ArgumentValue>` (the value at fault).
pub const ERROR_ARGUMENT_VALUE_HEADER: &str = "x-nimbus-error-argument-value";

/// Internal headers carrying an InvalidRange's `<RangeRequested>` (the Range header
/// as sent) and `<ActualObjectSize>`.
pub const ERROR_RANGE_REQUESTED_HEADER: &str = "x-nimbus-error-range-requested";
pub const ERROR_ACTUAL_SIZE_HEADER: &str = "x-nimbus-error-actual-object-size";

/// Internal headers carrying an XAmzContentSHA256Mismatch's `<ClientComputedContentSHA256>`
/// (the hash the client signed) and `<S3ComputedContentSHA256>` (the body's).
pub const ERROR_CLIENT_SHA256_HEADER: &str = "x-nimbus-error-client-sha256";
pub const ERROR_S3_SHA256_HEADER: &str = "x-nimbus-error-s3-sha256";

/// Internal header carrying the `<Region>` of a request signed for the wrong region.
pub const ERROR_REGION_HEADER: &str = "x-nimbus-error-region";
/// The header whose condition failed (412 PreconditionFailed).
pub const ERROR_CONDITION_HEADER: &str = "x-nimbus-error-condition";
/// A notification destination S3 could not validate, and why.
pub const ERROR_DESTINATION_HEADER: &str = "x-nimbus-error-argument-name-1";
pub const ERROR_DESTINATION_REASON_HEADER: &str = "x-nimbus-error-argument-value-1";

/// Internal header → the error document element it becomes.
const ERROR_ELEMENTS: &[(&str, &str)] = &[
    (ERROR_CLASS_HEADER, "StorageClass"),
    (ERROR_REQUESTED_CLASS_HEADER, "StorageClassRequested"),
    (ERROR_ARGUMENT_NAME_HEADER, "ArgumentName"),
    (ERROR_ARGUMENT_VALUE_HEADER, "ArgumentValue"),
    (ERROR_RANGE_REQUESTED_HEADER, "RangeRequested"),
    (ERROR_ACTUAL_SIZE_HEADER, "ActualObjectSize"),
    (ERROR_CLIENT_SHA256_HEADER, "ClientComputedContentSHA256"),
    (ERROR_S3_SHA256_HEADER, "S3ComputedContentSHA256"),
    (ERROR_REGION_HEADER, "Region"),
    (ERROR_CONDITION_HEADER, "Condition"),
    (ERROR_DESTINATION_HEADER, "ArgumentName1"),
    (ERROR_DESTINATION_REASON_HEADER, "ArgumentValue1"),
];

/// GetObject's 416 for a Range past the object's end; S3's document names the range
/// and the object's size.
pub fn invalid_range(requested: Option<&str>, size: u64) -> S3Error {
    let mut e = S3Error::with_message(S3ErrorCode::InvalidRange, "The requested range is not satisfiable");
    let size = size.to_string();
    e.set_headers(error_element_headers_many(&[(ERROR_RANGE_REQUESTED_HEADER, requested.unwrap_or_default()), (ERROR_ACTUAL_SIZE_HEADER, &size)]));
    e
}

/// Moves the internal `ERROR_ELEMENTS` headers into the error document, after its
/// `<Message>`.
pub fn add_error_elements(resp: &mut http::Response<s3s::Body>) {
    // The element headers ride on errors only.
    if resp.status().is_success() {
        return;
    }
    let mut elements = String::new();
    for (header, element) in ERROR_ELEMENTS {
        let Some(value) = resp.headers_mut().remove(*header) else { continue };
        if let Ok(value) = value.to_str() {
            elements += &format!("<{element}>{}</{element}>", crate::cors::xml_escape(value));
        }
    }
    if elements.is_empty() {
        return;
    }
    let Some(bytes) = resp.body().bytes() else { return };
    let Ok(xml) = std::str::from_utf8(&bytes) else { return };
    let Some(at) = xml.find("</Message>").map(|i| i + "</Message>".len()).or_else(|| xml.find("</Code>").map(|i| i + "</Code>".len())) else { return };
    let xml = format!("{}{}{}", &xml[..at], elements, &xml[at..]);
    crate::set_body(resp, xml);
}

/// The configured restore duration in milliseconds.
pub fn restore_ms_from_env() -> u64 {
    match std::env::var(RESTORE_SECONDS_ENV).ok().map(|v| v.trim().parse::<f64>()) {
        None => 0,
        Some(Ok(s)) if s.is_finite() && s >= 0.0 => (s * 1000.0) as u64,
        Some(_) => {
            tracing::warn!("{RESTORE_SECONDS_ENV} must be a number of seconds; restores complete at once");
            0
        }
    }
}

fn malformed() -> S3Error {
    S3Error::with_message(S3ErrorCode::MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema")
}

/// The Days of a RestoreRequest (a regular restore, not a Select).
pub fn restore_days(req: Option<&dto::RestoreRequest>) -> S3Result<i32> {
    let req = req.ok_or_else(malformed)?;
    if req.type_.is_some() || req.select_parameters.is_some() || req.output_location.is_some() {
        return Err(S3Error::with_message(S3ErrorCode::NotImplemented, "S3 Select restores are not supported by nimbus"));
    }
    let tier = req.glacier_job_parameters.as_ref().map(|g| g.tier.as_str()).or(req.tier.as_ref().map(|t| t.as_str()));
    if tier.is_some_and(|t| !matches!(t, "Expedited" | "Standard" | "Bulk")) {
        return Err(malformed());
    }
    let days = req.days.ok_or_else(malformed)?;
    if days < 1 {
        return Err(S3Error::with_message(S3ErrorCode::InvalidArgument, "Days must be a positive integer"));
    }
    Ok(days)
}

/// What a RestoreObject did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreOutcome {
    /// 202 Accepted: a restore was started.
    Started,
    /// 200 OK: the object was restored already; its expiry moved.
    Extended,
}

/// The change a RestoreObject makes to a version with headers `h`, at `now_ms`.
pub fn plan_restore(h: &ObjHeaders, days: i32, now_ms: u64, restore_ms: u64, day_ms: u64) -> S3Result<(RestoreOutcome, Restore)> {
    if !is_archived(of(h)) {
        return Err(invalid_object_state("Restore is not allowed for the object's current storage class", of(h)));
    }
    match restore_state(h, now_ms) {
        RestoreState::Ongoing => Err(S3Error::with_message(S3ErrorCode::RestoreAlreadyInProgress, "Object restore is already in progress")),
        RestoreState::Restored { .. } => {
            let ready_ms = h.restore.map(|r| r.ready_ms).unwrap_or(now_ms);
            Ok((RestoreOutcome::Extended, Restore { ready_ms, expiry_ms: expiry::due_at(now_ms, days, day_ms) }))
        }
        RestoreState::None => {
            let ready_ms = now_ms.saturating_add(restore_ms);
            Ok((RestoreOutcome::Started, Restore { ready_ms, expiry_ms: expiry::due_at(ready_ms, days, day_ms) }))
        }
    }
}

impl State {
    /// RestoreObject: starts (or extends) the restore of an archived version.
    pub(crate) async fn restore_object(
        self: &Arc<Self>,
        ctx: &EventCtx,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        request: Option<&dto::RestoreRequest>,
    ) -> S3Result<(RestoreOutcome, Found)> {
        let days = restore_days(request)?;
        let restore_ms = restore_ms_from_env();
        let day_ms = expiry::day_ms_from_env();
        let found = self.lookup(bucket, key, version_id)?;
        let (outcome, restore) = plan_restore(&found.meta.headers, days, now_ms(), restore_ms, day_ms)?;
        // A completed restore's event names the copy's expiry and the archive's class.
        let glacier_event_data = serde_json::json!({"restoreEventData": {
            "lifecycleRestorationExpiryTime": crate::notify::iso_millis(restore.expiry_ms),
            "lifecycleRestoreStorageClass": of(&found.meta.headers),
        }});
        let id = found.meta.version_id.clone();
        let changed = self.update_object_headers(bucket, key, Some(&id), move |h| h.restore = Some(restore)).await?;
        if outcome == RestoreOutcome::Started {
            let event_id = changed.versioned.then(|| id.clone());
            let meta = ObjMeta::event(changed.meta.size, &changed.meta.etag);
            self.emit(ctx, "ObjectRestore:Post", bucket, key, Some(&meta), event_id.as_deref());
            let (state, ctx, bucket, key) = (Arc::downgrade(self), ctx.clone(), bucket.to_string(), key.to_string());
            let completed = move |state: &State| {
                let data = ("glacierEventData", glacier_event_data.clone());
                state.emit_with_data(&ctx, "ObjectRestore:Completed", &bucket, &key, &meta, event_id.as_deref(), data)
            };
            if restore_ms == 0 {
                completed(self);
            } else if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(async move {
                    tokio::time::sleep(Duration::from_millis(restore_ms)).await;
                    if let Some(state) = state.upgrade() {
                        completed(&state);
                    }
                });
            }
        }
        Ok((outcome, changed))
    }
}

impl State {
    /// A lifecycle Transition: relabels one version (never back up the waterfall).
    pub(crate) async fn transition_version(&self, ctx: &EventCtx, bucket: &str, key: &str, version_id: &str, class: &str) -> S3Result<()> {
        let to = class.to_string();
        let found = self
            .update_object_headers(bucket, key, Some(version_id), move |h| {
                if rank(&to) > rank(of(h)) {
                    h.storage_class = Some(to.clone());
                    h.restore = None;
                }
            })
            .await?;
        if rank(class) > rank(of(&found.meta.headers)) {
            let meta = ObjMeta::event(found.meta.size, &found.meta.etag);
            let data = serde_json::json!({"transitionEventData": {"destinationStorageClass": class}});
            self.emit_with_data(ctx, "LifecycleTransition", bucket, key, &meta, found.versioned.then_some(version_id), ("lifecycleEventData", data));
        }
        Ok(())
    }
}

/// For GET/HEAD: (x-amz-storage-class, x-amz-restore).
pub fn read_headers(h: &ObjHeaders) -> (Option<dto::StorageClass>, Option<String>) {
    (header(h), restore_header(h, now_ms()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 1000;

    fn headers(class: &str) -> ObjHeaders {
        ObjHeaders { storage_class: stored(Some(class.to_string())), ..Default::default() }
    }

    #[test]
    fn requested_classes() {
        let sc = |s: &str| dto::StorageClass::from(s.to_string());
        assert_eq!(requested(None).unwrap(), None);
        assert_eq!(requested(Some(&sc("GLACIER"))).unwrap().as_deref(), Some("GLACIER"));
        assert_eq!(requested(Some(&sc("STANDARD"))).unwrap().as_deref(), Some("STANDARD"));
        for bad in ["EXPRESS_ONEZONE", "OUTPOSTS", "SNOW", "glacier", "NOPE", ""] {
            assert_eq!(*requested(Some(&sc(bad))).unwrap_err().code(), S3ErrorCode::InvalidStorageClass, "{bad}");
        }
        assert_eq!(stored(Some("STANDARD".into())), None);
        assert_eq!(of(&headers("STANDARD")), "STANDARD");
        assert!(header(&headers("STANDARD")).is_none());
        assert_eq!(header(&headers("STANDARD_IA")).map(|c| c.as_str().to_string()).as_deref(), Some("STANDARD_IA"));
    }

    #[test]
    fn old_headers_load_as_standard() {
        let h: ObjHeaders = serde_json::from_str(r#"{"content_type":"text/plain"}"#).unwrap();
        assert_eq!(of(&h), STANDARD);
        assert!(h.restore.is_none());
        let json = serde_json::to_string(&ObjHeaders::default()).unwrap();
        assert!(!json.contains("storage_class") && !json.contains("restore"));
    }

    #[test]
    fn archived_versions_need_a_restore() {
        assert!(readable(&headers("GLACIER_IR"), 0));
        assert!(readable(&headers("STANDARD_IA"), 0));
        let mut g = headers("GLACIER");
        assert!(!readable(&g, 0));
        assert_eq!(*plan_restore(&headers("STANDARD"), 1, 0, 0, DAY).unwrap_err().code(), S3ErrorCode::InvalidObjectState);
        let (o, r) = plan_restore(&g, 2, 500, 100, DAY).unwrap();
        assert_eq!(o, RestoreOutcome::Started);
        assert_eq!(r, Restore { ready_ms: 600, expiry_ms: 3000 });
        g.restore = Some(r);
        assert_eq!(restore_state(&g, 599), RestoreState::Ongoing);
        assert_eq!(restore_header(&g, 599).as_deref(), Some("ongoing-request=\"true\""));
        assert_eq!(*plan_restore(&g, 2, 599, 100, DAY).unwrap_err().code(), S3ErrorCode::RestoreAlreadyInProgress);
        assert!(!readable(&g, 599));
        assert!(readable(&g, 600));
        assert_eq!(restore_header(&g, 600).as_deref(), Some("ongoing-request=\"false\", expiry-date=\"Thu, 01 Jan 1970 00:00:03 GMT\""));
        let (o, r) = plan_restore(&g, 5, 1500, 100, DAY).unwrap();
        assert_eq!((o, r), (RestoreOutcome::Extended, Restore { ready_ms: 600, expiry_ms: 7000 }));
        // Once expired, the object is archived-only again and a restore starts anew.
        assert!(!readable(&g, 3000));
        assert_eq!(restore_header(&g, 3000), None);
        assert_eq!(plan_restore(&g, 1, 3000, 0, DAY).unwrap().0, RestoreOutcome::Started);
    }

    #[test]
    fn restore_requests() {
        let req = |days: Option<i32>, tier: &str| dto::RestoreRequest {
            days,
            glacier_job_parameters: Some(dto::GlacierJobParameters { tier: dto::Tier::from(tier.to_string()) }),
            ..Default::default()
        };
        assert_eq!(restore_days(Some(&req(Some(3), "Bulk"))).unwrap(), 3);
        assert_eq!(*restore_days(Some(&req(None, "Bulk"))).unwrap_err().code(), S3ErrorCode::MalformedXML);
        assert_eq!(*restore_days(Some(&req(Some(1), "Fast"))).unwrap_err().code(), S3ErrorCode::MalformedXML);
        assert_eq!(*restore_days(Some(&req(Some(0), "Standard"))).unwrap_err().code(), S3ErrorCode::InvalidArgument);
        assert_eq!(*restore_days(None).unwrap_err().code(), S3ErrorCode::MalformedXML);
    }

    #[test]
    fn transition_sizes_and_order() {
        assert!(too_small_to_transition(1000, "GLACIER", None));
        assert!(!too_small_to_transition(TRANSITION_MIN_SIZE, "STANDARD_IA", None));
        assert!(!too_small_to_transition(1000, "GLACIER", Some("varies_by_storage_class")));
        assert!(too_small_to_transition(1000, "GLACIER_IR", Some("varies_by_storage_class")));
        assert!(rank("DEEP_ARCHIVE") > rank("GLACIER") && rank("GLACIER") > rank("STANDARD_IA") && rank("STANDARD_IA") > rank("STANDARD"));
    }

    #[test]
    fn error_documents_name_the_class() {
        let e = check_get(&headers("DEEP_ARCHIVE")).unwrap_err();
        assert_eq!(*e.code(), S3ErrorCode::InvalidObjectState);
        let mut resp = e.to_http_response().unwrap();
        add_error_elements(&mut resp);
        assert!(resp.headers().get(ERROR_CLASS_HEADER).is_none());
        let body = resp.body().bytes().unwrap();
        let xml = std::str::from_utf8(&body).unwrap();
        assert!(xml.contains("</Message><StorageClass>DEEP_ARCHIVE</StorageClass>"), "{xml}");
        let e = requested(Some(&dto::StorageClass::from("EXPRESS_ONEZONE".to_string()))).unwrap_err();
        let mut resp = e.to_http_response().unwrap();
        add_error_elements(&mut resp);
        assert!(resp.headers().get(ERROR_REQUESTED_CLASS_HEADER).is_none());
        let body = resp.body().bytes().unwrap();
        let xml = std::str::from_utf8(&body).unwrap();
        assert!(xml.contains("</Message><StorageClassRequested>EXPRESS_ONEZONE</StorageClassRequested>"), "{xml}");
        let mut resp = invalid_storage_class("a<b&c").to_http_response().unwrap();
        add_error_elements(&mut resp);
        let body = resp.body().bytes().unwrap();
        assert!(std::str::from_utf8(&body).unwrap().contains("<StorageClassRequested>a&lt;b&amp;c</StorageClassRequested>"));
    }
}
