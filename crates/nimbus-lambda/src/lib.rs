//! AWS Lambda: function management and invocation in real execution environments
//! (a process per environment fed by the Lambda Runtime API), served over restJson.
//!
//! Function records live in memory and in SQLite (`<data-dir>/lambda/lambda.sqlite`);
//! each code version is unpacked once under `<data-dir>/lambda/code/<sha256>/`.

mod async_invoke;
mod cloudwatch;
mod code;
mod concurrency;
mod environment;
mod errors;
mod event_sources;
mod functions;
mod invoke;
mod layers;
mod logs;
mod permissions;
mod private_tmp;
mod provisioned;
mod runtime;
mod runtime_api;
mod store;
mod time;
mod versions;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use nimbus_core::targets::{Delivery, Target, TargetRegistry};
use nimbus_core::{Arn, AwsError, RequestContext};
use nimbus_store::{Durability, Store};
use nimbus_wire::{ServiceHandler, ServiceModel, WireSpec};
use parking_lot::RwLock;
use serde_json::Value;

use crate::environment::Pool;
use crate::event_sources::{MappingRecord, Pollers};
use crate::functions::{FnKey, FunctionRecord};
use crate::store::Table;

const MODEL: &str = include_str!("../../../specs/lambda/2015-03-31/service-2.json");
const PYTHON_BOOTSTRAP: &str = include_str!("../../../runtimes/python/bootstrap.py");
const NODE_BOOTSTRAP: &str = include_str!("../../../runtimes/node/bootstrap.js");

pub struct Lambda {
    spec: WireSpec,
    state: Arc<State>,
}

pub(crate) struct State {
    pub store: Store,
    pub functions: RwLock<HashMap<FnKey, Arc<FunctionRecord>>>,
    /// `<data-dir>/lambda`, or a temporary directory in memory mode.
    pub root: PathBuf,
    temporary: bool,
    pub endpoint_url: String,
    /// Where nimbus's own bootstraps are written: `python/bootstrap.py`, `node/bootstrap.js`.
    pub runtime_dir: PathBuf,
    python: tokio::sync::OnceCell<Result<Arc<runtime::Interpreter>, String>>,
    node: tokio::sync::OnceCell<Result<Arc<runtime::Interpreter>, String>>,
    pub pool: Pool,
    pub limiter: concurrency::Limiter,
    pub allocation: provisioned::Allocation,
    /// Serialises changes to function records.
    pub write_lock: tokio::sync::Mutex<()>,
    /// Other services, by ARN: event sources, destinations, dead-letter queues.
    pub targets: TargetRegistry,
    pub layers: RwLock<HashMap<layers::LayerKey, layers::LayerRecord>>,
    /// Code packages stored in the last minute, which functions may be about to use.
    pub recent_code: parking_lot::Mutex<HashMap<String, std::time::Instant>>,
    /// Event source mappings by UUID.
    pub mappings: RwLock<HashMap<String, MappingRecord>>,
    pub pollers: Pollers,
}

impl State {
    /// The machine's interpreter for a runtime kind, resolved on first use (None for
    /// `provided.*`, which brings its own).
    pub async fn interpreter(&self, kind: runtime::Kind) -> Option<Result<Arc<runtime::Interpreter>, String>> {
        match kind {
            runtime::Kind::Python => Some(self.python.get_or_init(runtime::resolve_python).await.clone()),
            runtime::Kind::Node => Some(self.node.get_or_init(runtime::resolve_node).await.clone()),
            runtime::Kind::Provided => None,
        }
    }

    pub(crate) async fn save_record<T: serde::Serialize>(&self, table: Table, key: &str, record: &T) -> Result<(), AwsError> {
        let json = serde_json::to_string(record).map_err(|e| AwsError::internal(e.to_string()))?;
        self.save_json(table, key.to_string(), json).await
    }

    pub(crate) async fn save_json(&self, table: Table, key: String, json: String) -> Result<(), AwsError> {
        self.store
            .write(move |tx| store::save(tx, table, &key, &json))
            .await
            .map_err(|e| AwsError::internal(format!("cannot save Lambda state: {e}")))
    }

    pub(crate) async fn delete_record(&self, table: Table, key: &str) -> Result<(), AwsError> {
        let key = key.to_string();
        self.store
            .write(move |tx| store::delete(tx, table, &key))
            .await
            .map_err(|e| AwsError::internal(format!("cannot save Lambda state: {e}")))
    }
}

