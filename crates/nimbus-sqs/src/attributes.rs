//! Queue attributes: which exist, their ranges and defaults, and the typed settings
//! the queue runs on.

use std::collections::BTreeMap;

use nimbus_core::AwsError;
use serde_json::Value;

use crate::errors::{invalid_attribute_name, invalid_attribute_value};

pub const MAX_MESSAGE_SIZE: u64 = 1_048_576;

/// Attributes a client may set (FifoQueue only at creation).
const SETTABLE: &[&str] = &[
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "Policy",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "RedrivePolicy",
    "RedriveAllowPolicy",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
];

const FIFO_ONLY: &[&str] = &["ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"];

/// Attributes GetQueueAttributes can name but nobody sets.
pub const READ_ONLY: &[&str] = &[
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesDelayed",
    "ApproximateNumberOfMessagesNotVisible",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
];

/// The settings a queue's behaviour depends on, parsed from its attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub fifo: bool,
    pub delay_secs: u64,
    pub max_message_size: u64,
    pub retention_secs: u64,
    pub receive_wait_secs: u64,
    pub visibility_secs: u64,
    pub content_based_dedup: bool,
    /// `queue` or `messageGroup`.
    pub dedup_per_group: bool,
    /// (dead-letter queue ARN, maxReceiveCount)
    pub redrive: Option<(String, u32)>,
}

/// Defaults AWS reports for a new queue.
pub fn defaults(fifo: bool) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for (k, v) in [
        ("DelaySeconds", "0"),
        ("MaximumMessageSize", "1048576"),
        ("MessageRetentionPeriod", "345600"),
        ("ReceiveMessageWaitTimeSeconds", "0"),
        ("VisibilityTimeout", "30"),
        ("SqsManagedSseEnabled", "true"),
    ] {
        m.insert(k.to_string(), v.to_string());
    }
    if fifo {
        m.insert("FifoQueue".into(), "true".into());
        m.insert("ContentBasedDeduplication".into(), "false".into());
        m.insert("DeduplicationScope".into(), "queue".into());
        m.insert("FifoThroughputLimit".into(), "perQueue".into());
    }
    m
}

fn int_in(name: &str, v: &str, lo: u64, hi: u64) -> Result<(), AwsError> {
    match v.trim().parse::<u64>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(()),
        _ => Err(invalid_attribute_value(name, "")),
    }
}

fn bool_value(name: &str, v: &str) -> Result<(), AwsError> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "false" => Ok(()),
        _ => Err(invalid_attribute_value(name, "")),
    }
}

fn json_object(name: &str, v: &str) -> Result<serde_json::Map<String, Value>, AwsError> {
    match serde_json::from_str::<Value>(v) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(invalid_attribute_value(name, "Invalid JSON.")),
    }
}

