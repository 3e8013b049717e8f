//! The constraints of the Logs model that its front end enforces before an operation
//! runs: name lengths and patterns, limits, and the retention periods AWS accepts.

use nimbus_core::AwsError;

use crate::errors::constraint;

/// The only retention periods PutRetentionPolicy accepts, in days.
pub const RETENTION_DAYS: [i64; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

const GROUP_NAME_PATTERN: &str = r"[\.\-_/#A-Za-z0-9]+";
const STREAM_NAME_PATTERN: &str = "[^:*]*";

fn is_group_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | '#')
}

fn check_length(value: &str, member: &str, max: usize) -> Result<(), AwsError> {
    let len = value.chars().count();
    if len < 1 {
        return Err(constraint(value, member, "Member must have length greater than or equal to 1"));
    }
    if len > max {
        return Err(constraint(value, member, &format!("Member must have length less than or equal to {max}")));
    }
    Ok(())
}

/// `logGroupName` (and `logGroupNamePrefix`): 1–512 of `[.-_/#A-Za-z0-9]`.
pub fn group_name(value: &str, member: &str) -> Result<(), AwsError> {
    check_length(value, member, 512)?;
    if !value.chars().all(is_group_name_char) {
        return Err(constraint(
            value,
            member,
            &format!("Member must satisfy regular expression pattern: {GROUP_NAME_PATTERN}"),
        ));
    }
    Ok(())
}

/// A name CreateLogGroup accepts: valid, and not in AWS's reserved `aws/` namespace.
pub fn new_group_name(value: &str) -> Result<(), AwsError> {
    group_name(value, "logGroupName")?;
    if value.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws/")) {
        return Err(crate::errors::invalid_parameter("Log groups starting with AWS/ are reserved for AWS."));
    }
    Ok(())
}

/// `logStreamName` (and `logStreamNamePrefix`): 1–512 characters, no ':' or '*'.
pub fn stream_name(value: &str, member: &str) -> Result<(), AwsError> {
    check_length(value, member, 512)?;
    if value.contains([':', '*']) {
        return Err(constraint(
            value,
            member,
            &format!("Member must satisfy regular expression pattern: {STREAM_NAME_PATTERN}"),
        ));
    }
    Ok(())
}

/// A `limit` member: `min..=max`, or `default` when absent.
pub fn limit(value: Option<i64>, min: i64, max: i64, default: i64) -> Result<usize, AwsError> {
    let Some(v) = value else { return Ok(default as usize) };
    if v < min {
        return Err(constraint(&v.to_string(), "limit", &format!("Member must have value greater than or equal to {min}")));
    }
    if v > max {
        return Err(constraint(&v.to_string(), "limit", &format!("Member must have value less than or equal to {max}")));
    }
    Ok(v as usize)
}

pub fn retention(days: i64) -> Result<u32, AwsError> {
    if RETENTION_DAYS.contains(&days) {
        return Ok(days as u32);
    }
    let allowed: Vec<String> = RETENTION_DAYS.iter().map(|d| d.to_string()).collect();
    Err(constraint(
        &days.to_string(),
        "retentionInDays",
        &format!("Member must satisfy enum value set: [{}]", allowed.join(", ")),
    ))
}

/// Tags as CreateLogGroup and TagResource take them: 1–50 pairs, keys 1–128
/// characters not starting with `aws:`, values up to 256 characters.
pub fn tags<'a>(tags: impl Iterator<Item = (&'a String, &'a String)>, member: &str) -> Result<(), AwsError> {
    for (k, v) in tags {
        let klen = k.chars().count();
        if klen == 0 || klen > 128 {
            return Err(constraint(k, &format!("{member}.key"), "Member must have length between 1 and 128"));
        }
        if k.starts_with("aws:") {
            return Err(crate::errors::invalid_parameter("Tag keys prefixed with 'aws:' are reserved for AWS."));
        }
        if v.chars().count() > 256 {
            return Err(constraint(v, &format!("{member}.value"), "Member must have length less than or equal to 256"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names_follow_the_model_pattern() {
        assert!(group_name("/aws/lambda/my-fn_1.#x", "logGroupName").is_ok());
        let e = group_name("bad name", "logGroupName").unwrap_err();
        assert_eq!(e.code, "InvalidParameterException");
        assert!(e.message.contains("regular expression pattern"), "{}", e.message);
        assert!(group_name("", "logGroupName").is_err());
        assert!(group_name(&"a".repeat(513), "logGroupName").is_err());
        assert!(group_name(&"a".repeat(512), "logGroupName").is_ok());
        assert!(new_group_name("aws/mine").is_err());
        assert!(new_group_name("AWS/mine").is_err());
        assert!(new_group_name("/aws/lambda/f").is_ok());
    }

    #[test]
    fn stream_names_exclude_colon_and_star() {
        assert!(stream_name("2026/01/01/[$LATEST]abc", "logStreamName").is_ok());
        assert!(stream_name("a:b", "logStreamName").is_err());
        assert!(stream_name("a*", "logStreamName").is_err());
    }

    #[test]
    fn only_aws_retention_values() {
        assert_eq!(retention(14).unwrap(), 14);
        assert_eq!(retention(3653).unwrap(), 3653);
        for bad in [0, 2, 4000, -1] {
            assert_eq!(retention(bad).unwrap_err().code, "InvalidParameterException");
        }
    }

    #[test]
    fn limits() {
        assert_eq!(limit(None, 1, 50, 50).unwrap(), 50);
        assert_eq!(limit(Some(3), 1, 50, 50).unwrap(), 3);
        assert!(limit(Some(0), 1, 50, 50).is_err());
        assert!(limit(Some(51), 1, 50, 50).is_err());
    }
}
