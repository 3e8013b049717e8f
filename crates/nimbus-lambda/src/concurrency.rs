//! Concurrency: the account's limit of invocations in flight, functions' reserved
//! concurrency (Put/Get/DeleteFunctionConcurrency), GetAccountSettings, and the
//! throttling AWS answers when a limit is reached.

use std::collections::HashMap;

use nimbus_core::{AwsError, RequestContext};
use parking_lot::Mutex;
use serde_json::{json, Value};

use crate::errors;
use crate::functions::{parse_ref, str_member};
use crate::State;

/// Concurrent executions per account and region (AWS's default quota).
pub const ACCOUNT_LIMIT: u32 = 1000;
/// Reservations must leave at least this much to the functions without one.
const MIN_UNRESERVED: u32 = 100;

/// Invocations in flight, per function and for the functions without a reservation.
#[derive(Default)]
pub struct Limiter {
    inner: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    /// By unqualified function ARN.
    per_function: HashMap<String, u32>,
    /// Invocations of functions without reserved concurrency.
    unreserved: u32,
}

/// One unit of concurrency, held while an invocation runs.
pub struct Permit<'a> {
    limiter: &'a Limiter,
    function: String,
    reserved: bool,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut c = self.limiter.inner.lock();
        if let Some(n) = c.per_function.get_mut(&self.function) {
            *n = n.saturating_sub(1);
        }
        if !self.reserved {
            c.unreserved = c.unreserved.saturating_sub(1);
        }
    }
}

impl Limiter {
    /// A permit for one invocation of `function`, or None when it must be throttled:
    /// its reservation is used up, or (without one) the account's unreserved pool is.
    pub fn acquire(&self, function: &str, reserved: Option<u32>, unreserved_pool: u32) -> Option<Permit<'_>> {
        let mut c = self.inner.lock();
        let mine = c.per_function.get(function).copied().unwrap_or(0);
        match reserved {
            Some(limit) if mine >= limit => return None,
            None if c.unreserved >= unreserved_pool => return None,
            _ => {}
        }
        *c.per_function.entry(function.to_string()).or_default() += 1;
        if reserved.is_none() {
            c.unreserved += 1;
        }
        Some(Permit { limiter: self, function: function.to_string(), reserved: reserved.is_some() })
    }
}

impl State {
    /// Concurrency reserved by every function of the account and region.
    pub(crate) fn reserved_total(&self, account: &str, region: &str) -> u32 {
        self.functions
            .read()
            .values()
            .filter(|f| f.account == account && f.region == region)
            .filter_map(|f| f.reserved_concurrency)
            .sum()
    }

    pub(crate) async fn put_function_concurrency(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let name = str_member(&v, "FunctionName").ok_or_else(|| AwsError::missing_parameter("FunctionName"))?;
        let f = self.function(&parse_ref(ctx, name, None)?)?;
        let wanted = v
            .get("ReservedConcurrentExecutions")
            .and_then(Value::as_u64)
            .ok_or_else(|| AwsError::missing_parameter("ReservedConcurrentExecutions"))?;
        let others = self.reserved_total(&f.account, &f.region) - f.reserved_concurrency.unwrap_or(0);
        if wanted > u64::from(ACCOUNT_LIMIT) || others + wanted as u32 > ACCOUNT_LIMIT - MIN_UNRESERVED {
            return Err(errors::invalid_parameter(format!(
                "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [{MIN_UNRESERVED}]."
            )));
        }
        let n = wanted as u32;
        self.update_meta(&f, move |rec| rec.reserved_concurrency = Some(n)).await?;
        Ok(json!({ "ReservedConcurrentExecutions": n }))
    }

    pub(crate) fn get_function_concurrency(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let name = str_member(&v, "FunctionName").ok_or_else(|| AwsError::missing_parameter("FunctionName"))?;
        let f = self.function(&parse_ref(ctx, name, None)?)?;
        Ok(match f.reserved_concurrency {
            Some(n) => json!({ "ReservedConcurrentExecutions": n }),
            None => json!({}),
        })
    }

    pub(crate) async fn delete_function_concurrency(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let name = str_member(&v, "FunctionName").ok_or_else(|| AwsError::missing_parameter("FunctionName"))?;
        let f = self.function(&parse_ref(ctx, name, None)?)?;
        self.update_meta(&f, |rec| rec.reserved_concurrency = None).await?;
        Ok(json!({}))
    }

    pub(crate) fn get_account_settings(&self, ctx: &RequestContext) -> Result<Value, AwsError> {
        let (count, code_size) = {
            let fns = self.functions.read();
            let mine: Vec<_> = fns.values().filter(|f| f.account == ctx.account && f.region == ctx.region).collect();
            let size: u64 = mine.iter().map(|f| f.code_size + f.versions.values().map(|v| v.code_size).sum::<u64>()).sum();
            (mine.len(), size)
        };
        Ok(json!({
            "AccountLimit": {
                "TotalCodeSize": 80_530_636_800u64,
                "CodeSizeUnzipped": 262_144_000u64,
                "CodeSizeZipped": 52_428_800u64,
                "ConcurrentExecutions": ACCOUNT_LIMIT,
                "UnreservedConcurrentExecutions": ACCOUNT_LIMIT - self.reserved_total(&ctx.account, &ctx.region),
            },
            "AccountUsage": { "TotalCodeSize": code_size, "FunctionCount": count },
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_and_the_unreserved_pool() {
        let l = Limiter::default();
        let a1 = l.acquire("a", Some(1), 10);
        assert!(a1.is_some());
        assert!(l.acquire("a", Some(1), 10).is_none(), "a's one reserved unit is in use");
        assert!(l.acquire("z", Some(0), 10).is_none(), "zero reserved concurrency throttles everything");
        let b: Vec<_> = (0..2).filter_map(|_| l.acquire("b", None, 2)).collect();
        assert_eq!(b.len(), 2);
        assert!(l.acquire("c", None, 2).is_none(), "the unreserved pool is used up");
        drop(b);
        assert!(l.acquire("c", None, 2).is_some());
        drop(a1);
        assert!(l.acquire("a", Some(1), 10).is_some());
    }
}