/// Checks attribute names and values a client sent (CreateQueue / SetQueueAttributes).
/// `fifo` is the queue's type; `creating` allows FifoQueue. Returns values normalised
/// as AWS reports them (booleans lower-case).
pub fn validate(
    attrs: &BTreeMap<String, String>,
    fifo: bool,
    creating: bool,
) -> Result<BTreeMap<String, String>, AwsError> {
    let mut out = BTreeMap::new();
    for (name, value) in attrs {
        if !SETTABLE.contains(&name.as_str()) {
            return Err(invalid_attribute_name(name));
        }
        // A queue's type is fixed: naming FifoQueue later is unknown on a standard
        // queue and an invalid value on a FIFO one.
        if (FIFO_ONLY.contains(&name.as_str()) || (name == "FifoQueue" && !creating)) && !fifo {
            return Err(invalid_attribute_name(name));
        }
        let mut value = value.clone();
        match name.as_str() {
            "DelaySeconds" => int_in(name, &value, 0, 900)?,
            "MaximumMessageSize" => int_in(name, &value, 1024, MAX_MESSAGE_SIZE)?,
            "MessageRetentionPeriod" => int_in(name, &value, 60, 1_209_600)?,
            "ReceiveMessageWaitTimeSeconds" => int_in(name, &value, 0, 20)?,
            "VisibilityTimeout" => int_in(name, &value, 0, 43_200)?,
            "KmsDataKeyReusePeriodSeconds" => int_in(name, &value, 60, 86_400)?,
            "Policy" => {
                if !value.is_empty() {
                    json_object(name, &value)?;
                }
            }
            "RedrivePolicy" => {
                if !value.is_empty() {
                    parse_redrive_policy(&value)?;
                }
            }
            "RedriveAllowPolicy" => {
                if !value.is_empty() {
                    validate_redrive_allow(&value)?;
                }
            }
            "SqsManagedSseEnabled" | "ContentBasedDeduplication" => {
                bool_value(name, &value)?;
                value = value.to_ascii_lowercase();
            }
            "FifoQueue" => {
                bool_value(name, &value)?;
                value = value.to_ascii_lowercase();
                if !creating || (value == "true") != fifo {
                    return Err(invalid_attribute_value(name, ""));
                }
            }
            "DeduplicationScope" => {
                if !matches!(value.as_str(), "messageGroup" | "queue") {
                    return Err(invalid_attribute_value(name, ""));
                }
            }
            "FifoThroughputLimit" => {
                if !matches!(value.as_str(), "perQueue" | "perMessageGroupId") {
                    return Err(invalid_attribute_value(name, ""));
                }
            }
            _ => {}
        }
        out.insert(name.clone(), value);
    }
    // High throughput needs per-group deduplication.
    if out.get("FifoThroughputLimit").map(String::as_str) == Some("perMessageGroupId")
        && out.get("DeduplicationScope").map(String::as_str) == Some("queue")
    {
        return Err(invalid_attribute_value(
            "FifoThroughputLimit",
            "The perMessageGroupId value is allowed only when the value for DeduplicationScope is messageGroup.",
        ));
    }
    Ok(out)
}

/// `{"deadLetterTargetArn": "...", "maxReceiveCount": 5}` (the count may be a string).
pub fn parse_redrive_policy(v: &str) -> Result<(String, u32), AwsError> {
    let bad = |why: &str| redrive_error(v, why);
    let m = match serde_json::from_str::<Value>(v) {
        Ok(Value::Object(m)) => m,
        _ => return Err(bad("Redrive policy is not a valid JSON map.")),
    };
    let arn = m
        .get("deadLetterTargetArn")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("Redrive policy is not a valid JSON map or is missing deadLetterTargetArn."))?
        .to_string();
    let count = match m.get("maxReceiveCount") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n| (1..=1000).contains(n))
    .ok_or_else(|| bad("Invalid value for maxReceiveCount, valid values are from 1 to 1000 both inclusive."))?;
    Ok((arn, count as u32))
}

/// SQS reports RedrivePolicy problems as InvalidParameterValue naming the value.
pub fn redrive_error(value: &str, reason: &str) -> AwsError {
    crate::errors::invalid_parameter("RedrivePolicy", value, reason)
}

fn validate_redrive_allow(v: &str) -> Result<(), AwsError> {
    let m = json_object("RedriveAllowPolicy", v)?;
    let perm = m.get("redrivePermission").and_then(Value::as_str).unwrap_or("");
    let sources = m.get("sourceQueueArns").and_then(Value::as_array).map(Vec::len);
    let ok = match perm {
        "allowAll" | "denyAll" => sources.is_none(),
        "byQueue" => matches!(sources, Some(1..=10)),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(invalid_attribute_value(
            "RedriveAllowPolicy",
            "redrivePermission must be allowAll, denyAll or byQueue; byQueue needs 1 to 10 sourceQueueArns.",
        ))
    }
}

