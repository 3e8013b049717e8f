//! Function management: Create/Get/GetConfiguration/List/Update/Delete.

use std::collections::BTreeMap;
use std::sync::Arc;

use nimbus_core::{now_millis, AwsError, RequestContext};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::code::{self, StoredCode};
use crate::errors;
use crate::runtime::{self, Kind};
use crate::store::Table;
use crate::versions::LATEST;
use crate::State;

/// Variables a function may not set: Lambda sets them.
const RESERVED_ENV: &[&str] = &[
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
];

/// A function's `$LATEST`, as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FunctionRecord {
    pub account: String,
    pub region: String,
    pub name: String,
    pub runtime: String,
    pub role: String,
    pub handler: String,
    pub description: String,
    pub timeout: u32,
    pub memory_size: u32,
    pub environment: Option<BTreeMap<String, String>>,
    pub tags: BTreeMap<String, String>,
    pub code_hex: String,
    pub code_sha256: String,
    pub code_size: u64,
    pub last_modified: u64,
    pub revision_id: String,
    pub architectures: Vec<String>,
    pub ephemeral_storage: u32,
    /// DeadLetterConfig.TargetArn: where failed asynchronous events go.
    #[serde(default)]
    pub dead_letter_target: Option<String>,
    #[serde(default)]
    /// By qualifier (`$LATEST`, a version number or an alias); kept on `$LATEST`.
    pub event_invoke_configs: BTreeMap<String, crate::async_invoke::EventInvokeConfig>,
    /// The resource-based policy's statements.
    #[serde(default)]
    pub policy: Vec<Value>,
    /// `$LATEST`, or the number of a published version (a snapshot).
    #[serde(default = "latest_version")]
    pub version: String,
    /// Published versions (kept on `$LATEST` only).
    #[serde(default)]
    pub versions: BTreeMap<u32, FunctionRecord>,
    #[serde(default)]
    pub aliases: BTreeMap<String, crate::versions::AliasRecord>,
    /// The highest version number ever published (numbers are never reused).
    #[serde(default)]
    pub last_version: u32,
    /// Reserved concurrency (PutFunctionConcurrency), function-wide.
    #[serde(default)]
    pub reserved_concurrency: Option<u32>,
    /// The layer versions the function uses, in order.
    #[serde(default)]
    pub layers: Vec<crate::layers::LayerRef>,
    /// Provisioned concurrency by qualifier (version number or alias).
    #[serde(default)]
    pub provisioned: BTreeMap<String, crate::provisioned::ProvisionedConfig>,
}

fn latest_version() -> String {
    LATEST.to_string()
}

/// (account, region, name)
pub type FnKey = (String, String, String);

impl FunctionRecord {
    pub fn key(&self) -> FnKey {
        (self.account.clone(), self.region.clone(), self.name.clone())
    }

    pub fn arn(&self) -> String {
        format!("arn:aws:lambda:{}:{}:function:{}", self.region, self.account, self.name)
    }

    /// The ARN with the version: the key of this version's warm environments.
    pub fn qualified_arn(&self) -> String {
        format!("{}:{}", self.arn(), self.version)
    }

    pub fn log_group(&self) -> String {
        format!("/aws/lambda/{}", self.name)
    }