impl Drop for State {
    fn drop(&mut self) {
        self.pool.clear();
        let _ = std::fs::remove_dir_all(self.root.join("envs"));
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

impl Lambda {
    /// Opens Lambda's state under `<data_dir>/lambda` (a temporary directory when
    /// `None`). `endpoint_url` is the server's own URL, given to functions as
    /// `AWS_ENDPOINT_URL`; `targets` reaches the other services (event sources,
    /// destinations). Must run inside a tokio runtime.
    pub fn open(
        data_dir: Option<&Path>,
        durability: Durability,
        endpoint_url: String,
        targets: TargetRegistry,
    ) -> Result<Self, String> {
        let spec = WireSpec {
            signing_name: "lambda",
            target_prefix: None,
            json_error_namespace: "",
            json: None,
            query: None,
            host_prefixes: &["lambda"],
            url_member: None,
            rest_json: Some(ServiceModel::from_json(MODEL).map_err(|e| format!("Lambda model: {e}"))?),
        };
        let (root, temporary) = match data_dir {
            Some(d) => (d.join("lambda"), false),
            None => (
                std::env::temp_dir().join(format!("nimbus-lambda-{}-{}", std::process::id(), nimbus_core::ids::uuid4())),
                true,
            ),
        };
        std::fs::create_dir_all(&root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
        // Environments of a previous run are gone with its processes.
        let _ = std::fs::remove_dir_all(root.join("envs"));
        let (store, loaded) = if temporary {
            (Store::in_memory(), store::Loaded::default())
        } else {
            Store::open(&root, "lambda", durability, store::SCHEMA, store::load).map_err(|e| format!("Lambda store: {e}"))?
        };
        let runtime_dir = root.join("runtimes");
        for (sub, file, text) in [("python", "bootstrap.py", PYTHON_BOOTSTRAP), ("node", "bootstrap.js", NODE_BOOTSTRAP)] {
            let dir = runtime_dir.join(sub);
            std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            let path = dir.join(file);
            std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        let functions = loaded.functions.into_iter().map(|f| (f.key(), Arc::new(f))).collect();
        let mappings = loaded.mappings.into_iter().map(|m| (m.uuid.clone(), m)).collect();
        let layer_records = loaded.layers.into_iter().map(|l| (l.key(), l)).collect();
        let state = Arc::new(State {
            store,
            functions: RwLock::new(functions),
            root,
            temporary,
            endpoint_url,
            runtime_dir,
            python: tokio::sync::OnceCell::new(),
            node: tokio::sync::OnceCell::new(),
            pool: Pool::default(),
            limiter: concurrency::Limiter::default(),
            allocation: provisioned::Allocation::default(),
            write_lock: tokio::sync::Mutex::new(()),
            targets,
            mappings: RwLock::new(mappings),
            layers: RwLock::new(layer_records),
            recent_code: parking_lot::Mutex::new(HashMap::new()),
            pollers: Pollers::default(),
        });
        tokio::spawn(reaper(Arc::downgrade(&state)));
        state.start_all_pollers();
        state.resume_events(loaded.async_events);
        Ok(Lambda { spec, state })
    }

    /// The stored deployment package `<sha256-hex>.zip` (GetFunction's Code.Location
    /// points here), if it exists.
    pub fn code_package(&self, file_name: &str) -> Option<PathBuf> {
        let hex = file_name.strip_suffix(".zip")?;
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let path = self.state.root.join("code").join(file_name);
        path.is_file().then_some(path)
    }

    pub fn function_count(&self) -> usize {
        self.state.functions.read().len()
    }

    /// Warm environments waiting for work.
    pub fn idle_environments(&self) -> usize {
        self.state.pool.idle_count()
    }

    /// Stops every idle environment and waits for pending writes (clean shutdown).
    pub async fn shutdown(&self) {
        self.state.pollers.stop_all();
        self.state.pool.clear();
        let _ = self.state.store.flush().await;
    }
}

#[async_trait]
impl ServiceHandler for Lambda {
    fn spec(&self) -> &WireSpec {
        &self.spec
    }

    async fn call(&self, ctx: &RequestContext, operation: &str, v: Value) -> Result<Value, AwsError> {
        let s = &self.state;
        match operation {
            "CreateFunction" => s.create_function(ctx, v).await,
            "GetFunction" => s.get_function(ctx, v),
            "GetFunctionConfiguration" => s.get_function_configuration(ctx, v),
            "ListFunctions" => s.list_functions(ctx, v),
            "DeleteFunction" => s.delete_function(ctx, v).await,
            "UpdateFunctionCode" => s.update_function_code(ctx, v).await,
            "UpdateFunctionConfiguration" => s.update_function_configuration(ctx, v).await,
            "Invoke" => invoke::invoke(s, ctx, v).await,
            "AddPermission" => s.add_permission(ctx, v).await,
            "RemovePermission" => s.remove_permission(ctx, v).await,
            "GetPolicy" => s.get_policy(ctx, v),
            "PutFunctionEventInvokeConfig" => s.put_event_invoke_config(ctx, v, true).await,
            "UpdateFunctionEventInvokeConfig" => s.put_event_invoke_config(ctx, v, false).await,
            "GetFunctionEventInvokeConfig" => s.get_event_invoke_config(ctx, v),
            "DeleteFunctionEventInvokeConfig" => s.delete_event_invoke_config(ctx, v).await,
            "ListFunctionEventInvokeConfigs" => s.list_event_invoke_configs(ctx, v),
            "CreateEventSourceMapping" => s.create_event_source_mapping(ctx, v).await,
            "GetEventSourceMapping" => s.get_event_source_mapping(v),
            "UpdateEventSourceMapping" => s.update_event_source_mapping(ctx, v).await,
            "DeleteEventSourceMapping" => s.delete_event_source_mapping(v).await,
            "ListEventSourceMappings" => s.list_event_source_mappings(ctx, v),
            "PutFunctionConcurrency" => s.put_function_concurrency(ctx, v).await,
            "GetFunctionConcurrency" => s.get_function_concurrency(ctx, v),
            "DeleteFunctionConcurrency" => s.delete_function_concurrency(ctx, v).await,
            "GetAccountSettings" => s.get_account_settings(ctx),
            "PutProvisionedConcurrencyConfig" => s.put_provisioned_concurrency(ctx, v).await,
            "GetProvisionedConcurrencyConfig" => s.get_provisioned_concurrency(ctx, v),
            "DeleteProvisionedConcurrencyConfig" => s.delete_provisioned_concurrency(ctx, v).await,
            "ListProvisionedConcurrencyConfigs" => s.list_provisioned_concurrency(ctx, v),
            "PublishLayerVersion" => s.publish_layer_version(ctx, v).await,
            "GetLayerVersion" => s.get_layer_version(ctx, v),
            "GetLayerVersionByArn" => s.get_layer_version_by_arn(ctx, v),
            "ListLayerVersions" => s.list_layer_versions(ctx, v),
            "ListLayers" => s.list_layers(ctx, v),
            "DeleteLayerVersion" => s.delete_layer_version(ctx, v).await,
            "PublishVersion" => s.publish_version(ctx, v).await,
            "ListVersionsByFunction" => s.list_versions(ctx, v),
            "CreateAlias" => s.create_alias(ctx, v).await,
            "GetAlias" => s.get_alias(ctx, v),
            "UpdateAlias" => s.update_alias(ctx, v).await,
            "DeleteAlias" => s.delete_alias(ctx, v).await,
            "ListAliases" => s.list_aliases(ctx, v),
            other => Err(AwsError::new(
                501,
                "NotImplemented",
                format!("nimbus does not implement the Lambda operation {other} yet."),
            )),
        }
    }
}

/// Other services invoke functions by ARN: S3 notifications, SNS subscriptions,
/// destinations of other functions. Each delivery is an asynchronous (Event) invoke.
#[async_trait]
impl Target for Lambda {
    async fn deliver(&self, arn: &Arn, d: Delivery) -> Result<(), AwsError> {
        let ctx = nimbus_core::targets::internal_context(&arn.account, &arn.region);
        let full = format!("arn:aws:lambda:{}:{}:{}", arn.region, arn.account, arn.resource);
        let r = functions::parse_ref(&ctx, &full, None)?;
        self.state.function(&r)?;
        self.state.enqueue_event(r.arn(), nimbus_core::ids::uuid4(), d.body, None).await
    }

    fn exists(&self, arn: &Arn) -> bool {
        self.function_for(arn).is_some()
    }

    fn allows(&self, arn: &Arn, principal: &str, source_arn: &str, source_account: &str) -> bool {
        // The policy of the version or alias the ARN names (kept on $LATEST's record).
        let resource = format!("arn:aws:lambda:{}:{}:{}", arn.region, arn.account, arn.resource);
        let ctx = nimbus_core::targets::internal_context(&arn.account, &arn.region);
        let Ok(r) = functions::parse_ref(&ctx, &resource, None) else { return false };
        if self.state.function(&r).is_err() {
            return false;
        }
        self.state.latest_of(&r).is_ok_and(|f| permissions::allows(&f, &resource, principal, source_arn, source_account))
    }
}

impl Lambda {
    fn function_for(&self, arn: &Arn) -> Option<Arc<FunctionRecord>> {
        let ctx = nimbus_core::targets::internal_context(&arn.account, &arn.region);
        let full = format!("arn:aws:lambda:{}:{}:{}", arn.region, arn.account, arn.resource);
        functions::parse_ref(&ctx, &full, None).and_then(|r| self.state.function(&r)).ok()
    }
}

/// Stops environments that have been idle too long.
async fn reaper(state: std::sync::Weak<State>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(10));
    loop {
        tick.tick().await;
        let Some(state) = state.upgrade() else { return };
        let n = state.pool.reap(environment::IDLE_TIMEOUT);
        if n > 0 {
            tracing::debug!(stopped = n, "reaped idle Lambda environments");
        }
        collect_code(&state).await;
    }
}

/// Removes code packages nothing refers to. Done here, not when a function lets go of
/// its code, because another function may be storing the same package at that moment.
async fn collect_code(state: &State) {
    let grace = std::time::Duration::from_secs(60);
    state.recent_code.lock().retain(|_, at| at.elapsed() < grace);
    let mut keep = state.code_in_use();
    keep.extend(state.recent_code.lock().keys().cloned());
    let root = state.root.clone();
    let removed = tokio::task::spawn_blocking(move || code::collect(&root, &keep)).await.unwrap_or(0);
    if removed > 0 {
        tracing::debug!(removed, "removed unused Lambda code packages");
    }
}
