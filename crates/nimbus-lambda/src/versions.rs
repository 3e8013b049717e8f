//! Published versions (immutable snapshots of `$LATEST`) and aliases (named pointers
//! to a version, optionally splitting traffic with a second one).

use std::collections::BTreeMap;
use std::sync::Arc;

use nimbus_core::{AwsError, RequestContext};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::errors;
use crate::functions::{parse_ref, str_member, FunctionRecord};
use crate::State;

pub const LATEST: &str = "$LATEST";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AliasRecord {
    pub name: String,
    pub function_version: String,
    pub description: String,
    /// Additional version → weight (0.0–1.0).
    pub routing: BTreeMap<String, f64>,
    pub revision_id: String,
}

impl AliasRecord {
    pub fn to_json(&self, function_arn: &str) -> Value {
        let mut m = Map::new();
        m.insert("AliasArn".into(), json!(format!("{function_arn}:{}", self.name)));
        m.insert("Name".into(), json!(self.name));
        m.insert("FunctionVersion".into(), json!(self.function_version));
        m.insert("Description".into(), json!(self.description));
        m.insert("RevisionId".into(), json!(self.revision_id));
        if !self.routing.is_empty() {
            m.insert("RoutingConfig".into(), json!({ "AdditionalVersionWeights": self.routing }));
        }
        Value::Object(m)
    }

    /// The version one invocation runs: the additional version with its weight's
    /// probability, else the primary.
    pub fn pick_version(&self) -> &str {
        let roll = (nimbus_core::ids::random_bytes(4).iter().fold(0u32, |a, b| (a << 8) | u32::from(*b)) as f64) / (u32::MAX as f64 + 1.0);
        let mut acc = 0.0;
        for (v, w) in &self.routing {
            acc += w;
            if roll < acc {
                return v;
            }
        }
        &self.function_version
    }
}

/// What makes two versions the same: PublishVersion returns the newest version
/// instead of a new one when nothing changed since it was published.
fn fingerprint(f: &FunctionRecord) -> Value {
    json!([f.code_sha256, f.runtime, f.handler, f.role, f.timeout, f.memory_size, f.environment, f.architectures,
           f.ephemeral_storage, f.dead_letter_target, f.layers])
}