    pub fn configuration(&self) -> Value {
        let mut c = json!({
            "FunctionName": self.name,
            "FunctionArn": if self.version == LATEST { self.arn() } else { self.qualified_arn() },
            "Runtime": self.runtime,
            "Role": self.role,
            "Handler": self.handler,
            "CodeSize": self.code_size,
            "Description": self.description,
            "Timeout": self.timeout,
            "MemorySize": self.memory_size,
            "LastModified": crate::time::last_modified(self.last_modified),
            "CodeSha256": self.code_sha256,
            "Version": self.version,
            "TracingConfig": {"Mode": "PassThrough"},
            "RevisionId": self.revision_id,
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": self.architectures,
            "EphemeralStorage": {"Size": self.ephemeral_storage},
            "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": self.log_group()},
        });
        if let Value::Object(m) = &mut c {
            if let Some(vars) = &self.environment {
                m.insert("Environment".into(), json!({ "Variables": vars }));
            }
            if let Some(dlq) = &self.dead_letter_target {
                m.insert("DeadLetterConfig".into(), json!({ "TargetArn": dlq }));
            }
            if !self.layers.is_empty() {
                let layers: Vec<Value> = self.layers.iter().map(|l| json!({ "Arn": l.arn, "CodeSize": l.code_size })).collect();
                m.insert("Layers".into(), json!(layers));
            }
        }
        c
    }
}

/// A function named by name, ARN or partial ARN, with an optional qualifier.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionRef {
    pub account: String,
    pub region: String,
    pub name: String,
    pub qualifier: Option<String>,
}

impl FunctionRef {
    pub fn key(&self) -> FnKey {
        (self.account.clone(), self.region.clone(), self.name.clone())
    }

    pub fn arn(&self) -> String {
        let base = format!("arn:aws:lambda:{}:{}:function:{}", self.region, self.account, self.name);
        match &self.qualifier {
            Some(q) => format!("{base}:{q}"),
            None => base,
        }
    }
}

/// Parses `name`, `name:qualifier`, `account:function:name[:qualifier]` or
/// `arn:aws:lambda:region:account:function:name[:qualifier]`.
pub fn parse_ref(ctx: &RequestContext, s: &str, qualifier: Option<&str>) -> Result<FunctionRef, AwsError> {
    let parts: Vec<&str> = s.split(':').collect();
    let (account, region, name, qual) = match parts.as_slice() {
        [name] => (ctx.account.as_str(), ctx.region.as_str(), *name, None),
        [name, q] => (ctx.account.as_str(), ctx.region.as_str(), *name, Some(*q)),
        [acct, "function", name] => (*acct, ctx.region.as_str(), *name, None),
        [acct, "function", name, q] => (*acct, ctx.region.as_str(), *name, Some(*q)),
        ["arn", _, "lambda", region, acct, "function", name] => (*acct, *region, *name, None),
        ["arn", _, "lambda", region, acct, "function", name, q] => (*acct, *region, *name, Some(*q)),
        _ => return Err(name_pattern_error(s)),
    };
    if !valid_name(name) {
        return Err(name_pattern_error(s));
    }
    let qualifier = match (qual, qualifier) {
        (Some(a), Some(b)) if a != b => {
            return Err(errors::invalid_parameter(
                "The derived qualifier from the function name does not match the specified qualifier.",
            ))
        }
        (Some(q), _) | (None, Some(q)) => Some(q.to_string()),
        (None, None) => None,
    };
    Ok(FunctionRef { account: account.to_string(), region: region.to_string(), name: name.to_string(), qualifier })
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn name_pattern_error(s: &str) -> AwsError {
    errors::validation(format!(
        "1 validation error detected: Value '{s}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{{2}}(-gov)?-[a-z]+-\\d{{1}}:)?(\\d{{12}}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
    ))
}

pub fn str_member<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.get(name).and_then(Value::as_str)
}

fn int_member(v: &Value, name: &str) -> Result<Option<i64>, AwsError> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(x) => x
            .as_i64()
            .map(Some)
            .ok_or_else(|| errors::validation(format!("{name} must be an integer"))),
    }
}

fn string_map(v: Option<&Value>, what: &str) -> Result<Option<BTreeMap<String, String>>, AwsError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(errors::validation(format!("{what} values must be strings"))),
            })
            .collect::<Result<BTreeMap<_, _>, _>>()
            .map(Some),
        Some(_) => Err(errors::validation(format!("{what} must be a map"))),
    }
}

