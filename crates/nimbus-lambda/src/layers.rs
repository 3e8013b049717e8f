//! Layers: PublishLayerVersion / GetLayerVersion(ByArn) / ListLayers /
//! ListLayerVersions / DeleteLayerVersion, and what a function's environment sees of
//! its layers. On AWS layers are merged into /opt; nimbus cannot mount /opt for a
//! process, so each layer's unpacked directory is put where runtimes look for /opt's
//! content: PYTHONPATH (`python`, `python/lib/pythonX.Y/site-packages`), NODE_PATH
//! (`nodejs/node_modules`, `nodejs/nodeNN/node_modules`), PATH (`bin`),
//! LD_LIBRARY_PATH (`lib`), and a layer's `bootstrap` for provided.* functions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nimbus_core::{now_millis, Arn, AwsError, RequestContext};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::code;
use crate::errors;
use crate::functions::str_member;
use crate::store::Table;
use crate::State;

/// A function may use at most this many layers.
const MAX_LAYERS: usize = 5;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerVersion {
    pub account: String,
    pub region: String,
    pub name: String,
    pub version: u32,
    pub description: String,
    pub license: Option<String>,
    pub compatible_runtimes: Vec<String>,
    pub compatible_architectures: Vec<String>,
    pub code_hex: String,
    pub code_sha256: String,
    pub code_size: u64,
    pub created: u64,
}

impl LayerVersion {
    pub fn layer_arn(&self) -> String {
        format!("arn:aws:lambda:{}:{}:layer:{}", self.region, self.account, self.name)
    }

    pub fn version_arn(&self) -> String {
        format!("{}:{}", self.layer_arn(), self.version)
    }

    fn to_json(&self, endpoint: &str, with_content: bool) -> Value {
        let mut v = json!({
            "LayerVersionArn": self.version_arn(),
            "Version": self.version,
            "Description": self.description,
            "CreatedDate": crate::time::last_modified(self.created),
            "CompatibleRuntimes": self.compatible_runtimes,
            "CompatibleArchitectures": self.compatible_architectures,
        });
        if let Some(l) = &self.license {
            v["LicenseInfo"] = json!(l);
        }
        if with_content {
            v["LayerArn"] = json!(self.layer_arn());
            v["Content"] = json!({
                "Location": format!("{endpoint}/_nimbus/lambda/code/{}.zip", self.code_hex),
                "CodeSha256": self.code_sha256,
                "CodeSize": self.code_size,
            });
        }
        v
    }
}

/// (account, region, layer name)
pub type LayerKey = (String, String, String);

/// A layer's versions, keyed by number, and the highest number ever used.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LayerRecord {
    pub account: String,
    pub region: String,
    pub name: String,
    pub versions: BTreeMap<u32, LayerVersion>,
    pub last_version: u32,
}

impl LayerRecord {
    pub fn key(&self) -> LayerKey {
        (self.account.clone(), self.region.clone(), self.name.clone())
    }
}

fn key_name(k: &LayerKey) -> String {
    format!("{}:{}:{}", k.0, k.1, k.2)
}

fn valid_layer_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 140 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A layer named by name or ARN (`arn:aws:lambda:region:account:layer:name`).
fn layer_key(ctx: &RequestContext, name: &str) -> Result<LayerKey, AwsError> {
    if let Some(arn) = Arn::parse(name) {
        if let Some(n) = arn.resource.strip_prefix("layer:") {
            let n = n.split(':').next().unwrap_or("");
            if valid_layer_name(n) {
                return Ok((arn.account, arn.region, n.to_string()));
            }
        }
    } else if valid_layer_name(name) {
        return Ok((ctx.account.clone(), ctx.region.clone(), name.to_string()));
    }
    Err(errors::validation(format!(
        "1 validation error detected: Value '{name}' at 'layerName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{{12}}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+"
    )))
}

fn layer_not_found() -> AwsError {
    AwsError::new(404, "ResourceNotFoundException", "The resource you requested does not exist.")
}

