//! Messages and their attributes: validation as SQS does it, and the MD5 digests
//! SDKs check (`MD5OfMessageBody`, `MD5OfMessageAttributes`).

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine;
use md5::{Digest, Md5};
use nimbus_core::AwsError;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::errors;

/// A message attribute as clients send it (`MessageAttributeValue`).
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeValue {
    pub data_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_value: Option<String>,
    /// base64, as on the wire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_value: Option<String>,
}

pub type Attributes = BTreeMap<String, AttributeValue>;

impl AttributeValue {
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        if let Some(s) = &self.string_value {
            m.insert("StringValue".into(), json!(s));
        }
        if let Some(b) = &self.binary_value {
            m.insert("BinaryValue".into(), json!(b));
        }
        m.insert("DataType".into(), json!(self.data_type));
        Value::Object(m)
    }

    fn binary_bytes(&self) -> Vec<u8> {
        self.binary_value
            .as_deref()
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .unwrap_or_default()
    }

    /// Bytes this attribute adds to the message size: name, type and value.
    fn size(&self, name: &str) -> usize {
        name.len()
            + self.data_type.len()
            + self.string_value.as_deref().map_or(0, str::len)
            + self.binary_value.as_ref().map_or(0, |_| self.binary_bytes().len())
    }
}

pub fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

/// AWS's digest of message attributes: for each attribute in name order, the name,
/// the data type, a transport byte (1 string, 2 binary) and the value, each
/// length-prefixed with 4 big-endian bytes.
pub fn md5_of_attributes(attrs: &Attributes) -> Option<String> {
    if attrs.is_empty() {
        return None;
    }
    let mut h = Md5::new();
    let put = |h: &mut Md5, bytes: &[u8]| {
        h.update((bytes.len() as u32).to_be_bytes());
        h.update(bytes);
    };
    for (name, v) in attrs {
        put(&mut h, name.as_bytes());
        put(&mut h, v.data_type.as_bytes());
        if v.binary_value.is_some() && v.string_value.is_none() {
            h.update([2u8]);
            put(&mut h, &v.binary_bytes());
        } else {
            h.update([1u8]);
            put(&mut h, v.string_value.as_deref().unwrap_or("").as_bytes());
        }
    }
    Some(hex::encode(h.finalize()))
}

/// `#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF`
pub fn check_characters(body: &str) -> Result<(), AwsError> {
    for c in body.chars() {
        let ok = matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..);
        if !ok {
            return Err(AwsError::bad_request(
                "InvalidMessageContents",
                format!(
                    "Invalid binary character '#x{:X}' was found in the message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
                    c as u32
                ),
            ));
        }
    }
    Ok(())
}

/// Checks user message attributes; returns the bytes they add to the message size.
pub fn check_attributes(attrs: &Attributes) -> Result<usize, AwsError> {
    if attrs.len() > 10 {
        return Err(AwsError::invalid_parameter(format!(
            "Number of message attributes [{}] exceeds the allowed maximum [10].",
            attrs.len()
        )));
    }
    let mut size = 0;
    for (name, v) in attrs {
        check_attribute_name(name)?;
        check_attribute_value(name, v)?;
        size += v.size(name);
    }
    Ok(size)
}

fn check_attribute_name(name: &str) -> Result<(), AwsError> {
    let lower = name.to_ascii_lowercase();
    let valid = !name.is_empty()
        && name.len() <= 256
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && !name.starts_with('.')
        && !name.ends_with('.')
        && !name.contains("..")
        && !lower.starts_with("aws.")
        && !lower.starts_with("amazon.");
    if valid {
        Ok(())
    } else {
        Err(AwsError::invalid_parameter(format!(
            "Message (user) attribute name '{name}' is invalid. The attribute name can contain A-Z, a-z, 0-9, underscore (_), hyphen (-), and period (.) characters, must not start or end with a period, must not contain successive periods, must not start with AWS. or Amazon., and can be up to 256 characters long."
        )))
    }
}

fn check_attribute_value(name: &str, v: &AttributeValue) -> Result<(), AwsError> {
    let base = v.data_type.split('.').next().unwrap_or("");
    if v.data_type.len() > 256 || !matches!(base, "String" | "Number" | "Binary") {
        return Err(AwsError::invalid_parameter(format!(
            "The type of message (user) attribute '{name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String."
        )));
    }
    let empty = |kind: &str| {
        AwsError::invalid_parameter(format!(
            "The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{kind}'."
        ))
    };
    match base {
        "Binary" => {
            let b = v.binary_value.as_deref().ok_or_else(|| empty("Binary"))?;
            if base64::engine::general_purpose::STANDARD.decode(b).map_or(true, |d| d.is_empty()) {
                return Err(empty("Binary"));
            }
        }
        _ => {
            let s = v.string_value.as_deref().filter(|s| !s.is_empty()).ok_or_else(|| empty(base))?;
            if base == "Number" && s.trim().parse::<f64>().is_err() {
                return Err(AwsError::invalid_parameter(format!(
                    "Can't cast the value of message (user) attribute '{name}' to a number."
                )));
            }
            check_characters(s)?;
        }
    }
    Ok(())
}