fn check_timeout(t: i64) -> Result<u32, AwsError> {
    if !(1..=900).contains(&t) {
        return Err(errors::validation(format!(
            "1 validation error detected: Value '{t}' at 'timeout' failed to satisfy constraint: Member must have value {} 900",
            if t < 1 { "greater than or equal to 1, less than or equal to" } else { "less than or equal to" }
        )));
    }
    Ok(t as u32)
}

fn check_memory(m: i64) -> Result<u32, AwsError> {
    if !(128..=10240).contains(&m) {
        return Err(errors::validation(format!(
            "1 validation error detected: Value '{m}' at 'memorySize' failed to satisfy constraint: Member must have value {}",
            if m < 128 { "greater than or equal to 128" } else { "less than or equal to 10240" }
        )));
    }
    Ok(m as u32)
}

fn check_role(role: &str) -> Result<(), AwsError> {
    let ok = role.starts_with("arn:") && role.contains(":iam::") && role.contains(":role/");
    if !ok {
        return Err(errors::validation(format!(
            "1 validation error detected: Value '{role}' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{{12}}:role/?[a-zA-Z_0-9+=,.@\\-_/]+"
        )));
    }
    Ok(())
}

fn environment(v: &Value) -> Result<Option<BTreeMap<String, String>>, AwsError> {
    let Some(env) = v.get("Environment") else { return Ok(None) };
    let vars = string_map(env.get("Variables"), "Environment.Variables")?.unwrap_or_default();
    let reserved: Vec<&str> = vars.keys().map(String::as_str).filter(|k| RESERVED_ENV.contains(k)).collect();
    if !reserved.is_empty() {
        return Err(errors::invalid_parameter(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: {}",
            reserved.join(", ")
        )));
    }
    let size: usize = vars.iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > 4096 {
        return Err(errors::invalid_parameter(
            "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit.",
        ));
    }
    Ok(Some(vars))
}

fn reject_image(v: &Value) -> Result<(), AwsError> {
    let image = str_member(v, "PackageType") == Some("Image")
        || v.get("ImageUri").is_some()
        || v.get("Code").and_then(|c| c.get("ImageUri")).is_some();
    if image {
        return Err(errors::invalid_parameter(
            "Container image functions (PackageType Image) are not supported by nimbus; deploy a .zip package instead.",
        ));
    }
    Ok(())
}

impl State {
    /// `$LATEST` of the function `r` names, whatever its qualifier: where versions,
    /// aliases and per-qualifier settings are kept.
    pub(crate) fn latest_of(&self, r: &FunctionRef) -> Result<Arc<FunctionRecord>, AwsError> {
        let mut base = r.clone();
        base.qualifier = None;
        self.function(&base)
    }

    pub(crate) fn function(&self, r: &FunctionRef) -> Result<Arc<FunctionRecord>, AwsError> {
        let f = self.functions.read().get(&r.key()).cloned().ok_or_else(|| errors::not_found(&r.arn()))?;
        let version = match r.qualifier.as_deref() {
            None | Some(LATEST) => return Ok(f),
            Some(q) if q.bytes().all(|b| b.is_ascii_digit()) => q.to_string(),
            Some(alias) => match f.aliases.get(alias) {
                Some(a) => a.pick_version().to_string(),
                None => return Err(errors::not_found(&r.arn())),
            },
        };
        if version == LATEST {
            return Ok(f);
        }
        version
            .parse::<u32>()
            .ok()
            .and_then(|n| f.versions.get(&n))
            .map(|v| Arc::new(v.clone()))
            .ok_or_else(|| errors::not_found(&r.arn()))
    }

    fn lookup(&self, ctx: &RequestContext, v: &Value) -> Result<Arc<FunctionRecord>, AwsError> {
        let name = str_member(v, "FunctionName").ok_or_else(|| AwsError::missing_parameter("FunctionName"))?;
        self.function(&parse_ref(ctx, name, str_member(v, "Qualifier"))?)
    }

