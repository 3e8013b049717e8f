//! The target registry: how one service delivers to another by ARN (S3 → SQS,
//! SNS → Lambda, a rule → Step Functions) without importing it. A service registers
//! itself for the ARN service name it owns; senders resolve the ARN at delivery time.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::RwLock;

use serde_json::Value;

use crate::{Arn, AwsError, RequestContext};

/// What is delivered: a message body with string attributes, as every AWS
/// integration (S3 notifications, SNS deliveries, Lambda destinations) produces.
#[derive(Debug, Clone, Default)]
pub struct Delivery {
    pub body: String,
    /// name → (data type, string value)
    pub attributes: BTreeMap<String, (String, String)>,
    /// For FIFO targets.
    pub group_id: Option<String>,
    pub dedup_id: Option<String>,
    /// The ARN of the sending resource, used for authorisation and SenderId.
    pub source_arn: Option<String>,
}

#[async_trait]
pub trait Target: Send + Sync {
    /// Deliver to the resource `arn` names; errors are AWS errors of the target service.
    async fn deliver(&self, arn: &Arn, delivery: Delivery) -> Result<(), AwsError>;

    /// Whether the resource `arn` names exists (used by senders that validate their
    /// destinations, as S3 does when a notification configuration is put). Services
    /// that cannot tell answer true.
    fn exists(&self, _arn: &Arn) -> bool {
        true
    }

    /// Whether the resource policy of `arn` lets the service `principal` (such as
    /// "s3.amazonaws.com"), acting for `source_arn` in `source_account`, deliver to it.
    /// Services without resource policies (or that do not enforce them) answer true.
    fn allows(&self, _arn: &Arn, _principal: &str, _source_arn: &str, _source_account: &str) -> bool {
        true
    }

    /// Runs one of the service's own operations on behalf of another service, as AWS
    /// services call each other's APIs (Lambda's SQS poller calls ReceiveMessage and
    /// DeleteMessageBatch; Lambda writes its logs with PutLogEvents). Input and output
    /// are the operation's JSON shapes, as the service's awsJson/restJson codec sees them.
    async fn call(&self, _ctx: &RequestContext, operation: &str, _input: Value) -> Result<Value, AwsError> {
        Err(AwsError::new(501, "NotImplemented", format!("this service takes no {operation} calls from other services")))
    }
}

/// A request context for a call one service makes to another inside `account`/`region`.
pub fn internal_context(account: &str, region: &str) -> RequestContext {
    RequestContext {
        account: account.to_string(),
        region: region.to_string(),
        access_key: "nimbus-internal".to_string(),
        request_id: crate::ids::uuid4(),
        host: String::new(),
        path: String::new(),
    }
}

#[derive(Default, Clone)]
pub struct TargetRegistry {
    targets: Arc<RwLock<HashMap<String, Arc<dyn Target>>>>,
}

impl TargetRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Register the service that owns ARNs of `arn_service` (e.g. "sqs").
    pub fn register(&self, arn_service: &str, target: Arc<dyn Target>) {
        self.targets.write().insert(arn_service.to_string(), target);
    }

    pub async fn deliver(&self, arn: &str, delivery: Delivery) -> Result<(), AwsError> {
        let parsed = Arn::parse(arn)
            .ok_or_else(|| AwsError::invalid_parameter(format!("Invalid ARN: {arn}")))?;
        let target = self.targets.read().get(&parsed.service).cloned().ok_or_else(|| {
            AwsError::invalid_parameter(format!(
                "nimbus has no service registered for {} ARNs ({arn})",
                parsed.service
            ))
        })?;
        target.deliver(&parsed, delivery).await
    }

    /// Calls `operation` of the service registered for `arn_service` (see [`Target::call`]).
    pub async fn call(&self, arn_service: &str, ctx: &RequestContext, operation: &str, input: Value) -> Result<Value, AwsError> {
        let target = self.targets.read().get(arn_service).cloned().ok_or_else(|| {
            AwsError::new(501, "NotImplemented", format!("nimbus has no {arn_service} service registered"))
        })?;
        target.call(ctx, operation, input).await
    }

    /// True when `arn`'s service is registered and its resource policy lets `principal`
    /// deliver to it (see [`Target::allows`]).
    pub fn allows(&self, arn: &str, principal: &str, source_arn: &str, source_account: &str) -> bool {
        let Some(parsed) = Arn::parse(arn) else { return false };
        let target = self.targets.read().get(&parsed.service).cloned();
        target.is_some_and(|t| t.allows(&parsed, principal, source_arn, source_account))
    }

    /// True when `arn` parses, a service is registered for it and that service says
    /// the resource exists.
    pub fn exists(&self, arn: &str) -> bool {
        let Some(parsed) = Arn::parse(arn) else { return false };
        let target = self.targets.read().get(&parsed.service).cloned();
        target.is_some_and(|t| t.exists(&parsed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parking_lot::Mutex;

    struct Recorder(Mutex<Vec<(String, String)>>);

    #[async_trait]
    impl Target for Recorder {
        async fn deliver(&self, arn: &Arn, d: Delivery) -> Result<(), AwsError> {
            self.0.lock().push((arn.resource.clone(), d.body));
            Ok(())
        }
    }

    #[test]
    fn routes_by_arn_service() {
        let reg = TargetRegistry::new();
        let rec = Arc::new(Recorder(Mutex::new(vec![])));
        reg.register("sqs", rec.clone());
        let fut = reg.deliver(
            "arn:aws:sqs:us-east-1:000000000000:q",
            Delivery { body: "hi".into(), ..Default::default() },
        );
        assert!(block_on(fut).is_ok());
        assert_eq!(rec.0.lock().as_slice(), &[("q".to_string(), "hi".to_string())]);
        let missing = block_on(reg.deliver("arn:aws:sns:us-east-1:0:t", Delivery::default()));
        assert_eq!(missing.unwrap_err().code, "InvalidParameterValue");
        assert!(block_on(reg.deliver("garbage", Delivery::default())).is_err());
        assert!(reg.exists("arn:aws:sqs:us-east-1:000000000000:q"));
        assert!(!reg.exists("arn:aws:sns:us-east-1:0:t"));
        assert!(!reg.exists("garbage"));
    }

    /// A minimal executor for futures that never actually wait.
    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
        fn noop(_: *const ()) {}
        fn clone(p: *const ()) -> RawWaker {
            RawWaker::new(p, &VTABLE)
        }
        static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
        let waker = unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) };
        let mut cx = Context::from_waker(&waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }
}
