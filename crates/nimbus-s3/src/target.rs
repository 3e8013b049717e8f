//! S3 as other services see it through the target registry: bucket existence, and
//! GetObject for services that read objects (Lambda's code from S3Bucket/S3Key).

use async_trait::async_trait;
use base64::Engine;
use nimbus_core::targets::{Delivery, Target};
use nimbus_core::{Arn, AwsError, RequestContext};
use serde_json::{json, Value};

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

    /// `GetObject {Bucket, Key, VersionId?}` → `{Body (base64), ETag, ContentLength, VersionId}`.
    async fn call(&self, _ctx: &RequestContext, operation: &str, input: Value) -> Result<Value, AwsError> {
        if operation != "GetObject" {
            return Err(AwsError::new(501, "NotImplemented", format!("S3 takes no {operation} calls from other services")));
        }
        let member = |name: &str| input.get(name).and_then(Value::as_str);
        let bucket = member("Bucket").ok_or_else(|| AwsError::missing_parameter("Bucket"))?;
        let key = member("Key").ok_or_else(|| AwsError::missing_parameter("Key"))?;
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
