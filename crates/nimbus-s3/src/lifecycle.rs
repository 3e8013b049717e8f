//! Bucket lifecycle configuration: the rules as stored, validated as AWS validates
//! them, and mapped to and from the API's shapes. What the rules do is `expiry.rs`.

use s3s::dto;
use s3s::{s3_error, S3Error, S3ErrorCode, S3Result};
use serde::{Deserialize, Serialize};

/// One lifecycle rule, kept as given so GetBucketLifecycleConfiguration returns it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Rule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub enabled: bool,
    /// The legacy rule-level `Prefix` (instead of a `Filter`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<Expiration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noncurrent_expiration: Option<NoncurrentExpiration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abort_incomplete_upload_days: Option<i32>,
    /// Applied by `expiry.rs`: a due transition relabels the version's storage class.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transitions: Vec<Transition>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub noncurrent_transitions: Vec<NoncurrentTransition>,
}

/// A rule's `Filter`: at most one of its members (`and` combines several).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Filter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_greater_than: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_less_than: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub and: Option<AndFilter>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AndFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_greater_than: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_less_than: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Expiration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<i32>,
    /// Unix seconds (always a UTC midnight).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired_object_delete_marker: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NoncurrentExpiration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noncurrent_days: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newer_noncurrent_versions: Option<i32>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Transition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NoncurrentTransition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noncurrent_days: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newer_noncurrent_versions: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
}

impl Rule {
    /// Does the rule apply to an object with this key, size and tags?
    pub fn matches(&self, key: &str, size: u64, tags: &[(String, String)]) -> bool {
        let has_tag = |(k, v): &(String, String)| tags.iter().any(|(tk, tv)| tk == k && tv == v);
        let size = size as i64;
        if let Some(p) = &self.prefix {
            if !key.starts_with(p.as_str()) {
                return false;
            }
        }
        let Some(f) = &self.filter else { return true };
        f.prefix.as_deref().is_none_or(|p| key.starts_with(p))
            && f.tag.as_ref().is_none_or(has_tag)
            && f.size_greater_than.is_none_or(|n| size > n)
            && f.size_less_than.is_none_or(|n| size < n)
            && f.and.as_ref().is_none_or(|a| {
                a.prefix.as_deref().is_none_or(|p| key.starts_with(p))
                    && a.tags.iter().all(has_tag)
                    && a.size_greater_than.is_none_or(|n| size > n)
                    && a.size_less_than.is_none_or(|n| size < n)
            })
    }

    /// The key prefix the rule is limited to (multipart uploads have no tags or size yet).
    pub fn key_prefix(&self) -> &str {
        self.prefix
            .as_deref()
            .or_else(|| self.filter.as_ref().and_then(|f| f.prefix.as_deref().or_else(|| f.and.as_ref().and_then(|a| a.prefix.as_deref()))))
            .unwrap_or("")
    }

    /// The rule filters on tags or size, which multipart uploads cannot match.
    fn filters_on_object_attributes(&self) -> bool {
        self.filter.as_ref().is_some_and(|f| {
            f.tag.is_some()
                || f.size_greater_than.is_some()
                || f.size_less_than.is_some()
                || f.and.as_ref().is_some_and(|a| !a.tags.is_empty() || a.size_greater_than.is_some() || a.size_less_than.is_some())
        })
    }

    pub fn aborts_uploads(&self) -> bool {
        self.abort_incomplete_upload_days.is_some() && !self.filters_on_object_attributes()
    }
}

