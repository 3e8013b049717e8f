//! Log group operations: create, delete, describe, retention, tags.

use std::collections::BTreeMap;
use std::sync::Arc;

use nimbus_core::{now_millis, AwsError, RequestContext};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::model::{Group, GroupInner};
use crate::persist::{self, GroupRow};
use crate::{empty, errors, tokens, validate, State};

const DAY_MS: u64 = 86_400_000;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateLogGroupInput {
    log_group_name: String,
    #[serde(default)]
    kms_key_id: Option<String>,
    #[serde(default)]
    tags: Option<BTreeMap<String, String>>,
    #[serde(default)]
    log_group_class: Option<String>,
    #[serde(default)]
    deletion_protection_enabled: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletionProtectionInput {
    log_group_identifier: String,
    deletion_protection_enabled: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupNameInput {
    log_group_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogGroupsInput {
    #[serde(default)]
    log_group_name_prefix: Option<String>,
    #[serde(default)]
    log_group_name_pattern: Option<String>,
    #[serde(default)]
    next_token: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    log_group_class: Option<String>,
    /// Names or ARNs; when given, only these groups are described.
    #[serde(default)]
    log_group_identifiers: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutRetentionPolicyInput {
    log_group_name: String,
    retention_in_days: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagResourceInput {
    resource_arn: String,
    tags: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntagResourceInput {
    resource_arn: String,
    tag_keys: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceArnInput {
    resource_arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagLogGroupInput {
    log_group_name: String,
    tags: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntagLogGroupInput {
    log_group_name: String,
    tags: Vec<String>,
}

/// Most tags a log group may carry.
const MAX_TAGS: usize = 50;

impl State {
    pub async fn create_log_group(&self, ctx: &RequestContext, req: CreateLogGroupInput) -> Result<Value, AwsError> {
        validate::new_group_name(&req.log_group_name)?;
        let tags = req.tags.unwrap_or_default();
        validate::tags(tags.iter(), "tags")?;
        if tags.len() > MAX_TAGS {
            return Err(errors::constraint("{...}", "tags", "Member must have length less than or equal to 50"));
        }
        if let Some(class) = &req.log_group_class {
            if !["STANDARD", "INFREQUENT_ACCESS", "DELIVERY", "ESSENTIALS"].contains(&class.as_str()) {
                return Err(errors::constraint(
                    class,
                    "logGroupClass",
                    "Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY, ESSENTIALS]",
                ));
            }
        }
        let key = (ctx.account.clone(), ctx.region.clone(), req.log_group_name.clone());
        let row = {
            let mut groups = self.groups.write();
            if groups.contains_key(&key) {
                return Err(errors::group_exists());
            }
            let inner = GroupInner {
                tags,
                kms_key_id: req.kms_key_id,
                class: req.log_group_class,
                deletion_protection: req.deletion_protection_enabled.unwrap_or(false),
                ..Default::default()
            };
            let g = Arc::new(Group::new(&ctx.account, &ctx.region, &req.log_group_name, now_millis(), inner));
            let row = GroupRow::of(&g, &g.inner.lock());
            groups.insert(key, g);
            row
        };
        self.store.write(move |tx| persist::save_group(tx, &row)).await.map_err(errors::store)?;
        Ok(empty())
    }

    pub async fn delete_log_group(&self, ctx: &RequestContext, req: GroupNameInput) -> Result<Value, AwsError> {
        validate::group_name(&req.log_group_name, "logGroupName")?;
        let key = (ctx.account.clone(), ctx.region.clone(), req.log_group_name);
        let removed = {
            let mut groups = self.groups.write();
            let g = groups.get(&key).ok_or_else(errors::group_not_found)?;
            if g.inner.lock().deletion_protection {
                return Err(errors::deletion_protected());
            }
            groups.remove(&key).ok_or_else(errors::group_not_found)?
        };
        let arn = removed.arn.clone();
        self.store.write(move |tx| persist::delete_group(tx, &arn)).await.map_err(errors::store)?;
        Ok(empty())
    }

    pub fn describe_log_groups(&self, ctx: &RequestContext, req: DescribeLogGroupsInput) -> Result<Value, AwsError> {
        if req.log_group_name_prefix.is_some() && req.log_group_name_pattern.is_some() {
            return Err(errors::invalid_parameter(
                "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.",
            ));
        }
        if let Some(p) = &req.log_group_name_prefix {
            validate::group_name(p, "logGroupNamePrefix")?;
        }
        let limit = validate::limit(req.limit, 1, 50, 50)?;
        let offset = req.next_token.as_deref().map(tokens::decode_offset).transpose()?.unwrap_or(0);
        let pattern = req.log_group_name_pattern.as_deref().map(str::to_ascii_lowercase);
        // An identifier is a name or an ARN (with or without the trailing `:*`).
        let identifiers: Option<Vec<&str>> = req.log_group_identifiers.as_ref().map(|ids| {
            ids.iter().map(|id| id.strip_suffix(":*").unwrap_or(id)).collect()
        });
        let groups = self.groups.read();
        let first = (ctx.account.clone(), ctx.region.clone(), req.log_group_name_prefix.clone().unwrap_or_default());
        let matching: Vec<&Arc<Group>> = groups
            .range(first..)
            .take_while(|((a, r, _), _)| a == &ctx.account && r == &ctx.region)
            .map(|(_, g)| g)
            .take_while(|g| req.log_group_name_prefix.as_deref().is_none_or(|p| g.name.starts_with(p)))
            // logGroupNamePattern: a case-insensitive substring.
            .filter(|g| pattern.as_deref().is_none_or(|p| g.name.to_ascii_lowercase().contains(p)))
            .filter(|g| identifiers.as_ref().is_none_or(|ids| ids.iter().any(|id| *id == g.name || *id == g.arn)))
            .filter(|g| {
                req.log_group_class.as_deref().is_none_or(|c| g.inner.lock().class.as_deref().unwrap_or("STANDARD") == c)
            })
            .collect();
        let page: Vec<Value> = matching.iter().skip(offset).take(limit).map(|g| g.describe()).collect();
        let mut out = json!({ "logGroups": page });
        if offset.saturating_add(limit) < matching.len() {
            out["nextToken"] = tokens::encode_offset(offset + limit).into();
        }
        Ok(out)
    }

    pub async fn put_retention_policy(&self, ctx: &RequestContext, req: PutRetentionPolicyInput) -> Result<Value, AwsError> {
        validate::group_name(&req.log_group_name, "logGroupName")?;
        let days = validate::retention(req.retention_in_days)?;
        let g = self.group(ctx, &req.log_group_name)?;
        let row = {
            let mut inner = g.inner.lock();
            inner.retention_days = Some(days);
            GroupRow::of(&g, &inner)
        };
        self.store.write(move |tx| persist::save_group(tx, &row)).await.map_err(errors::store)?;
        expire_group(self, &g, now_millis());
        Ok(empty())
    }

    pub async fn put_log_group_deletion_protection(
        &self,
        ctx: &RequestContext,
        req: DeletionProtectionInput,
    ) -> Result<Value, AwsError> {
        let g = self.group_named(ctx, None, Some(&req.log_group_identifier))?;
        let row = {
            let mut inner = g.inner.lock();
            inner.deletion_protection = req.deletion_protection_enabled;
            GroupRow::of(&g, &inner)
        };
        self.store.write(move |tx| persist::save_group(tx, &row)).await.map_err(errors::store)?;
        Ok(empty())
    }

    pub async fn delete_retention_policy(&self, ctx: &RequestContext, req: GroupNameInput) -> Result<Value, AwsError> {
        validate::group_name(&req.log_group_name, "logGroupName")?;
        let g = self.group(ctx, &req.log_group_name)?;
        let row = {
            let mut inner = g.inner.lock();
            inner.retention_days = None;
            GroupRow::of(&g, &inner)
        };
        self.store.write(move |tx| persist::save_group(tx, &row)).await.map_err(errors::store)?;
        Ok(empty())
    }

    async fn change_tags(
        &self,
        g: &Group,
        add: BTreeMap<String, String>,
        remove: Vec<String>,
    ) -> Result<(), AwsError> {
        validate::tags(add.iter(), "tags")?;
        let row = {
            let mut inner = g.inner.lock();
            let mut tags = inner.tags.clone();
            tags.extend(add);
            for k in &remove {
                tags.remove(k);
            }
            if tags.len() > MAX_TAGS {
                return Err(AwsError::bad_request(
                    "TooManyTagsException",
                    format!("A resource can have no more than {MAX_TAGS} tags."),
                ));
            }
            inner.tags = tags;
            GroupRow::of(g, &inner)
        };
        self.store.write(move |tx| persist::save_group(tx, &row)).await.map_err(errors::store)
    }

    pub async fn tag_resource(&self, req: TagResourceInput) -> Result<Value, AwsError> {
        let g = self.group_by_arn(&req.resource_arn)?;
        self.change_tags(&g, req.tags, Vec::new()).await?;
        Ok(empty())
    }

    pub async fn untag_resource(&self, req: UntagResourceInput) -> Result<Value, AwsError> {
        let g = self.group_by_arn(&req.resource_arn)?;
        self.change_tags(&g, BTreeMap::new(), req.tag_keys).await?;
        Ok(empty())
    }

    pub fn list_tags_for_resource(&self, req: ResourceArnInput) -> Result<Value, AwsError> {
        let g = self.group_by_arn(&req.resource_arn)?;
        let tags = g.inner.lock().tags.clone();
        Ok(json!({ "tags": tags }))
    }

    pub async fn tag_log_group(&self, ctx: &RequestContext, req: TagLogGroupInput) -> Result<Value, AwsError> {
        let g = self.group(ctx, &req.log_group_name)?;
        self.change_tags(&g, req.tags, Vec::new()).await?;
        Ok(empty())
    }

    pub async fn untag_log_group(&self, ctx: &RequestContext, req: UntagLogGroupInput) -> Result<Value, AwsError> {
        let g = self.group(ctx, &req.log_group_name)?;
        self.change_tags(&g, BTreeMap::new(), req.tags).await?;
        Ok(empty())
    }

    pub fn list_tags_log_group(&self, ctx: &RequestContext, req: GroupNameInput) -> Result<Value, AwsError> {
        let g = self.group(ctx, &req.log_group_name)?;
        let tags = g.inner.lock().tags.clone();
        Ok(json!({ "tags": tags }))
    }
}

/// Drops a group's events older than its retention period (memory now, disk in order).
pub fn expire_group(state: &State, g: &Group, now: u64) {
    let mut inner = g.inner.lock();
    let Some(days) = inner.retention_days else { return };
    let cutoff = now.saturating_sub(u64::from(days) * DAY_MS);
    let dropped: usize = inner.streams.values_mut().map(|s| s.expire(cutoff)).sum();
    if dropped > 0 {
        let arn = g.arn.clone();
        state.store.write_detached(move |tx| persist::expire_events(tx, &arn, cutoff));
    }
}

pub fn expire_all(state: &State, now: u64) {
    let groups: Vec<Arc<Group>> = state.groups.read().values().cloned().collect();
    for g in groups {
        expire_group(state, &g, now);
    }
}