fn valid_alias_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.bytes().all(|b| b.is_ascii_digit())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl State {
    /// `$LATEST` of the function `v` names (any qualifier is ignored).
    fn latest(&self, ctx: &RequestContext, v: &Value) -> Result<Arc<FunctionRecord>, AwsError> {
        let name = str_member(v, "FunctionName").ok_or_else(|| AwsError::missing_parameter("FunctionName"))?;
        self.latest_of(&parse_ref(ctx, name, None)?)
    }

    pub(crate) async fn publish_version(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let latest = self.latest(ctx, &v)?;
        if let Some(sha) = str_member(&v, "CodeSha256") {
            if sha != latest.code_sha256 {
                return Err(errors::invalid_parameter(format!(
                    "CodeSHA256 ({sha}) is different from current CodeSHA256 in $LATEST ({}). Please try again with the CodeSHA256 in $LATEST.",
                    latest.code_sha256
                )));
            }
        }
        if let Some(rev) = str_member(&v, "RevisionId") {
            if rev != latest.revision_id {
                return Err(errors::precondition_failed());
            }
        }
        let description = str_member(&v, "Description").map(str::to_string);
        self.publish(&latest, description).await
    }

    /// Snapshots `$LATEST` as the next version (or returns the newest version when
    /// nothing changed since it was published).
    pub(crate) async fn publish(&self, latest: &FunctionRecord, description: Option<String>) -> Result<Value, AwsError> {
        let mut out = Value::Null;
        let out_ref = &mut out;
        self.update_meta(latest, |rec| {
            if let Some(newest) = rec.versions.values().next_back() {
                if fingerprint(newest) == fingerprint(rec) {
                    *out_ref = newest.configuration();
                    return;
                }
            }
            let n = rec.last_version + 1;
            let mut snapshot = rec.clone();
            snapshot.versions.clear();
            snapshot.aliases.clear();
            snapshot.version = n.to_string();
            snapshot.revision_id = nimbus_core::ids::uuid4();
            if let Some(d) = &description {
                snapshot.description = d.clone();
            }
            *out_ref = snapshot.configuration();
            rec.last_version = n;
            rec.versions.insert(n, snapshot);
        })
        .await?;
        Ok(out)
    }

    pub(crate) fn list_versions(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let latest = self.latest(ctx, &v)?;
        let mut all = vec![latest.configuration()];
        all.extend(latest.versions.values().map(FunctionRecord::configuration));
        let max = v.get("MaxItems").and_then(Value::as_u64).unwrap_or(50).clamp(1, 10_000) as usize;
        let start: usize = str_member(&v, "Marker").and_then(|m| m.parse().ok()).unwrap_or(0);
        let page: Vec<Value> = all.iter().skip(start).take(max).cloned().collect();
        let mut out = json!({ "Versions": page });
        if start + max < all.len() {
            out["NextMarker"] = json!((start + max).to_string());
        }
        Ok(out)
    }

    /// Checks that `version` exists on `f` ($LATEST or a published number).
    fn check_version(f: &FunctionRecord, version: &str) -> Result<(), AwsError> {
        let exists = version == LATEST || version.parse::<u32>().ok().is_some_and(|n| f.versions.contains_key(&n));
        if exists {
            Ok(())
        } else {
            Err(errors::not_found(&format!("{}:{version}", f.arn())))
        }
    }

    fn routing(f: &FunctionRecord, primary: &str, v: &Value) -> Result<Option<BTreeMap<String, f64>>, AwsError> {
        let Some(cfg) = v.get("RoutingConfig") else { return Ok(None) };
        let mut out = BTreeMap::new();
        if let Some(Value::Object(weights)) = cfg.get("AdditionalVersionWeights") {
            if weights.len() > 1 {
                return Err(errors::invalid_parameter("Number of items in AdditionalVersionWeights cannot be greater than 1"));
            }
            for (version, w) in weights {
                let w = w.as_f64().filter(|w| (0.0..=1.0).contains(w)).ok_or_else(|| {
                    errors::validation(format!(
                        "1 validation error detected: Value '{w}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0]"
                    ))
                })?;
                if primary == LATEST || version == LATEST {
                    return Err(errors::invalid_parameter(
                        "$LATEST is not supported for an alias pointing to more than 1 version",
                    ));
                }
                if version == primary {
                    return Err(errors::invalid_parameter(format!(
                        "Invalid function version {version}. Function version {version} is already included in routing configuration."
                    )));
                }
                Self::check_version(f, version)?;
                out.insert(version.clone(), w);
            }
        }
        Ok(Some(out))
    }

    pub(crate) async fn create_alias(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let f = self.latest(ctx, &v)?;
        let name = str_member(&v, "Name").ok_or_else(|| AwsError::missing_parameter("Name"))?.to_string();
        if !valid_alias_name(&name) {
            return Err(errors::validation(format!(
                "1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)"
            )));
        }
        let version = str_member(&v, "FunctionVersion").ok_or_else(|| AwsError::missing_parameter("FunctionVersion"))?;
        Self::check_version(&f, version)?;
        let routing = Self::routing(&f, version, &v)?.unwrap_or_default();
        if f.aliases.contains_key(&name) {
            return Err(errors::conflict(format!("Alias already exists: {}:{name}", f.arn())));
        }
        let alias = AliasRecord {
            name: name.clone(),
            function_version: version.to_string(),
            description: str_member(&v, "Description").unwrap_or("").to_string(),
            routing,
            revision_id: nimbus_core::ids::uuid4(),
        };
        let out = alias.to_json(&f.arn());
        let mut conflict = false;
        self.update_meta(&f, |rec| {
            if rec.aliases.contains_key(&name) {
                conflict = true;
            } else {
                rec.aliases.insert(name.clone(), alias.clone());
            }
        })
        .await?;
        if conflict {
            return Err(errors::conflict(format!("Alias already exists: {}:{name}", f.arn())));
        }
        Ok(out)
    }

    fn alias_of<'a>(f: &'a FunctionRecord, v: &Value) -> Result<&'a AliasRecord, AwsError> {
        let name = str_member(v, "Name").ok_or_else(|| AwsError::missing_parameter("Name"))?;
        f.aliases
            .get(name)
            .ok_or_else(|| AwsError::new(404, "ResourceNotFoundException", format!("Cannot find alias arn: {}:{name}", f.arn())))
    }

    pub(crate) fn get_alias(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let f = self.latest(ctx, &v)?;
        Ok(Self::alias_of(&f, &v)?.to_json(&f.arn()))
    }

    pub(crate) async fn update_alias(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let f = self.latest(ctx, &v)?;
        let mut alias = Self::alias_of(&f, &v)?.clone();
        if let Some(rev) = str_member(&v, "RevisionId") {
            if rev != alias.revision_id {
                return Err(errors::precondition_failed());
            }
        }
        if let Some(version) = str_member(&v, "FunctionVersion") {
            Self::check_version(&f, version)?;
            alias.function_version = version.to_string();
        }
        if let Some(d) = str_member(&v, "Description") {
            alias.description = d.to_string();
        }
        if let Some(r) = Self::routing(&f, &alias.function_version, &v)? {
            alias.routing = r;
        }
        alias.revision_id = nimbus_core::ids::uuid4();
        let out = alias.to_json(&f.arn());
        self.update_meta(&f, |rec| {
            rec.aliases.insert(alias.name.clone(), alias.clone());
        })
        .await?;
        Ok(out)
    }

    pub(crate) async fn delete_alias(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let f = self.latest(ctx, &v)?;
        let name = str_member(&v, "Name").ok_or_else(|| AwsError::missing_parameter("Name"))?.to_string();
        if f.aliases.contains_key(&name) {
            self.update_meta(&f, |rec| {
                rec.aliases.remove(&name);
            })
            .await?;
        }
        Ok(json!({}))
    }

    pub(crate) fn list_aliases(&self, ctx: &RequestContext, v: Value) -> Result<Value, AwsError> {
        let f = self.latest(ctx, &v)?;
        let version = str_member(&v, "FunctionVersion");
        let all: Vec<Value> = f
            .aliases
            .values()
            .filter(|a| version.is_none_or(|ver| a.function_version == ver || a.routing.contains_key(ver)))
            .map(|a| a.to_json(&f.arn()))
            .collect();
        let max = v.get("MaxItems").and_then(Value::as_u64).unwrap_or(50).clamp(1, 10_000) as usize;
        let start: usize = str_member(&v, "Marker").and_then(|m| m.parse().ok()).unwrap_or(0);
        let page: Vec<Value> = all.iter().skip(start).take(max).cloned().collect();
        let mut out = json!({ "Aliases": page });
        if start + max < all.len() {
            out["NextMarker"] = json!((start + max).to_string());
        }
        Ok(out)
    }

    /// DeleteFunction with a version number as its qualifier.
    pub(crate) async fn delete_version(&self, latest: &FunctionRecord, version: &str) -> Result<Value, AwsError> {
        let n: u32 = version.parse().map_err(|_| errors::not_found(&format!("{}:{version}", latest.arn())))?;
        Self::check_version(latest, version)?;
        let users: Vec<String> = latest
            .aliases
            .values()
            .filter(|a| a.function_version == version || a.routing.contains_key(version))
            .map(|a| a.name.clone())
            .collect();
        if !users.is_empty() {
            return Err(errors::conflict(format!(
                "Unable to delete version because the following aliases reference it: [{}]",
                users.join(", ")
            )));
        }
        self.update_meta(latest, |rec| {
            rec.versions.remove(&n);
        })
        .await?;
        self.pool.drop_function(&format!("{}:{n}", latest.arn()));
        Ok(json!({}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_names_and_routing() {
        assert!(valid_alias_name("live"));
        assert!(valid_alias_name("v1-blue_2"));
        assert!(!valid_alias_name("12"));
        assert!(!valid_alias_name("a:b"));
        let a = AliasRecord {
            name: "live".into(),
            function_version: "1".into(),
            description: String::new(),
            routing: BTreeMap::from([("2".to_string(), 1.0)]),
            revision_id: "r".into(),
        };
        assert_eq!(a.pick_version(), "2", "a weight of 1.0 always routes to the additional version");
        let b = AliasRecord { routing: BTreeMap::new(), ..a };
        assert_eq!(b.pick_version(), "1");
    }
}