    /// Checks that this machine can run `runtime_id` (its interpreter is installed).
    async fn check_runtime(&self, runtime_id: &str) -> Result<(), AwsError> {
        let kind = runtime::kind(runtime_id)?;
        match self.interpreter(kind).await {
            None => Ok(()),
            Some(Ok(i)) => {
                if !i.matches(runtime_id) {
                    tracing::info!(runtime = runtime_id, version = %i.version, "{runtime_id} functions run on this machine's {}", i.executable.display());
                }
                Ok(())
            }
            Some(Err(e)) => {
                let (what, fix) = match kind {
                    Kind::Node => ("Node.js", "Install Node.js or set NIMBUS_NODE to its path."),
                    _ => ("a Python 3 interpreter", "Install python3 or set NIMBUS_PYTHON to its path."),
                };
                Err(errors::invalid_parameter(format!(
                    "The runtime {runtime_id} needs {what}, and none was found on this machine ({e}). {fix}"
                )))
            }
        }
    }

    /// Stores the package `source` names: `ZipFile`, or `S3Bucket`/`S3Key`
    /// (/`S3ObjectVersion`) read from S3 through the target registry.
    pub(crate) async fn store_code(&self, ctx: &RequestContext, source: &Value, operation: &str) -> Result<StoredCode, AwsError> {
        let zip = match (str_member(source, "ZipFile"), str_member(source, "S3Bucket"), str_member(source, "S3Key")) {
            (Some(b64), _, _) => code::decode_zip(b64, operation)?,
            (None, Some(bucket), Some(key)) => self.code_from_s3(ctx, bucket, key, str_member(source, "S3ObjectVersion")).await?,
            (None, Some(_), None) | (None, None, Some(_)) => {
                return Err(errors::invalid_parameter("Please provide both S3Bucket and S3Key to use code from S3."))
            }
            (None, None, None) => return Err(errors::invalid_parameter("Please provide a source for function code.")),
        };
        let root = self.root.clone();
        let stored = tokio::task::spawn_blocking(move || code::store(&root, &zip))
            .await
            .map_err(|e| AwsError::internal(format!("code store task failed: {e}")))??;
        // Not referenced yet: the collector must leave it alone until it is.
        self.recent_code.lock().insert(stored.hex.clone(), std::time::Instant::now());
        Ok(stored)
    }

    async fn code_from_s3(&self, ctx: &RequestContext, bucket: &str, key: &str, version: Option<&str>) -> Result<Vec<u8>, AwsError> {
        let mut input = json!({ "Bucket": bucket, "Key": key });
        if let Some(v) = version {
            input["VersionId"] = json!(v);
        }
        let out = self.targets.call("s3", ctx, "GetObject", input).await.map_err(|e| {
            if e.code == "AccessDenied" {
                // What Lambda answers when S3 refuses the caller (403 AccessDeniedException).
                AwsError::new(
                    403,
                    "AccessDeniedException",
                    format!(
                        "Your access has been denied by S3, please make sure your request credentials have permission to GetObject for {bucket}/{key}. S3 Error Code: AccessDenied. S3 Error Message: {}",
                        e.message
                    ),
                )
            } else {
                errors::invalid_parameter(format!(
                    "Error occurred while GetObject. S3 Error Code: {}. S3 Error Message: {}",
                    e.code, e.message
                ))
            }
        })?;
        // Packages from S3 may exceed the 50 MB direct-upload limit; the unzipped limit
        // still applies when the package is stored.
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(str_member(&out, "Body").unwrap_or("").as_bytes())
            .map_err(|_| AwsError::internal("S3 returned an unreadable object body"))
    }

    async fn persist(&self, f: &FunctionRecord) -> Result<(), AwsError> {
        let arn = f.arn();
        let json = serde_json::to_string(f).map_err(|e| AwsError::internal(e.to_string()))?;
        self.save_json(Table::Functions, arn, json).await
    }