impl State {
    pub(crate) async fn publish_layer_version(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let name = str_member(&v, "LayerName").ok_or_else(|| AwsError::missing_parameter("LayerName"))?;
        let key = layer_key(ctx, name)?;
        let content = v.get("Content").ok_or_else(|| AwsError::missing_parameter("Content"))?;
        let runtimes: Vec<String> = string_list(&v, "CompatibleRuntimes");
        for r in &runtimes {
            crate::runtime::kind(r).or_else(|e| if e.message.contains("not supported by nimbus") { Ok(crate::runtime::Kind::Provided) } else { Err(e) })?;
        }
        let stored = self.store_code(ctx, content, "PublishLayerVersion").await?;
        let _guard = self.write_lock.lock().await;
        let mut record = self.layers.read().get(&key).cloned().unwrap_or_else(|| LayerRecord {
            account: key.0.clone(),
            region: key.1.clone(),
            name: key.2.clone(),
            ..LayerRecord::default()
        });
        let n = record.last_version + 1;
        let layer = LayerVersion {
            account: key.0.clone(),
            region: key.1.clone(),
            name: key.2.clone(),
            version: n,
            description: str_member(&v, "Description").unwrap_or("").to_string(),
            license: str_member(&v, "LicenseInfo").map(str::to_string),
            compatible_runtimes: runtimes,
            compatible_architectures: string_list(&v, "CompatibleArchitectures"),
            code_hex: stored.hex,
            code_sha256: stored.sha256,
            code_size: stored.size,
            created: now_millis(),
        };
        record.last_version = n;
        record.versions.insert(n, layer.clone());
        self.save_record(Table::Layers, &key_name(&key), &record).await?;
        self.layers.write().insert(key, record);
        Ok(layer.to_json(&self.endpoint_url, true))
    }

    fn layer_version(&self, ctx: &RequestContext, name: &str, number: u64) -> Result<LayerVersion, AwsError> {
        let key = layer_key(ctx, name)?;
        let layers = self.layers.read();
        u32::try_from(number)
            .ok()
            .and_then(|n| layers.get(&key)?.versions.get(&n).cloned())
            .ok_or_else(layer_not_found)
    }

    pub(crate) fn get_layer_version(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let name = str_member(&v, "LayerName").ok_or_else(|| AwsError::missing_parameter("LayerName"))?;
        let n = v.get("VersionNumber").and_then(Value::as_u64).ok_or_else(|| AwsError::missing_parameter("VersionNumber"))?;
        Ok(self.layer_version(ctx, name, n)?.to_json(&self.endpoint_url, true))
    }

    pub(crate) fn get_layer_version_by_arn(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let arn = str_member(&v, "Arn").ok_or_else(|| AwsError::missing_parameter("Arn"))?;
        let (base, n) = arn.rsplit_once(':').ok_or_else(|| errors::validation(format!("Invalid layer version ARN: {arn}")))?;
        let n: u64 = n.parse().map_err(|_| errors::validation(format!("Invalid layer version ARN: {arn}")))?;
        Ok(self.layer_version(ctx, base, n)?.to_json(&self.endpoint_url, true))
    }

    pub(crate) fn list_layer_versions(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let name = str_member(&v, "LayerName").ok_or_else(|| AwsError::missing_parameter("LayerName"))?;
        let key = layer_key(ctx, name)?;
        let runtime = str_member(&v, "CompatibleRuntime");
        let list: Vec<Value> = self
            .layers
            .read()
            .get(&key)
            .map(|r| {
                r.versions
                    .values()
                    .rev()
                    .filter(|l| runtime.is_none_or(|rt| l.compatible_runtimes.iter().any(|c| c == rt)))
                    .map(|l| l.to_json(&self.endpoint_url, false))
                    .collect()
            })
            .unwrap_or_default();
        Ok(json!({ "LayerVersions": list }))
    }