fn malformed() -> S3Error {
    s3_error!(MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema")
}

fn invalid_argument(msg: &'static str) -> S3Error {
    S3Error::with_message(S3ErrorCode::InvalidArgument, msg)
}

fn invalid_request(msg: &'static str) -> S3Error {
    S3Error::with_message(S3ErrorCode::InvalidRequest, msg)
}

fn tag_pair(t: dto::Tag) -> S3Result<(String, String)> {
    Ok((t.key.ok_or_else(malformed)?, t.value.unwrap_or_default()))
}

fn midnight_utc(t: &dto::Timestamp) -> S3Result<i64> {
    let t = time::OffsetDateTime::from(t.clone());
    let t = t.to_offset(time::UtcOffset::UTC);
    if t.time() != time::Time::MIDNIGHT {
        return Err(invalid_argument("'Date' must be at midnight GMT"));
    }
    Ok(t.unix_timestamp())
}

fn invalid_argument_owned(msg: String) -> S3Error {
    S3Error::with_message(S3ErrorCode::InvalidArgument, msg)
}

/// A rule's filter as S3's messages name it: `prefix 'logs/'` or `filter '(prefix=logs/)'`.
fn rule_filter_text(prefix: Option<&str>, filter: Option<&Filter>) -> String {
    match (prefix, filter) {
        (Some(p), _) => format!("prefix '{p}'"),
        (None, f) => format!("filter '(prefix={})'", f.and_then(|f| f.prefix.as_deref().or(f.and.as_ref().and_then(|a| a.prefix.as_deref()))).unwrap_or("")),
    }
}

/// A Transition's StorageClass: one lifecycle can move objects to.
fn transition_class(class: Option<&str>) -> S3Result<String> {
    match class {
        Some(c) if crate::storage_class::TRANSITION_CLASSES.contains(&c) => Ok(c.to_string()),
        _ => Err(malformed()),
    }
}

/// Transition days are 0 or more, and at least 30 into STANDARD_IA and ONEZONE_IA
/// (S3's minimum storage duration before an infrequent-access class).
fn check_transition_days(days: Option<i32>, field: &str, action: &str, class: &str) -> S3Result<()> {
    let Some(days) = days else { return Ok(()) };
    if days < 0 {
        return Err(invalid_argument_owned(format!("'{field}' in {action} action must be nonnegative")));
    }
    if matches!(class, "STANDARD_IA" | "ONEZONE_IA") && days < 30 {
        return Err(invalid_argument_owned(format!("'{field}' in {action} action must be greater than or equal to 30 for storageClass '{class}'")));
    }
    Ok(())
}

/// PutBucketLifecycleConfiguration's `x-amz-transition-default-minimum-object-size`
/// (None: the default, all_storage_classes_128K).
pub fn min_size_from(v: Option<&dto::TransitionDefaultMinimumObjectSize>) -> S3Result<Option<String>> {
    match v.map(|v| v.as_str()) {
        None | Some(dto::TransitionDefaultMinimumObjectSize::ALL_STORAGE_CLASSES_128K) => Ok(None),
        Some(v @ dto::TransitionDefaultMinimumObjectSize::VARIES_BY_STORAGE_CLASS) => Ok(Some(v.to_string())),
        Some(_) => Err(invalid_argument("Invalid value for x-amz-transition-default-minimum-object-size")),
    }
}

pub fn min_size_dto(v: Option<&str>) -> dto::TransitionDefaultMinimumObjectSize {
    dto::TransitionDefaultMinimumObjectSize::from(v.unwrap_or(dto::TransitionDefaultMinimumObjectSize::ALL_STORAGE_CLASSES_128K).to_string())
}

fn positive(days: Option<i32>, msg: &'static str) -> S3Result<()> {
    match days {
        Some(d) if d <= 0 => Err(invalid_argument(msg)),
        _ => Ok(()),
    }
}

fn filter_from(f: dto::LifecycleRuleFilter) -> S3Result<Filter> {
    let members = [f.prefix.is_some(), f.tag.is_some(), f.and.is_some(), f.object_size_greater_than.is_some(), f.object_size_less_than.is_some()];
    if members.iter().filter(|m| **m).count() > 1 {
        return Err(malformed());
    }
    let and = match f.and {
        None => None,
        Some(a) => Some(AndFilter {
            prefix: a.prefix,
            tags: a.tags.unwrap_or_default().into_iter().map(tag_pair).collect::<S3Result<_>>()?,
            size_greater_than: a.object_size_greater_than,
            size_less_than: a.object_size_less_than,
        }),
    };
    Ok(Filter {
        prefix: f.prefix,
        tag: f.tag.map(tag_pair).transpose()?,
        size_greater_than: f.object_size_greater_than,
        size_less_than: f.object_size_less_than,
        and,
    })
}

/// Validates a PutBucketLifecycleConfiguration body into rules.
pub fn rules_from(config: Option<dto::BucketLifecycleConfiguration>) -> S3Result<Vec<Rule>> {
    let rules = config.ok_or_else(malformed)?.rules;
    if rules.is_empty() || rules.len() > 1000 {
        return Err(malformed());
    }
    let mut out: Vec<Rule> = Vec::with_capacity(rules.len());
    for r in rules {
        let enabled = match r.status.as_str() {
            dto::ExpirationStatus::ENABLED => true,
            dto::ExpirationStatus::DISABLED => false,
            _ => return Err(malformed()),
        };
        if r.id.as_ref().is_some_and(|id| id.chars().count() > 255) {
            return Err(invalid_argument("ID length should not exceed allowed limit of 255"));
        }
        // A rule names its objects with a Filter or (the older form) a Prefix: one, not both.
        if r.prefix.is_some() == r.filter.is_some() {
            return Err(malformed());
        }
        let filter = r.filter.map(filter_from).transpose()?;
        let expiration = match r.expiration {
            None => None,
            Some(e) => {
                let given = [e.days.is_some(), e.date.is_some(), e.expired_object_delete_marker.is_some()];
                if given.iter().filter(|g| **g).count() != 1 {
                    return Err(malformed());
                }
                positive(e.days, "'Days' for Expiration action must be a positive integer")?;
                Some(Expiration {
                    days: e.days,
                    date: e.date.as_ref().map(midnight_utc).transpose()?,
                    expired_object_delete_marker: e.expired_object_delete_marker,
                })
            }
        };
        let noncurrent_expiration = match r.noncurrent_version_expiration {
            None => None,
            Some(n) => {
                if n.noncurrent_days.is_none() {
                    return Err(malformed());
                }
                positive(n.noncurrent_days, "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer")?;
                positive(n.newer_noncurrent_versions, "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive integer")?;
                Some(NoncurrentExpiration { noncurrent_days: n.noncurrent_days, newer_noncurrent_versions: n.newer_noncurrent_versions })
            }
        };
        let abort_incomplete_upload_days = match r.abort_incomplete_multipart_upload {
            None => None,
            Some(a) => {
                let days = a.days_after_initiation.ok_or_else(malformed)?;
                positive(Some(days), "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer")?;
                Some(days)
            }
        };
        let transitions: Vec<Transition> = r
            .transitions
            .unwrap_or_default()
            .into_iter()
            .map(|t| {
                let class = transition_class(t.storage_class.as_ref().map(|c| c.as_str()))?;
                if t.days.is_some() == t.date.is_some() {
                    return Err(malformed());
                }
                check_transition_days(t.days, "Days", "Transition", &class)?;
                Ok(Transition { days: t.days, date: t.date.as_ref().map(midnight_utc).transpose()?, storage_class: Some(class) })
            })
            .collect::<S3Result<_>>()?;
        let noncurrent_transitions: Vec<NoncurrentTransition> = r
            .noncurrent_version_transitions
            .unwrap_or_default()
            .into_iter()
            .map(|t| {
                let class = transition_class(t.storage_class.as_ref().map(|c| c.as_str()))?;
                if t.noncurrent_days.is_none() {
                    return Err(malformed());
                }
                check_transition_days(t.noncurrent_days, "NoncurrentDays", "NoncurrentVersionTransition", &class)?;
                positive(t.newer_noncurrent_versions, "'NewerNoncurrentVersions' for NoncurrentVersionTransition action must be a positive integer")?;
                Ok(NoncurrentTransition {
                    noncurrent_days: t.noncurrent_days,
                    newer_noncurrent_versions: t.newer_noncurrent_versions,
                    storage_class: Some(class),
                })
            })
            .collect::<S3Result<_>>()?;
        // An object must transition before it expires, or the transition never happens.
        let expiration_days = expiration.as_ref().and_then(|e| e.days);
        if let Some(exp) = expiration_days {
            if transitions.iter().any(|t| t.days.is_some_and(|d| exp <= d)) {
                return Err(invalid_argument_owned(format!(
                    "'Days' in the Expiration action for {} must be greater than 'Days' in the Transition action",
                    rule_filter_text(r.prefix.as_deref(), filter.as_ref())
                )));
            }
        }
        for (i, t) in transitions.iter().enumerate() {
            if transitions[..i].iter().any(|o| o.storage_class == t.storage_class) {
                return Err(invalid_argument_owned(format!(
                    "'StorageClass' must be different for 'Transition' actions in same 'Rule' with {}",
                    rule_filter_text(r.prefix.as_deref(), filter.as_ref())
                )));
            }
        }
        let rule = Rule {
            id: r.id,
            enabled,
            prefix: r.prefix,
            filter,
            expiration,
            noncurrent_expiration,
            abort_incomplete_upload_days,
            transitions,
            noncurrent_transitions,
        };
        if rule.expiration.is_none()
            && rule.noncurrent_expiration.is_none()
            && rule.abort_incomplete_upload_days.is_none()
            && rule.transitions.is_empty()
            && rule.noncurrent_transitions.is_empty()
        {
            return Err(invalid_request("At least one action needs to be specified in a rule"));
        }
        if rule.expiration.as_ref().is_some_and(|e| e.expired_object_delete_marker.is_some()) && rule.filters_on_object_attributes() {
            return Err(invalid_request("ExpiredObjectDeleteMarker cannot be specified with tags."));
        }
        if rule.abort_incomplete_upload_days.is_some() && rule.filters_on_object_attributes() {
            return Err(invalid_request("AbortIncompleteMultipartUpload cannot be specified with tags."));
        }
        if let Some(id) = &rule.id {
            if out.iter().any(|o| o.id.as_ref() == Some(id)) {
                return Err(invalid_argument("Rule ID must be unique. Found same ID for more than one rule"));
            }
        }
        out.push(rule);
    }
    Ok(out)
}

fn timestamp(secs: i64) -> dto::Timestamp {
    dto::Timestamp::from(time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH))
}