    /// The code packages (by SHA-256 hex) some function, version or layer refers to.
    pub(crate) fn code_in_use(&self) -> std::collections::HashSet<String> {
        let mut used = std::collections::HashSet::new();
        for f in self.functions.read().values() {
            for r in std::iter::once(f.as_ref()).chain(f.versions.values()) {
                used.insert(r.code_hex.clone());
                used.extend(r.layers.iter().map(|l| l.code_hex.clone()));
            }
        }
        for l in self.layers.read().values() {
            used.extend(l.versions.values().map(|v| v.code_hex.clone()));
        }
        used
    }

    pub(crate) async fn create_function(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        reject_image(&v)?;
        let name_in = str_member(&v, "FunctionName").ok_or_else(|| AwsError::missing_parameter("FunctionName"))?;
        let r = parse_ref(ctx, name_in, None)?;
        if r.qualifier.is_some() {
            return Err(name_pattern_error(name_in));
        }
        let role = str_member(&v, "Role").ok_or_else(|| AwsError::missing_parameter("Role"))?;
        check_role(role)?;
        let (Some(runtime_id), Some(handler)) = (str_member(&v, "Runtime"), str_member(&v, "Handler")) else {
            return Err(errors::invalid_parameter(
                "Runtime and Handler are mandatory parameters for functions created with deployment packages.",
            ));
        };
        let timeout = check_timeout(int_member(&v, "Timeout")?.unwrap_or(3))?;
        let memory_size = check_memory(int_member(&v, "MemorySize")?.unwrap_or(128))?;
        let env = environment(&v)?;
        let tags = string_map(v.get("Tags"), "Tags")?.unwrap_or_default();
        let ephemeral = match v.get("EphemeralStorage").map(|e| int_member(e, "Size")) {
            Some(s) => s?.unwrap_or(512),
            None => 512,
        };
        if !(512..=10240).contains(&ephemeral) {
            return Err(errors::validation(format!(
                "1 validation error detected: Value '{ephemeral}' at 'ephemeralStorage.size' failed to satisfy constraint: Member must have value between 512 and 10240"
            )));
        }
        let architectures = match v.get("Architectures").and_then(Value::as_array) {
            Some(a) if a.len() == 1 => match a[0].as_str() {
                Some(arch @ ("x86_64" | "arm64")) => vec![arch.to_string()],
                _ => return Err(errors::validation("Architectures must be [\"x86_64\"] or [\"arm64\"]")),
            },
            Some(_) => return Err(errors::validation("Architectures must hold exactly one architecture")),
            None => vec!["x86_64".to_string()],
        };
        let layers = self.resolve_layers(ctx, &v)?.unwrap_or_default();
        self.check_runtime(runtime_id).await?;
        let code_in = v.get("Code").ok_or_else(|| AwsError::missing_parameter("Code"))?;
        if self.functions.read().contains_key(&r.key()) {
            return Err(errors::conflict(format!("Function already exist: {}", r.name)));
        }
        let stored = self.store_code(ctx, code_in, "CreateFunction").await?;

        let _guard = self.write_lock.lock().await;
        if self.functions.read().contains_key(&r.key()) {
            return Err(errors::conflict(format!("Function already exist: {}", r.name)));
        }
        let f = FunctionRecord {
            account: r.account,
            region: r.region,
            name: r.name,
            runtime: runtime_id.to_string(),
            role: role.to_string(),
            handler: handler.to_string(),
            description: str_member(&v, "Description").unwrap_or("").to_string(),
            timeout,
            memory_size,
            environment: env,
            tags,
            code_hex: stored.hex,
            code_sha256: stored.sha256,
            code_size: stored.size,
            last_modified: now_millis(),
            revision_id: nimbus_core::ids::uuid4(),
            architectures,
            ephemeral_storage: ephemeral as u32,
            dead_letter_target: dead_letter_target(&v)?.flatten(),
            event_invoke_configs: BTreeMap::new(),
            policy: Vec::new(),
            version: LATEST.to_string(),
            versions: BTreeMap::new(),
            aliases: BTreeMap::new(),
            last_version: 0,
            reserved_concurrency: None,
            layers: layers.iter().map(crate::layers::LayerRef::from).collect(),
            provisioned: BTreeMap::new(),
        };
        self.persist(&f).await?;
        // As on AWS, the create response shows the function Pending; it is Active (here:
        // at once) for every later read.
        let mut out = f.configuration();
        out["State"] = json!("Pending");
        out["StateReason"] = json!("The function is being created.");
        out["StateReasonCode"] = json!("Creating");
        let publish = v.get("Publish").and_then(Value::as_bool) == Some(true);
        let f = Arc::new(f);
        self.functions.write().insert(f.key(), f.clone());
        drop(_guard);
        if publish {
            out = self.publish(&f, None).await?;
        }
        Ok(out)
    }

