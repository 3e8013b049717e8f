//! Shared building blocks every nimbus service stands on: who is calling (account and
//! region), AWS errors, ARNs, ids and the clock, and the target registry through which
//! services deliver to each other by ARN.

pub mod arn;
pub mod auth;
pub mod context;
pub mod error;
pub mod ids;
pub mod patterns;
pub mod resource_policy;
pub mod targets;

pub use arn::Arn;
pub use auth::AuthConfig;
pub use context::RequestContext;
pub use error::AwsError;

/// The account used for any access key that is not itself a 12-digit account id.
pub const DEFAULT_ACCOUNT: &str = "000000000000";
pub const DEFAULT_REGION: &str = "us-east-1";

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