fn tag_dto((k, v): &(String, String)) -> dto::Tag {
    dto::Tag { key: Some(k.clone()), value: Some(v.clone()) }
}

/// The rules as GetBucketLifecycleConfiguration returns them.
pub fn rule_dtos(rules: &[Rule]) -> Vec<dto::LifecycleRule> {
    rules
        .iter()
        .map(|r| dto::LifecycleRule {
            id: r.id.clone(),
            status: dto::ExpirationStatus::from_static(if r.enabled { dto::ExpirationStatus::ENABLED } else { dto::ExpirationStatus::DISABLED }),
            prefix: r.prefix.clone(),
            filter: r.filter.as_ref().map(|f| dto::LifecycleRuleFilter {
                prefix: f.prefix.clone(),
                tag: f.tag.as_ref().map(tag_dto),
                object_size_greater_than: f.size_greater_than,
                object_size_less_than: f.size_less_than,
                and: f.and.as_ref().map(|a| dto::LifecycleRuleAndOperator {
                    prefix: a.prefix.clone(),
                    tags: (!a.tags.is_empty()).then(|| a.tags.iter().map(tag_dto).collect()),
                    object_size_greater_than: a.size_greater_than,
                    object_size_less_than: a.size_less_than,
                }),
            }),
            expiration: r.expiration.as_ref().map(|e| dto::LifecycleExpiration {
                days: e.days,
                date: e.date.map(timestamp),
                expired_object_delete_marker: e.expired_object_delete_marker,
            }),
            noncurrent_version_expiration: r.noncurrent_expiration.as_ref().map(|n| dto::NoncurrentVersionExpiration {
                noncurrent_days: n.noncurrent_days,
                newer_noncurrent_versions: n.newer_noncurrent_versions,
            }),
            abort_incomplete_multipart_upload: r
                .abort_incomplete_upload_days
                .map(|d| dto::AbortIncompleteMultipartUpload { days_after_initiation: Some(d) }),
            transitions: (!r.transitions.is_empty()).then(|| {
                r.transitions
                    .iter()
                    .map(|t| dto::Transition {
                        days: t.days,
                        date: t.date.map(timestamp),
                        storage_class: t.storage_class.clone().map(dto::TransitionStorageClass::from),
                    })
                    .collect()
            }),
            noncurrent_version_transitions: (!r.noncurrent_transitions.is_empty()).then(|| {
                r.noncurrent_transitions
                    .iter()
                    .map(|t| dto::NoncurrentVersionTransition {
                        noncurrent_days: t.noncurrent_days,
                        newer_noncurrent_versions: t.newer_noncurrent_versions,
                        storage_class: t.storage_class.clone().map(dto::TransitionStorageClass::from),
                    })
                    .collect()
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(f: impl FnOnce(&mut dto::LifecycleRule)) -> dto::LifecycleRule {
        let mut r = dto::LifecycleRule {
            id: Some("r".into()),
            status: dto::ExpirationStatus::from_static(dto::ExpirationStatus::ENABLED),
            filter: Some(dto::LifecycleRuleFilter { prefix: Some("logs/".into()), ..Default::default() }),
            expiration: Some(dto::LifecycleExpiration { days: Some(1), ..Default::default() }),
            abort_incomplete_multipart_upload: None,
            noncurrent_version_expiration: None,
            noncurrent_version_transitions: None,
            prefix: None,
            transitions: None,
        };
        f(&mut r);
        r
    }

    fn put(rules: Vec<dto::LifecycleRule>) -> S3Result<Vec<Rule>> {
        rules_from(Some(dto::BucketLifecycleConfiguration { rules }))
    }

    fn code(r: S3Result<Vec<Rule>>) -> S3ErrorCode {
        r.map(|_| ()).unwrap_err().code().clone()
    }

    #[test]
    fn validates_transitions_like_aws() {
        let t = |days: Option<i32>, class: &str| dto::Transition {
            days,
            date: None,
            storage_class: Some(dto::TransitionStorageClass::from(class.to_string())),
        };
        let msg = |r: S3Result<Vec<Rule>>| r.map(|_| ()).unwrap_err().message().unwrap_or_default().to_string();
        assert!(put(vec![rule(|r| { r.expiration = None; r.transitions = Some(vec![t(Some(30), "STANDARD_IA"), t(Some(0), "GLACIER")]); })]).is_ok());
        assert_eq!(
            msg(put(vec![rule(|r| { r.expiration = None; r.transitions = Some(vec![t(Some(29), "STANDARD_IA")]); })])),
            "'Days' in Transition action must be greater than or equal to 30 for storageClass 'STANDARD_IA'"
        );
        assert_eq!(msg(put(vec![rule(|r| { r.expiration = None; r.transitions = Some(vec![t(Some(-1), "GLACIER")]); })])), "'Days' in Transition action must be nonnegative");
        assert_eq!(code(put(vec![rule(|r| { r.expiration = None; r.transitions = Some(vec![t(Some(1), "STANDARD")]); })])), S3ErrorCode::MalformedXML);
        assert_eq!(code(put(vec![rule(|r| { r.expiration = None; r.transitions = Some(vec![t(None, "GLACIER")]); })])), S3ErrorCode::MalformedXML);
        assert_eq!(
            msg(put(vec![rule(|r| { r.expiration = None; r.transitions = Some(vec![t(Some(1), "GLACIER"), t(Some(2), "GLACIER")]); })])),
            "'StorageClass' must be different for 'Transition' actions in same 'Rule' with filter '(prefix=logs/)'"
        );
        let nc = |days: i32, class: &str| dto::NoncurrentVersionTransition {
            noncurrent_days: Some(days),
            newer_noncurrent_versions: None,
            storage_class: Some(dto::TransitionStorageClass::from(class.to_string())),
        };
        assert_eq!(
            msg(put(vec![rule(|r| r.noncurrent_version_transitions = Some(vec![nc(10, "ONEZONE_IA")]))])),
            "'NoncurrentDays' in NoncurrentVersionTransition action must be greater than or equal to 30 for storageClass 'ONEZONE_IA'"
        );
        assert!(put(vec![rule(|r| r.noncurrent_version_transitions = Some(vec![nc(1, "DEEP_ARCHIVE")]))]).is_ok());
        assert_eq!(
            msg(put(vec![rule(|r| {
                r.expiration = Some(dto::LifecycleExpiration { days: Some(30), ..Default::default() });
                r.transitions = Some(vec![t(Some(30), "STANDARD_IA")]);
            })])),
            "'Days' in the Expiration action for filter '(prefix=logs/)' must be greater than 'Days' in the Transition action"
        );
        assert_eq!(min_size_from(None).unwrap(), None);
        let v = dto::TransitionDefaultMinimumObjectSize::from("varies_by_storage_class".to_string());
        assert_eq!(min_size_from(Some(&v)).unwrap().as_deref(), Some("varies_by_storage_class"));
        assert_eq!(min_size_dto(None).as_str(), "all_storage_classes_128K");
    }

    #[test]
    fn validates_like_aws() {
        assert!(put(vec![rule(|_| {})]).is_ok());
        assert_eq!(code(rules_from(None)), S3ErrorCode::MalformedXML);
        assert_eq!(code(put(vec![])), S3ErrorCode::MalformedXML);
        assert_eq!(code(put(vec![rule(|r| r.status = dto::ExpirationStatus::from("On".to_string()))])), S3ErrorCode::MalformedXML);
        assert_eq!(code(put(vec![rule(|r| r.prefix = Some("x".into()))])), S3ErrorCode::MalformedXML);
        assert_eq!(code(put(vec![rule(|r| r.filter = None)])), S3ErrorCode::MalformedXML);
        assert_eq!(code(put(vec![rule(|r| r.expiration = None)])), S3ErrorCode::InvalidRequest);
        assert_eq!(code(put(vec![rule(|r| r.expiration = Some(dto::LifecycleExpiration { days: Some(0), ..Default::default() }))])), S3ErrorCode::InvalidArgument);
        assert_eq!(
            code(put(vec![rule(|r| r.expiration = Some(dto::LifecycleExpiration { days: Some(1), expired_object_delete_marker: Some(true), ..Default::default() }))])),
            S3ErrorCode::MalformedXML
        );
        let noon = dto::Timestamp::from(time::OffsetDateTime::from_unix_timestamp(1_700_000_000 / 86_400 * 86_400 + 43_200).unwrap());
        assert_eq!(code(put(vec![rule(|r| r.expiration = Some(dto::LifecycleExpiration { date: Some(noon), ..Default::default() }))])), S3ErrorCode::InvalidArgument);
        assert_eq!(code(put(vec![rule(|_| {}), rule(|_| {})])), S3ErrorCode::InvalidArgument);
        assert_eq!(code(put(vec![rule(|r| r.id = Some("x".repeat(256)))])), S3ErrorCode::InvalidArgument);
        let both = dto::LifecycleRuleFilter { prefix: Some("a".into()), tag: Some(dto::Tag { key: Some("k".into()), value: Some("v".into()) }), ..Default::default() };
        assert_eq!(code(put(vec![rule(|r| r.filter = Some(both))])), S3ErrorCode::MalformedXML);
    }

    #[test]
    fn round_trips_and_matches() {
        let and = dto::LifecycleRuleFilter {
            and: Some(dto::LifecycleRuleAndOperator {
                prefix: Some("tmp/".into()),
                tags: Some(vec![dto::Tag { key: Some("class".into()), value: Some("scratch".into()) }]),
                object_size_greater_than: Some(10),
                object_size_less_than: None,
            }),
            ..Default::default()
        };
        let rules = put(vec![rule(|r| r.filter = Some(and))]).unwrap();
        let tags = vec![("class".to_string(), "scratch".to_string())];
        assert!(rules[0].matches("tmp/a", 11, &tags));
        assert!(!rules[0].matches("tmp/a", 10, &tags));
        assert!(!rules[0].matches("tmp/a", 11, &[]));
        assert!(!rules[0].matches("other/a", 11, &tags));
        assert_eq!(rules[0].key_prefix(), "tmp/");
        let back = rules_from(Some(dto::BucketLifecycleConfiguration { rules: rule_dtos(&rules) })).unwrap();
        assert_eq!(back, rules);
        let legacy = put(vec![rule(|r| {
            r.filter = None;
            r.prefix = Some("old/".into());
        })])
        .unwrap();
        assert!(legacy[0].matches("old/x", 0, &[]) && !legacy[0].matches("new/x", 0, &[]));
        assert_eq!(rule_dtos(&legacy)[0].prefix.as_deref(), Some("old/"));
    }
}