    pub(crate) fn get_function(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let f = self.lookup(ctx, &v)?;
        let mut out = json!({
            "Configuration": f.configuration(),
            "Code": {
                "RepositoryType": "S3",
                "Location": format!("{}/_nimbus/lambda/code/{}.zip", self.endpoint_url, f.code_hex),
            },
        });
        if let Value::Object(m) = &mut out {
            if !f.tags.is_empty() {
                m.insert("Tags".into(), json!(f.tags));
            }
            let reserved = self.functions.read().get(&f.key()).and_then(|l| l.reserved_concurrency);
            if let Some(n) = reserved {
                m.insert("Concurrency".into(), json!({ "ReservedConcurrentExecutions": n }));
            }
        }
        Ok(out)
    }

    pub(crate) fn get_function_configuration(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        Ok(self.lookup(ctx, &v)?.configuration())
    }

    pub(crate) fn list_functions(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let max = int_member(&v, "MaxItems")?.unwrap_or(50);
        if !(1..=10_000).contains(&max) {
            return Err(errors::validation(format!(
                "1 validation error detected: Value '{max}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000"
            )));
        }
        let marker = str_member(&v, "Marker").unwrap_or("");
        let mut fns: Vec<Arc<FunctionRecord>> = self
            .functions
            .read()
            .values()
            .filter(|f| f.account == ctx.account && f.region == ctx.region)
            .cloned()
            .collect();
        fns.sort_by(|a, b| a.name.cmp(&b.name));
        let start = fns.iter().position(|f| f.name.as_str() >= marker).unwrap_or(fns.len());
        let page: Vec<Value> = fns.iter().skip(start).take(max as usize).map(|f| f.configuration()).collect();
        let mut out = Map::new();
        if let Some(next) = fns.get(start + max as usize) {
            out.insert("NextMarker".into(), Value::String(next.name.clone()));
        }
        out.insert("Functions".into(), Value::Array(page));
        Ok(Value::Object(out))
    }

    pub(crate) async fn delete_function(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let name = str_member(&v, "FunctionName").ok_or_else(|| AwsError::missing_parameter("FunctionName"))?;
        let r = parse_ref(ctx, name, str_member(&v, "Qualifier"))?;
        if let Some(q) = r.qualifier.as_deref() {
            if q == LATEST {
                return Err(errors::invalid_parameter("$LATEST version cannot be deleted without deleting the function."));
            }
            let latest = self.latest_of(&r)?;
            return self.delete_version(&latest, q).await;
        }
        let _guard = self.write_lock.lock().await;
        let f = self.function(&r)?;
        let arn = f.arn();
        self.delete_record(Table::Functions, &arn).await?;
        self.functions.write().remove(&f.key());
        self.pool.drop_function(&f.arn());
        Ok(json!({}))
    }

