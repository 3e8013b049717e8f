//! S3 event notifications: AWS's event message JSON and the task that delivers it
//! through the target registry, after the write it reports is committed.

use std::sync::atomic::{AtomicU64, Ordering};

use nimbus_core::targets::{Delivery, TargetRegistry};
use serde_json::json;
use tokio::sync::mpsc;

/// What one request tells notifications about itself.
#[derive(Debug, Clone)]
pub struct ReqInfo {
    pub request_id: String,
    pub host_id: String,
    pub source_ip: String,
}

impl ReqInfo {
    pub fn new(source_ip: Option<std::net::IpAddr>) -> Self {
        use base64::Engine;
        use rand::RngCore;
        // One draw for both ids: this runs on every request.
        let mut random = [0u8; 56];
        rand::rng().fill_bytes(&mut random);
        let (id, host) = random.split_at(8);
        let mut request_id = [0u8; 16];
        let _ = hex::encode_to_slice(id, &mut request_id);
        request_id.make_ascii_uppercase();
        ReqInfo {
            request_id: String::from_utf8_lossy(&request_id).into_owned(),
            host_id: base64::engine::general_purpose::STANDARD.encode(host),
            source_ip: match source_ip.map(|ip| ip.to_canonical()) {
                Some(std::net::IpAddr::V4(v4)) if v4.is_loopback() && v4.octets() == [127, 0, 0, 1] => "127.0.0.1".into(),
                Some(ip) => ip.to_string(),
                None => "127.0.0.1".into(),
            },
        }
    }
}

/// One object event, before it is addressed to a configuration.
#[derive(Debug, Clone)]
pub struct ObjectEvent {
    /// "ObjectCreated:Put", ...
    pub name: &'static str,
    pub bucket: String,
    pub region: String,
    pub key: String,
    /// Only for ObjectCreated events.
    pub size: Option<u64>,
    pub etag: Option<String>,
    pub version_id: Option<String>,
    pub principal: String,
    pub owner: String,
    pub time_ms: u64,
    pub sequencer: String,
    /// A record-level key some events carry (`glacierEventData` of a completed restore,
    /// `lifecycleEventData` of a transition) and its value.
    pub data: Option<(&'static str, serde_json::Value)>,
}

static SEQUENCER: AtomicU64 = AtomicU64::new(0);

/// A hexadecimal string that increases with every event (across restarts too: it
/// starts from the clock).
pub fn next_sequencer() -> String {
    let now = nimbus_core::now_millis().saturating_mul(1_000_000);
    let prev = SEQUENCER.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| Some(v.max(now) + 1)).unwrap_or(now);
    format!("00{:016X}", prev.max(now) + 1)
}

pub fn iso_millis(ms: u64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Keys in event messages are URL-encoded as a form value: spaces become '+',
/// '/' stays.
pub fn encode_key(key: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'*')
        .remove(b'/')
        .remove(b' ');
    percent_encoding::utf8_percent_encode(key, SET).to_string().replace(' ', "+")
}

/// The eventVersion of every event record. "Starting with version 2.4, Amazon S3 uses a
/// single unified version for all event types, and the version increments consistently
/// across all event types whenever the schema evolves"; the user guide's current
/// "Event message structure" shows 2.5 (before 2.4: 2.1, 2.2 for replication, 2.3 for
/// lifecycle, tagging, ACL and restore-delete events).
pub const EVENT_VERSION: &str = "2.5";

/// The `{"Records":[...]}` message for one configuration.
pub fn event_message(ev: &ObjectEvent, req: &ReqInfo, configuration_id: &str) -> String {
    let mut object = serde_json::Map::new();
    object.insert("key".into(), json!(encode_key(&ev.key)));
    if let Some(size) = ev.size {
        object.insert("size".into(), json!(size));
    }
    if let Some(etag) = &ev.etag {
        object.insert("eTag".into(), json!(etag));
    }
    if let Some(v) = &ev.version_id {
        object.insert("versionId".into(), json!(v));
    }
    object.insert("sequencer".into(), json!(ev.sequencer));
    let mut record = json!({
        "eventVersion": EVENT_VERSION,
        "eventSource": "aws:s3",
        "awsRegion": ev.region,
        "eventTime": iso_millis(ev.time_ms),
        "eventName": ev.name,
        "userIdentity": {"principalId": ev.principal},
        "requestParameters": {"sourceIPAddress": req.source_ip},
        "responseElements": {"x-amz-request-id": req.request_id, "x-amz-id-2": req.host_id},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {
                "name": ev.bucket,
                "ownerIdentity": {"principalId": ev.owner},
                "arn": format!("arn:aws:s3:::{}", ev.bucket),
            },
            "object": object,
        },
    });
    if let (Some((name, value)), Some(fields)) = (&ev.data, record.as_object_mut()) {
        fields.insert((*name).to_string(), value.clone());
    }
    json!({ "Records": [record] }).to_string()
}