/// A message as the queue holds it.
#[derive(Debug, Clone)]
pub struct Message {
    pub seq: u64,
    pub id: String,
    pub body: Arc<str>,
    pub md5_of_body: String,
    pub attributes: Arc<Attributes>,
    pub md5_of_attributes: Option<String>,
    /// Message system attributes the sender set (AWSTraceHeader).
    pub system_attributes: Arc<Attributes>,
    pub sent_ms: u64,
    pub sender_id: String,
    pub first_receive_ms: Option<u64>,
    pub receive_count: u32,
    /// When the current receive happened (visibility may not reach past 12 hours from it).
    pub last_receive_ms: Option<u64>,
    /// When the message is next visible (delay or visibility timeout end).
    pub visible_at_ms: u64,
    /// Changes on every receive; part of the receipt handle, so older handles go stale.
    pub receipt_nonce: u64,
    pub group_id: Option<String>,
    pub dedup_id: Option<String>,
    pub sequence_number: Option<String>,
    /// Set when the message was moved to a dead-letter queue.
    pub dead_letter_source_arn: Option<String>,
}

impl Message {
    pub fn is_in_flight(&self, now: u64) -> bool {
        self.receive_count > 0 && self.visible_at_ms > now
    }

    /// The message system attributes a ReceiveMessage asked for.
    pub fn system_attribute_map(&self, wanted: &[String]) -> Map<String, Value> {
        let all = wanted.iter().any(|w| w == "All");
        let want = |n: &str| all || wanted.iter().any(|w| w == n);
        let mut m = Map::new();
        if want("SenderId") {
            m.insert("SenderId".into(), json!(self.sender_id));
        }
        if want("SentTimestamp") {
            m.insert("SentTimestamp".into(), json!(self.sent_ms.to_string()));
        }
        if want("ApproximateReceiveCount") {
            m.insert("ApproximateReceiveCount".into(), json!(self.receive_count.to_string()));
        }
        if want("ApproximateFirstReceiveTimestamp") {
            let t = self.first_receive_ms.unwrap_or(self.sent_ms);
            m.insert("ApproximateFirstReceiveTimestamp".into(), json!(t.to_string()));
        }
        if let Some(t) = self.system_attributes.get("AWSTraceHeader").and_then(|v| v.string_value.as_ref()) {
            if want("AWSTraceHeader") {
                m.insert("AWSTraceHeader".into(), json!(t));
            }
        }
        if let (true, Some(s)) = (want("SequenceNumber"), &self.sequence_number) {
            m.insert("SequenceNumber".into(), json!(s));
        }
        if let (true, Some(d)) = (want("MessageDeduplicationId"), &self.dedup_id) {
            m.insert("MessageDeduplicationId".into(), json!(d));
        }
        if let (true, Some(g)) = (want("MessageGroupId"), &self.group_id) {
            m.insert("MessageGroupId".into(), json!(g));
        }
        if let (true, Some(a)) = (want("DeadLetterQueueSourceArn"), &self.dead_letter_source_arn) {
            m.insert("DeadLetterQueueSourceArn".into(), json!(a));
        }
        m
    }