/// May a queue whose ARN is `source` use the queue with this RedriveAllowPolicy as its DLQ?
pub fn redrive_allowed(allow_policy: Option<&String>, source: &str) -> bool {
    let Some(Ok(Value::Object(m))) = allow_policy.filter(|p| !p.is_empty()).map(|p| serde_json::from_str::<Value>(p)) else {
        return true;
    };
    match m.get("redrivePermission").and_then(Value::as_str) {
        Some("denyAll") => false,
        Some("byQueue") => m
            .get("sourceQueueArns")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(source))),
        _ => true,
    }
}

impl Settings {
    pub fn from_attributes(attrs: &BTreeMap<String, String>) -> Self {
        let num = |k: &str, d: u64| attrs.get(k).and_then(|v| v.trim().parse().ok()).unwrap_or(d);
        let flag = |k: &str| attrs.get(k).is_some_and(|v| v.eq_ignore_ascii_case("true"));
        Settings {
            fifo: flag("FifoQueue"),
            delay_secs: num("DelaySeconds", 0),
            max_message_size: num("MaximumMessageSize", MAX_MESSAGE_SIZE),
            retention_secs: num("MessageRetentionPeriod", 345_600),
            receive_wait_secs: num("ReceiveMessageWaitTimeSeconds", 0),
            visibility_secs: num("VisibilityTimeout", 30),
            content_based_dedup: flag("ContentBasedDeduplication"),
            dedup_per_group: attrs.get("DeduplicationScope").map(String::as_str) == Some("messageGroup"),
            redrive: attrs
                .get("RedrivePolicy")
                .filter(|v| !v.is_empty())
                .and_then(|v| parse_redrive_policy(v).ok()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn ranges() {
        assert!(validate(&map(&[("DelaySeconds", "900")]), false, true).is_ok());
        assert_eq!(validate(&map(&[("DelaySeconds", "901")]), false, true).unwrap_err().code, "InvalidAttributeValue");
        assert!(validate(&map(&[("MaximumMessageSize", "1023")]), false, true).is_err());
        assert!(validate(&map(&[("VisibilityTimeout", "-1")]), false, true).is_err());
        assert_eq!(validate(&map(&[("Bogus", "1")]), false, true).unwrap_err().code, "InvalidAttributeName");
        assert_eq!(validate(&map(&[("ContentBasedDeduplication", "true")]), false, true).unwrap_err().code, "InvalidAttributeName");
        assert!(validate(&map(&[("FifoQueue", "true")]), false, true).is_err());
        assert_eq!(validate(&map(&[("FifoQueue", "true")]), true, false).unwrap_err().code, "InvalidAttributeValue");
        assert_eq!(validate(&map(&[("FifoQueue", "true")]), false, false).unwrap_err().code, "InvalidAttributeName");
        assert_eq!(validate(&map(&[("FifoQueue", "TRUE")]), true, true).unwrap()["FifoQueue"], "true");
    }

    #[test]
    fn redrive() {
        assert_eq!(
            parse_redrive_policy(r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:0:d","maxReceiveCount":"3"}"#).unwrap(),
            ("arn:aws:sqs:us-east-1:0:d".to_string(), 3)
        );
        assert!(parse_redrive_policy(r#"{"deadLetterTargetArn":"a","maxReceiveCount":0}"#).is_err());
        assert!(parse_redrive_policy("nope").is_err());
        assert!(redrive_allowed(None, "x"));
        assert!(!redrive_allowed(Some(&r#"{"redrivePermission":"denyAll"}"#.to_string()), "x"));
        let by = r#"{"redrivePermission":"byQueue","sourceQueueArns":["x"]}"#.to_string();
        assert!(redrive_allowed(Some(&by), "x"));
        assert!(!redrive_allowed(Some(&by), "y"));
    }

    #[test]
    fn settings_from_defaults() {
        let s = Settings::from_attributes(&defaults(true));
        assert!(s.fifo);
        assert_eq!(s.visibility_secs, 30);
        assert_eq!(s.max_message_size, MAX_MESSAGE_SIZE);
    }
}