    pub(crate) async fn update_function_code(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        reject_image(&v)?;
        let current = self.lookup(ctx, &v)?;
        check_revision(&v, &current)?;
        let stored = self.store_code(ctx, &v, "UpdateFunctionCode").await?;
        if v.get("DryRun").and_then(Value::as_bool) == Some(true) {
            let mut f = (*current).clone();
            f.code_sha256 = stored.sha256;
            f.code_size = stored.size;
            return Ok(f.configuration());
        }
        let out = self
            .update(&current, move |f| {
                f.code_hex = stored.hex.clone();
                f.code_sha256 = stored.sha256.clone();
                f.code_size = stored.size;
                Ok(())
            })
            .await?;
        if v.get("Publish").and_then(Value::as_bool) == Some(true) {
            let latest = self.function(&FunctionRef {
                account: current.account.clone(),
                region: current.region.clone(),
                name: current.name.clone(),
                qualifier: None,
            })?;
            return self.publish(&latest, None).await;
        }
        Ok(out)
    }

    pub(crate) async fn update_function_configuration(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        reject_image(&v)?;
        let current = self.lookup(ctx, &v)?;
        check_revision(&v, &current)?;
        if let Some(role) = str_member(&v, "Role") {
            check_role(role)?;
        }
        if let Some(rt) = str_member(&v, "Runtime") {
            self.check_runtime(rt).await?;
        }
        let timeout = int_member(&v, "Timeout")?.map(check_timeout).transpose()?;
        let memory = int_member(&v, "MemorySize")?.map(check_memory).transpose()?;
        let env = environment(&v)?;
        let layers = self.resolve_layers(ctx, &v)?;
        let dlq = dead_letter_target(&v)?;
        self.update(&current, move |f| {
            if let Some(l) = &layers {
                f.layers = l.iter().map(crate::layers::LayerRef::from).collect();
            }
            if let Some(d) = &dlq {
                f.dead_letter_target = d.clone();
            }
            if let Some(r) = str_member(&v, "Role") {
                f.role = r.to_string();
            }
            if let Some(h) = str_member(&v, "Handler") {
                f.handler = h.to_string();
            }
            if let Some(d) = str_member(&v, "Description") {
                f.description = d.to_string();
            }
            if let Some(rt) = str_member(&v, "Runtime") {
                f.runtime = rt.to_string();
            }
            if let Some(t) = timeout {
                f.timeout = t;
            }
            if let Some(m) = memory {
                f.memory_size = m;
            }
            if let Some(e) = &env {
                f.environment = Some(e.clone());
            }
            if let Some(s) = v.get("EphemeralStorage").and_then(|e| e.get("Size")).and_then(Value::as_i64) {
                f.ephemeral_storage = s.clamp(512, 10240) as u32;
            }
            Ok(())
        })
        .await
    }

    /// Applies `change` to the current `$LATEST` under the write lock and persists it.
    async fn modify(
        &self,
        seen: &FunctionRecord,
        change: impl FnOnce(&mut FunctionRecord) -> Result<(), AwsError>,
    ) -> Result<Arc<FunctionRecord>, AwsError> {
        let _guard = self.write_lock.lock().await;
        let current = self
            .functions
            .read()
            .get(&seen.key())
            .cloned()
            .ok_or_else(|| errors::not_found(&seen.arn()))?;
        let mut f = (*current).clone();
        change(&mut f)?;
        self.persist(&f).await?;
        let f = Arc::new(f);
        self.functions.write().insert(f.key(), f.clone());
        Ok(f)
    }

    /// Applies a change that leaves code and configuration alone (policy, event invoke
    /// configuration): warm environments stay.
    pub(crate) async fn update_meta(&self, seen: &FunctionRecord, change: impl FnOnce(&mut FunctionRecord)) -> Result<(), AwsError> {
        self.modify(seen, |f| {
            change(f);
            Ok(())
        })
        .await
        .map(|_| ())
    }