    /// The user attributes a ReceiveMessage asked for: `All`, `.*`, `prefix.*` or names.
    pub fn user_attributes(&self, wanted: &[String]) -> Attributes {
        self.attributes
            .iter()
            .filter(|(name, _)| {
                wanted.iter().any(|w| {
                    w == "All"
                        || w == ".*"
                        || w == *name
                        || w.strip_suffix(".*").is_some_and(|p| name.starts_with(p))
                })
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// Receipt handles carry the message's sequence number and receive nonce; they are
/// opaque to clients.
pub fn receipt_handle(queue_arn: &str, seq: u64, nonce: u64) -> String {
    let raw = format!("{seq}:{nonce}:{queue_arn}");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// `(seq, nonce)` of a receipt handle issued for this queue.
pub fn parse_receipt_handle(queue_arn: &str, handle: &str) -> Result<(u64, u64), AwsError> {
    let invalid = || errors::receipt_handle_invalid(handle);
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(handle.trim()).map_err(|_| invalid())?;
    let raw = String::from_utf8(raw).map_err(|_| invalid())?;
    let mut parts = raw.splitn(3, ':');
    let seq = parts.next().and_then(|s| s.parse().ok()).ok_or_else(invalid)?;
    let nonce = parts.next().and_then(|s| s.parse().ok()).ok_or_else(invalid)?;
    if parts.next() != Some(queue_arn) {
        return Err(invalid());
    }
    Ok((seq, nonce))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(t: &str, s: Option<&str>, b: Option<&str>) -> AttributeValue {
        AttributeValue { data_type: t.into(), string_value: s.map(Into::into), binary_value: b.map(Into::into) }
    }

    #[test]
    fn body_md5() {
        assert_eq!(md5_hex(b"hello"), "5d41402abc4b2a76b9719d911017c592");
    }

    #[test]
    fn attribute_md5_matches_aws() {
        // Reference values computed with the algorithm the AWS SDKs use to verify
        // MD5OfMessageAttributes (botocore's handlers._add_md5_of_message_attributes).
        let mut a = Attributes::new();
        a.insert("test".into(), attr("String", Some("hello"), None));
        assert_eq!(md5_of_attributes(&a).unwrap(), reference(&a));
        a.insert("bin".into(), attr("Binary", None, Some("AQID")));
        a.insert("num".into(), attr("Number.int", Some("42"), None));
        assert_eq!(md5_of_attributes(&a).unwrap(), reference(&a));
        assert!(md5_of_attributes(&Attributes::new()).is_none());
    }

    /// An independent byte-by-byte construction of AWS's layout.
    fn reference(a: &Attributes) -> String {
        let mut bytes = Vec::new();
        for (k, v) in a {
            for part in [k.as_bytes(), v.data_type.as_bytes()] {
                bytes.extend((part.len() as u32).to_be_bytes());
                bytes.extend(part);
            }
            let (t, val) = match &v.string_value {
                Some(s) => (1u8, s.as_bytes().to_vec()),
                None => (2u8, base64::engine::general_purpose::STANDARD.decode(v.binary_value.as_ref().unwrap()).unwrap()),
            };
            bytes.push(t);
            bytes.extend((val.len() as u32).to_be_bytes());
            bytes.extend(val);
        }
        md5_hex(&bytes)
    }

    #[test]
    fn known_attribute_digest() {
        // From the SQS developer guide's example: one String attribute.
        let mut a = Attributes::new();
        a.insert("City".into(), attr("String", Some("Any City"), None));
        let d = md5_of_attributes(&a).unwrap();
        assert_eq!(d.len(), 32);
    }

    #[test]
    fn characters() {
        assert!(check_characters("ok\t\n\r €😀").is_ok());
        assert_eq!(check_characters("bad\u{0}").unwrap_err().code, "InvalidMessageContents");
        assert!(check_characters("\u{FFFE}").is_err());
        assert!(check_characters("\u{1}").is_err());
    }

    #[test]
    fn attribute_rules() {
        let mut a = Attributes::new();
        a.insert("AWS.x".into(), attr("String", Some("v"), None));
        assert!(check_attributes(&a).is_err());
        let mut a = Attributes::new();
        a.insert("ok".into(), attr("Strin", Some("v"), None));
        assert!(check_attributes(&a).is_err());
        let mut a = Attributes::new();
        a.insert("ok".into(), attr("String", Some(""), None));
        assert!(check_attributes(&a).is_err());
        let mut a = Attributes::new();
        a.insert("n".into(), attr("Number", Some("x"), None));
        assert!(check_attributes(&a).is_err());
        let mut a = Attributes::new();
        for i in 0..11 {
            a.insert(format!("a{i}"), attr("String", Some("v"), None));
        }
        assert!(check_attributes(&a).is_err());
        let mut a = Attributes::new();
        a.insert("a.b-c_d".into(), attr("String.custom", Some("vv"), None));
        assert_eq!(check_attributes(&a).unwrap(), 7 + 13 + 2);
    }

    #[test]
    fn receipt_handles_round_trip_and_are_bound_to_their_queue() {
        let h = receipt_handle("arn:q", 42, 7);
        assert_eq!(parse_receipt_handle("arn:q", &h).unwrap(), (42, 7));
        assert!(parse_receipt_handle("arn:other", &h).is_err());
        assert_eq!(parse_receipt_handle("arn:q", "garbage!").unwrap_err().code, "ReceiptHandleIsInvalid");
    }
}
