//! S3 as other services see it through the target registry: bucket existence, and
//! GetObject for services that read objects (Lambda's code from S3Bucket/S3Key).

use async_trait::async_trait;
use base64::Engine;
use nimbus_core::targets::{Delivery, Target};
use nimbus_core::{Arn, AwsError, RequestContext};
use serde_json::{json, Value};

use crate::ops_access::AccessRequest;
use crate::policy_eval::Caller;
use crate::S3;

/// Largest object handed to another service whole (Lambda's unzipped code limit).
const MAX_INTERNAL_OBJECT: u64 = 262_144_000;

#[async_trait]
impl Target for S3 {
    /// Nothing delivers messages to a bucket.
    async fn deliver(&self, arn: &Arn, _delivery: Delivery) -> Result<(), AwsError> {
        Err(AwsError::invalid_parameter(format!("S3 buckets take no deliveries ({}).", arn.resource)))
    }

    fn exists(&self, arn: &Arn) -> bool {
        let bucket = arn.resource.split('/').next().unwrap_or("");
        self.state.bucket_exists(bucket)
    }

    /// `GetObject {Bucket, Key, VersionId?}` → `{Body (base64), ETag, ContentLength, VersionId}`,
    /// read with the calling account's permissions: the service acts on the caller's
    /// behalf, so the bucket policy applies to it as it would to the caller.
    async fn call(&self, ctx: &RequestContext, operation: &str, input: Value) -> Result<Value, AwsError> {
        if operation != "GetObject" {
            return Err(AwsError::new(501, "NotImplemented", format!("S3 takes no {operation} calls from other services")));
        }
        let member = |name: &str| input.get(name).and_then(Value::as_str);
        let bucket = member("Bucket").ok_or_else(|| AwsError::missing_parameter("Bucket"))?;
        let key = member("Key").ok_or_else(|| AwsError::missing_parameter("Key"))?;
        // Encoded so that a stray `&` or `=` in the id cannot split the query.
        let version_query = member("VersionId")
            .map(|v| format!("versionId={}", percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)));
        self.state
            .authorize(&AccessRequest {
                op: "GetObject",
                bucket: Some(bucket),
                key: Some(key),
                caller: Caller::Account(&ctx.account),
                method: &http::Method::GET,
                headers: &http::HeaderMap::new(),
                query: version_query.as_deref(),
                // A service calling on the caller's behalf has no source address
                // (aws:SourceIp is absent from such requests).
                source_ip: "",
            })
            .map_err(|e| AwsError::new(403, e.code().as_str(), e.message().unwrap_or("Access Denied").to_string()))?;
        let found = self.state.lookup(bucket, key, member("VersionId")).map_err(|e| {
            let status = e.status_code().map_or(400, |s| s.as_u16());
            AwsError::new(status, e.code().as_str(), e.message().unwrap_or("").to_string())
        })?;
        if found.meta.size > MAX_INTERNAL_OBJECT {
            return Err(AwsError::new(400, "EntityTooLarge", format!("The object is larger than {MAX_INTERNAL_OBJECT} bytes.")));
        }
        let body = self
            .state
            .read_body(&found.meta)
            .await
            .map_err(|e| AwsError::internal(format!("cannot read object: {e}")))?;
        Ok(json!({
            "Body": base64::engine::general_purpose::STANDARD.encode(&body),
            "ETag": found.meta.etag,
            "ContentLength": found.meta.size,
            "VersionId": found.meta.version_id,
        }))
    }
}