/// The message S3 sends to each destination when a configuration is put.
pub fn test_event(bucket: &str, req: &ReqInfo, time_ms: u64) -> String {
    json!({
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": iso_millis(time_ms),
        "Bucket": bucket,
        "RequestId": req.request_id,
        "HostId": req.host_id,
    })
    .to_string()
}

/// Hands deliveries, in order, to a task that sends them through the registry.
#[derive(Clone)]
pub struct Notifier {
    tx: Option<mpsc::UnboundedSender<(String, Delivery)>>,
    pub targets: TargetRegistry,
}

impl Notifier {
    /// Spawns the delivery task on the current tokio runtime (none: nothing is delivered).
    pub fn start(targets: TargetRegistry) -> Self {
        let tx = tokio::runtime::Handle::try_current().ok().map(|handle| {
            let (tx, mut rx) = mpsc::unbounded_channel::<(String, Delivery)>();
            let registry = targets.clone();
            handle.spawn(async move {
                while let Some((arn, delivery)) = rx.recv().await {
                    if let Err(e) = registry.deliver(&arn, delivery).await {
                        tracing::warn!(%arn, code = %e.code, message = %e.message, "S3 event notification not delivered");
                    }
                }
            });
            tx
        });
        if tx.is_none() {
            tracing::warn!("S3 notifications disabled: no async runtime");
        }
        Notifier { tx, targets }
    }

    pub fn send(&self, arn: &str, body: String, bucket: &str) {
        if let Some(tx) = &self.tx {
            let d = Delivery { body, source_arn: Some(format!("arn:aws:s3:::{bucket}")), ..Default::default() };
            let _ = tx.send((arn.to_string(), d));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_look_like_aws() {
        let a = ReqInfo::new(Some("127.0.0.1".parse().unwrap()));
        let b = ReqInfo::new(Some("::ffff:10.0.0.7".parse().unwrap()));
        assert_eq!(a.request_id.len(), 16);
        assert!(a.request_id.chars().all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c)));
        assert_ne!(a.request_id, b.request_id);
        assert_eq!(a.host_id.len(), 64);
        assert_eq!(a.source_ip, "127.0.0.1");
        assert_eq!(b.source_ip, "10.0.0.7");
    }

    #[test]
    fn keys_encoded_like_aws() {
        assert_eq!(encode_key("photos/my image.jpg"), "photos/my+image.jpg");
        assert_eq!(encode_key("date=2024-01-01/a+b.txt"), "date%3D2024-01-01/a%2Bb.txt");
        assert_eq!(encode_key("ü"), "%C3%BC");
    }

    #[test]
    fn sequencer_increases() {
        let a = next_sequencer();
        let b = next_sequencer();
        assert_eq!(a.len(), b.len());
        assert!(b > a);
    }

    #[test]
    fn message_shape() {
        let ev = ObjectEvent {
            name: "ObjectCreated:Put",
            bucket: "b".into(),
            region: "us-east-1".into(),
            key: "a b".into(),
            size: Some(3),
            etag: Some("abc".into()),
            version_id: None,
            principal: "AWS:test".into(),
            owner: "A000000000000".into(),
            time_ms: 1_700_000_000_123,
            sequencer: "0001".into(),
            data: None,
        };
        let req = ReqInfo { request_id: "R".into(), host_id: "H".into(), source_ip: "127.0.0.1".into() };
        let v: serde_json::Value = serde_json::from_str(&event_message(&ev, &req, "cfg")).unwrap();
        let r = &v["Records"][0];
        assert_eq!(r["eventTime"], "2023-11-14T22:13:20.123Z");
        assert_eq!(r["s3"]["object"]["key"], "a+b");
        assert_eq!(r["s3"]["object"]["size"], 3);
        assert!(r["s3"]["object"].get("versionId").is_none());
        assert_eq!(r["s3"]["bucket"]["arn"], "arn:aws:s3:::b");
        assert_eq!(r["s3"]["configurationId"], "cfg");
    }
}
