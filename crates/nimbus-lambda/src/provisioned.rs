//! Provisioned concurrency: Put/Get/Delete/ListProvisionedConcurrencyConfig(s). A
//! configuration on a version or alias starts that many environments and runs their
//! init ahead of any invocation (AWS_LAMBDA_INITIALIZATION_TYPE is
//! `provisioned-concurrency` in them), so invocations find them warm.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nimbus_core::{now_millis, AwsError, RequestContext};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::environment;
use crate::errors;
use crate::functions::{parse_ref, str_member, FunctionRecord};
use crate::versions::LATEST;
use crate::State;

/// How long a provisioned environment's init may take.
const INIT_LIMIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProvisionedConfig {
    pub requested: u32,
    pub last_modified: u64,
}

/// How far each configuration's environments got: by qualified function ARN.
#[derive(Default)]
pub struct Allocation {
    status: Mutex<HashMap<String, (u32, Option<String>)>>,
}

fn not_found() -> AwsError {
    AwsError::new(404, "ProvisionedConcurrencyConfigNotFoundException", "No Provisioned Concurrency Config found for this function")
}

impl State {
    /// The function, the qualifier (a version number or alias) and the version it resolves to.
    fn provisioned_target(&self, ctx: &RequestContext, v: &Value) -> Result<(Arc<FunctionRecord>, String, Arc<FunctionRecord>), AwsError> {
        let name = str_member(v, "FunctionName").ok_or_else(|| AwsError::missing_parameter("FunctionName"))?;
        let r = parse_ref(ctx, name, str_member(v, "Qualifier"))?;
        let qualifier = r.qualifier.clone().ok_or_else(|| AwsError::missing_parameter("Qualifier"))?;
        if qualifier == LATEST {
            return Err(errors::invalid_parameter(
                "Provisioned Concurrency Configs cannot be applied to unpublished function versions.",
            ));
        }
        let latest = self.latest_of(&r)?;
        let version = match latest.aliases.get(&qualifier) {
            Some(a) if !a.routing.is_empty() => {
                return Err(errors::invalid_parameter(
                    "Alias with weights can not be used with Provisioned Concurrency",
                ))
            }
            Some(a) if a.function_version == LATEST => {
                return Err(errors::invalid_parameter(
                    "Provisioned Concurrency Configs cannot be applied to unpublished function versions.",
                ))
            }
            _ => self.function(&r)?,
        };
        Ok((latest, qualifier, version))
    }

    fn provisioned_json(&self, cfg: &ProvisionedConfig, version: &FunctionRecord, function_arn: Option<String>) -> Value {
        let (allocated, reason) = self.allocation.status.lock().get(&version.qualified_arn()).cloned().unwrap_or((0, None));
        let available = self.pool.provisioned_idle(&version.qualified_arn()) as u32;
        let status = match (&reason, allocated >= cfg.requested) {
            (Some(_), _) => "FAILED",
            (None, true) => "READY",
            (None, false) => "IN_PROGRESS",
        };
        let mut out = json!({
            "RequestedProvisionedConcurrentExecutions": cfg.requested,
            "AllocatedProvisionedConcurrentExecutions": allocated,
            "AvailableProvisionedConcurrentExecutions": available.min(cfg.requested),
            "Status": status,
            "LastModified": crate::time::last_modified(cfg.last_modified),
        });
        if let Some(r) = reason {
            out["StatusReason"] = json!(r);
        }
        if let Some(arn) = function_arn {
            out["FunctionArn"] = json!(arn);
        }
        out
    }

    pub(crate) async fn put_provisioned_concurrency(self: &Arc<Self>, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let (latest, qualifier, version) = self.provisioned_target(ctx, &v)?;
        let requested = v
            .get("ProvisionedConcurrentExecutions")
            .and_then(Value::as_u64)
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                errors::validation(
                    "1 validation error detected: Value at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 1",
                )
            })? as u32;
        if let Some(reserved) = latest.reserved_concurrency {
            if requested > reserved {
                return Err(errors::invalid_parameter(format!(
                    "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function: {reserved}"
                )));
            }
        }
        let cfg = ProvisionedConfig { requested, last_modified: now_millis() };
        let q = qualifier.clone();
        let stored = cfg.clone();
        self.update_meta(&latest, move |rec| {
            rec.provisioned.insert(q, stored);
        })
        .await?;
        let key = version.qualified_arn();
        self.pool.drop_function(&key);
        self.allocation.status.lock().insert(key.clone(), (0, None));
        let out = self.provisioned_json(&cfg, &version, None);
        tokio::spawn(warm(self.clone(), version, requested));
        Ok(out)
    }

    pub(crate) fn get_provisioned_concurrency(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let (latest, qualifier, version) = self.provisioned_target(ctx, &v)?;
        let cfg = latest.provisioned.get(&qualifier).ok_or_else(not_found)?;
        Ok(self.provisioned_json(cfg, &version, None))
    }

    pub(crate) async fn delete_provisioned_concurrency(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let (latest, qualifier, version) = self.provisioned_target(ctx, &v)?;
        if !latest.provisioned.contains_key(&qualifier) {
            return Err(not_found());
        }
        self.update_meta(&latest, move |rec| {
            rec.provisioned.remove(&qualifier);
        })
        .await?;
        self.allocation.status.lock().remove(&version.qualified_arn());
        self.pool.drop_function(&version.qualified_arn());
        Ok(json!({}))
    }

    pub(crate) fn list_provisioned_concurrency(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let name = str_member(&v, "FunctionName").ok_or_else(|| AwsError::missing_parameter("FunctionName"))?;
        let r = parse_ref(ctx, name, None)?;
        let latest = self.latest_of(&r)?;
        let mut list = Vec::new();
        for (q, cfg) in &latest.provisioned {
            let mut qr = r.clone();
            qr.qualifier = Some(q.clone());
            if let Ok(version) = self.function(&qr) {
                list.push(self.provisioned_json(cfg, &version, Some(qr.arn())));
            }
        }
        Ok(json!({ "ProvisionedConcurrencyConfigs": list }))
    }
}

/// Starts and initialises `n` environments of `version`, then leaves them in the pool.
async fn warm(state: Arc<State>, version: Arc<FunctionRecord>, n: u32) {
    let key = version.qualified_arn();
    for _ in 0..n {
        let outcome = match environment::spawn_as(&state, &version, true).await {
            Ok(env) => {
                let started = Instant::now();
                while env.api.first_next.get().is_none() && !env.has_exited() && started.elapsed() < INIT_LIMIT {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                if env.api.first_next.get().is_some() {
                    state.pool.put(env);
                    Ok(())
                } else {
                    env.kill();
                    Err("FUNCTION_ERROR_INIT_FAILED: the function's init did not finish".to_string())
                }
            }
            Err(environment::SpawnError::Entrypoint(m)) => Err(m),
            Err(environment::SpawnError::Failed(e)) => Err(e.message),
        };
        let mut status = state.allocation.status.lock();
        let Some(entry) = status.get_mut(&key) else { return }; // deleted meanwhile
        match outcome {
            Ok(()) => entry.0 += 1,
            Err(reason) => {
                entry.1 = Some(reason);
                return;
            }
        }
    }
}