    pub(crate) fn list_layers(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let runtime = str_member(&v, "CompatibleRuntime");
        let layers = self.layers.read();
        let mut out: Vec<(String, Value)> = layers
            .iter()
            .filter(|(k, _)| k.0 == ctx.account && k.1 == ctx.region)
            .filter_map(|(k, r)| {
                let latest = r
                    .versions
                    .values()
                    .rev()
                    .find(|l| runtime.is_none_or(|rt| l.compatible_runtimes.iter().any(|c| c == rt)))?;
                Some((
                    k.2.clone(),
                    json!({
                        "LayerName": k.2,
                        "LayerArn": latest.layer_arn(),
                        "LatestMatchingVersion": latest.to_json(&self.endpoint_url, false),
                    }),
                ))
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(json!({ "Layers": out.into_iter().map(|(_, v)| v).collect::<Vec<_>>() }))
    }

    pub(crate) async fn delete_layer_version(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let name = str_member(&v, "LayerName").ok_or_else(|| AwsError::missing_parameter("LayerName"))?;
        let n = v.get("VersionNumber").and_then(Value::as_u64).ok_or_else(|| AwsError::missing_parameter("VersionNumber"))?;
        let key = layer_key(ctx, name)?;
        let _guard = self.write_lock.lock().await;
        let Some(mut record) = self.layers.read().get(&key).cloned() else { return Ok(json!({})) };
        // Deleting is idempotent on AWS; functions that use the version keep a copy.
        if u32::try_from(n).ok().and_then(|n| record.versions.remove(&n)).is_none() {
            return Ok(json!({}));
        }
        self.save_record(Table::Layers, &key_name(&key), &record).await?;
        self.layers.write().insert(key, record);
        Ok(json!({}))
    }

    /// Resolves a function's `Layers` (version ARNs) to the versions it will use.
    pub(crate) fn resolve_layers(&self, ctx: &RequestContext, v: &Value) -> Result<Option<Vec<LayerVersion>>, AwsError> {
        let Some(list) = v.get("Layers").and_then(Value::as_array) else { return Ok(None) };
        if list.len() > MAX_LAYERS {
            return Err(errors::invalid_parameter(format!("Cannot reference more than {MAX_LAYERS} layers.")));
        }
        let mut out = Vec::new();
        for arn in list {
            let arn = arn.as_str().unwrap_or("");
            let bad = || errors::invalid_parameter(format!("Layer version {arn} does not exist."));
            let (base, n) = arn.rsplit_once(':').ok_or_else(bad)?;
            let n: u64 = n.parse().map_err(|_| bad())?;
            out.push(self.layer_version(ctx, base, n).map_err(|_| bad())?);
        }
        Ok(Some(out))
    }
}

fn string_list(v: &Value, name: &str) -> Vec<String> {
    v.get(name)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

/// The search paths that show a function its layers, later layers first (AWS merges
/// them into /opt in order, later ones overwriting): additions to PYTHONPATH,
/// NODE_PATH, PATH and LD_LIBRARY_PATH.
/// The `bootstrap` a provided.* function without one of its own finds in /opt.
pub fn bootstrap(root: &Path, layers: &[LayerRef]) -> Option<PathBuf> {
    layers.iter().rev().map(|l| code::code_dir(root, &l.code_hex).join("bootstrap")).find(|p| p.is_file())
}

pub fn search_paths(root: &Path, layers: &[LayerRef], python_minor: Option<&str>) -> Vec<(&'static str, Vec<PathBuf>)> {
    let mut python = Vec::new();
    let mut node = Vec::new();
    let mut bin = Vec::new();
    let mut lib = Vec::new();
    for l in layers.iter().rev() {
        let dir = code::code_dir(root, &l.code_hex);
        if let Some(minor) = python_minor {
            python.push(dir.join("python").join("lib").join(format!("python{minor}")).join("site-packages"));
        }
        python.push(dir.join("python"));
        node.push(dir.join("nodejs").join("node_modules"));
        bin.push(dir.join("bin"));
        lib.push(dir.join("lib"));
    }
    vec![("PYTHONPATH", python), ("NODE_PATH", node), ("PATH", bin), ("LD_LIBRARY_PATH", lib)]
}

/// A layer as a function keeps it: enough to find its content and show it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LayerRef {
    pub arn: String,
    pub code_hex: String,
    pub code_size: u64,
}

impl From<&LayerVersion> for LayerRef {
    fn from(l: &LayerVersion) -> Self {
        LayerRef { arn: l.version_arn(), code_hex: l.code_hex.clone(), code_size: l.code_size }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_arns() {
        let ctx = nimbus_core::targets::internal_context("000000000000", "us-east-1");
        assert_eq!(layer_key(&ctx, "deps").unwrap().2, "deps");
        let k = layer_key(&ctx, "arn:aws:lambda:eu-west-1:123456789012:layer:deps").unwrap();
        assert_eq!((k.0.as_str(), k.1.as_str(), k.2.as_str()), ("123456789012", "eu-west-1", "deps"));
        assert!(layer_key(&ctx, "bad name").is_err());
    }

    #[test]
    fn later_layers_come_first_in_search_paths() {
        let a = LayerRef { arn: "a:1".into(), code_hex: "aa".into(), code_size: 1 };
        let b = LayerRef { arn: "b:1".into(), code_hex: "bb".into(), code_size: 1 };
        let paths = search_paths(Path::new("/r"), &[a, b], Some("3.12"));
        let python = &paths[0].1;
        assert_eq!(python[0], PathBuf::from("/r/code/bb/python/lib/python3.12/site-packages"));
        assert_eq!(python[1], PathBuf::from("/r/code/bb/python"));
        assert_eq!(python[3], PathBuf::from("/r/code/aa/python"));
    }
}