    /// Applies `change` to the current `$LATEST` (new revision, new LastModified),
    /// persists it, and retires warm environments of the old revision.
    async fn update(
        &self,
        seen: &FunctionRecord,
        change: impl FnOnce(&mut FunctionRecord) -> Result<(), AwsError>,
    ) -> Result<Value, AwsError> {
        let f = self
            .modify(seen, |f| {
                change(f)?;
                f.last_modified = now_millis();
                f.revision_id = nimbus_core::ids::uuid4();
                Ok(())
            })
            .await?;
        // An update is InProgress in its own response, Successful for later reads.
        let mut out = f.configuration();
        out["LastUpdateStatus"] = json!("InProgress");
        out["LastUpdateStatusReason"] = json!("The function is being created.");
        out["LastUpdateStatusReasonCode"] = json!("Creating");
        self.pool.drop_function(&f.qualified_arn());
        Ok(out)
    }
}

/// DeadLetterConfig: None when absent, Some(None) when cleared, else the queue or topic ARN.
fn dead_letter_target(v: &Value) -> Result<Option<Option<String>>, AwsError> {
    let Some(cfg) = v.get("DeadLetterConfig") else { return Ok(None) };
    match str_member(cfg, "TargetArn") {
        None | Some("") => Ok(Some(None)),
        Some(arn) => match nimbus_core::Arn::parse(arn).map(|a| a.service) {
            Some(s) if s == "sqs" || s == "sns" => Ok(Some(Some(arn.to_string()))),
            _ => Err(errors::invalid_parameter(format!(
                "The provided target arn {arn} is invalid. The dead-letter target must be an SQS queue or an SNS topic."
            ))),
        },
    }
}

fn check_revision(v: &Value, f: &FunctionRecord) -> Result<(), AwsError> {
    match str_member(v, "RevisionId") {
        Some(r) if r != f.revision_id => Err(errors::precondition_failed()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> RequestContext {
        RequestContext {
            account: "000000000000".into(),
            region: "us-east-1".into(),
            access_key: "test".into(),
            request_id: "r".into(),
            host: "localhost".into(),
            path: "/".into(),
        }
    }

    #[test]
    fn function_refs() {
        let c = ctx();
        let r = parse_ref(&c, "f1", None).unwrap();
        assert_eq!(r.arn(), "arn:aws:lambda:us-east-1:000000000000:function:f1");
        let r = parse_ref(&c, "arn:aws:lambda:eu-west-1:123456789012:function:f2:$LATEST", None).unwrap();
        assert_eq!((r.region.as_str(), r.account.as_str(), r.name.as_str()), ("eu-west-1", "123456789012", "f2"));
        assert_eq!(r.qualifier.as_deref(), Some("$LATEST"));
        let r = parse_ref(&c, "123456789012:function:f3", Some("prod")).unwrap();
        assert_eq!(r.arn(), "arn:aws:lambda:us-east-1:123456789012:function:f3:prod");
        assert_eq!(parse_ref(&c, "f:1", Some("2")).unwrap_err().code, "InvalidParameterValueException");
        assert_eq!(parse_ref(&c, "bad name", None).unwrap_err().code, "ValidationException");
        assert_eq!(parse_ref(&c, "a:b:c:d:e", None).unwrap_err().code, "ValidationException");
    }

    #[test]
    fn limits() {
        assert!(check_timeout(0).is_err());
        assert!(check_timeout(901).is_err());
        assert_eq!(check_memory(128).unwrap(), 128);
        assert!(check_memory(64).is_err());
        assert!(check_role("arn:aws:iam::000000000000:role/lambda-role").is_ok());
        assert!(check_role("nope").is_err());
        let e = environment(&json!({"Environment": {"Variables": {"AWS_REGION": "x"}}})).unwrap_err();
        assert!(e.message.contains("AWS_REGION"));
    }
}
