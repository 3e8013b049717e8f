//! Bucket sub-resources (notification configuration, tagging, policy, CORS), object
//! tagging, and the emission of event notifications.

use s3s::dto::*;
use s3s::{s3_error, S3Error, S3Request, S3Result};

use crate::config::{self, BucketConfig, CorsRule, NotificationTarget, TargetKind};
use crate::notify::{self, ObjectEvent, ReqInfo};
use crate::persist;
use crate::provider::{no_such_bucket, now_ms, ObjMeta, State};

/// Who made a request, for its event notifications.
#[derive(Debug, Clone)]
pub struct EventCtx {
    pub info: ReqInfo,
    pub principal: String,
}

impl EventCtx {
    pub fn of<T>(req: &S3Request<T>) -> Self {
        let info = req.extensions.get::<ReqInfo>().cloned().unwrap_or_else(|| ReqInfo::new(None));
        let principal = match &req.credentials {
            Some(c) => format!("AWS:{}", c.access_key),
            None => "Anonymous".to_string(),
        };
        EventCtx { info, principal }
    }
}

fn invalid_argument(msg: impl Into<String>) -> S3Error {
    S3Error::with_message(s3s::S3ErrorCode::InvalidArgument, msg.into())
}

fn invalid_tag(msg: String) -> S3Error {
    S3Error::with_message(s3s::S3ErrorCode::InvalidTag, msg)
}

impl State {
    /// Reads a bucket's configuration.
    pub(crate) fn with_config<T>(&self, bucket: &str, f: impl FnOnce(&BucketConfig) -> T) -> S3Result<T> {
        let buckets = self.buckets.read();
        let b = buckets.get(bucket).ok_or_else(|| no_such_bucket(bucket))?;
        Ok(f(&b.config))
    }

    /// Changes a bucket's configuration: commits it, then makes it visible.
    pub(crate) async fn update_config<R>(&self, bucket: &str, f: impl FnOnce(&mut BucketConfig) -> S3Result<R>) -> S3Result<R> {
        let _guard = self.config_lock.lock().await;
        let mut cfg = self.with_config(bucket, |c| c.clone())?;
        let r = f(&mut cfg)?;
        let (b, c) = (bucket.to_string(), cfg.clone());
        self.commit(move |tx| persist::put_bucket_config(tx, &b, &c)).await?;
        if let Some(bs) = self.buckets.write().get_mut(bucket) {
            bs.config = cfg;
        }
        Ok(r)
    }

    /// Queues the notifications an object event triggers (call after the change is committed).
    /// `version_id` is reported for buckets with a versioning state.
    pub(crate) fn emit(&self, ctx: &EventCtx, name: &'static str, bucket: &str, key: &str, meta: Option<&ObjMeta>, version_id: Option<&str>) {
        self.emit_object_event(ctx, name, bucket, key, meta.map(|m| m.size), meta.map(|m| m.etag.as_str()), version_id, None);
    }

    /// As `emit`, for an event whose record carries `data` (`glacierEventData`, ...).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn emit_with_data(
        &self,
        ctx: &EventCtx,
        name: &'static str,
        bucket: &str,
        key: &str,
        meta: &ObjMeta,
        version_id: Option<&str>,
        data: (&'static str, serde_json::Value),
    ) {
        self.emit_object_event(ctx, name, bucket, key, Some(meta.size), Some(meta.etag.as_str()), version_id, Some(data));
    }

    /// Queues the notifications of a change to an object's tags or ACL: the object is
    /// named by key, eTag and version, without a size (its body did not change).
    pub(crate) fn emit_subresource_change(&self, ctx: &EventCtx, name: &'static str, bucket: &str, key: &str, found: &crate::versioning::Found) {
        let version_id = found.versioned.then_some(found.meta.version_id.as_str());
        self.emit_object_event(ctx, name, bucket, key, None, Some(found.meta.etag.as_str()), version_id, None);
    }

    #[allow(clippy::too_many_arguments)]
    fn emit_object_event(
        &self,
        ctx: &EventCtx,
        name: &'static str,
        bucket: &str,
        key: &str,
        size: Option<u64>,
        etag: Option<&str>,
        version_id: Option<&str>,
        data: Option<(&'static str, serde_json::Value)>,
    ) {
        let (targets, region, account) = {
            let buckets = self.buckets.read();
            let Some(b) = buckets.get(bucket) else { return };
            if b.config.notifications.is_empty() {
                return;
            }
            let targets: Vec<(String, String)> = b
                .config
                .notifications
                .iter()
                .filter(|t| t.matches(name, key))
                .map(|t| (t.id.clone(), t.arn.clone()))
                .collect();
            (targets, b.region.clone(), b.account.clone())
        };
        if targets.is_empty() {
            return;
        }
        let ev = ObjectEvent {
            name,
            bucket: bucket.to_string(),
            region,
            key: key.to_string(),
            size,
            etag: etag.map(str::to_string),
            version_id: version_id.map(str::to_string),
            principal: ctx.principal.clone(),
            owner: format!("A{account}"),
            time_ms: now_ms(),
            sequencer: notify::next_sequencer(),
            data,
        };
        for (id, arn) in targets {
            self.notifier.send(&arn, notify::event_message(&ev, &ctx.info, &id), bucket);
        }
    }

    pub fn bucket_exists(&self, bucket: &str) -> bool {
        self.buckets.read().contains_key(bucket)
    }

    /// The region and owning account of a bucket (None: no such bucket).
    fn region_and_account(&self, bucket: &str) -> Option<(String, String)> {
        self.buckets.read().get(bucket).map(|b| (b.region.clone(), b.account.clone()))
    }

    /// The region a bucket was created in (None: no such bucket).
    pub fn bucket_region(&self, bucket: &str) -> Option<String> {
        self.buckets.read().get(bucket).map(|b| b.region.clone())
    }

    /// The CORS rules of a bucket (None: no bucket or no configuration).
    pub fn cors_rules(&self, bucket: &str) -> Option<Vec<CorsRule>> {
        self.buckets.read().get(bucket).and_then(|b| b.config.cors.clone())
    }
}

fn filter_rules(filter: Option<NotificationConfigurationFilter>) -> S3Result<Vec<(String, String)>> {
    let rules: Vec<(String, String)> = filter
        .and_then(|f| f.key)
        .and_then(|k| k.filter_rules)
        .unwrap_or_default()
        .into_iter()
        .map(|r| (r.name.map(|n| n.as_str().to_string()).unwrap_or_default(), r.value.unwrap_or_default()))
        .collect();
    config::normalise_rules(rules).map_err(invalid_argument)
}

fn filter_dto(rules: &[(String, String)]) -> Option<NotificationConfigurationFilter> {
    (!rules.is_empty()).then(|| NotificationConfigurationFilter {
        key: Some(S3KeyFilter {
            filter_rules: Some(
                rules
                    .iter()
                    .map(|(n, v)| FilterRule { name: Some(FilterRuleName::from(n.clone())), value: Some(v.clone()) })
                    .collect(),
            ),
        }),
    })
}

fn target(kind: TargetKind, id: Option<String>, arn: String, events: Vec<Event>, filter: Option<NotificationConfigurationFilter>) -> S3Result<NotificationTarget> {
    let events: Vec<String> = events.into_iter().map(String::from).collect();
    if events.is_empty() {
        return Err(s3_error!(MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema"));
    }
    for e in &events {
        if !config::valid_event(e) {
            return Err(invalid_argument("The event is not supported for notifications"));
        }
    }
    let id = id.filter(|i| !i.is_empty()).unwrap_or_else(|| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(nimbus_core::ids::uuid4())
    });
    Ok(NotificationTarget { kind, id, arn, events, rules: filter_rules(filter)? })
}

fn arn_service(arn: &str) -> Option<&str> {
    nimbus_core::Arn::parse(arn).map(|a| a.service).and_then(|s| match s.as_str() {
        "sqs" => Some("sqs"),
        "sns" => Some("sns"),
        "lambda" => Some("lambda"),
        _ => None,
    })
}

impl State {
    pub(crate) async fn put_notification(&self, ctx: &EventCtx, input: PutBucketNotificationConfigurationInput) -> S3Result<()> {
        let c = input.notification_configuration;
        let mut targets = Vec::new();
        for q in c.queue_configurations.unwrap_or_default() {
            targets.push(target(TargetKind::Queue, q.id, q.queue_arn, q.events, q.filter)?);
        }
        for t in c.topic_configurations.unwrap_or_default() {
            targets.push(target(TargetKind::Topic, t.id, t.topic_arn, t.events, t.filter)?);
        }
        for l in c.lambda_function_configurations.unwrap_or_default() {
            targets.push(target(TargetKind::Lambda, l.id, l.lambda_function_arn, l.events, l.filter)?);
        }
        for (i, a) in targets.iter().enumerate() {
            if targets[..i].iter().any(|b| b.id == a.id) {
                return Err(invalid_argument("Same ID used for multiple configurations. IDs must be unique"));
            }
            if targets[..i].iter().any(|b| config::overlapping(a, b)) {
                return Err(invalid_argument("Configurations overlap. Configurations on the same bucket cannot share a common event type."));
            }
        }
        let skip = input.skip_destination_validation.unwrap_or(false);
        if !skip {
            let (region, account) = self
                .region_and_account(&input.bucket)
                .ok_or_else(|| s3s::s3_error!(NoSuchBucket, "The specified bucket does not exist"))?;
            let source_arn = format!("arn:aws:s3:::{}", input.bucket);
            let mut unresolved: Vec<(String, String)> = Vec::new();
            for t in &targets {
                let reason = self.unresolved_destination(t, &region, &source_arn, &account);
                if let Some(reason) = reason.filter(|_| !unresolved.iter().any(|(arn, _)| *arn == t.arn)) {
                    unresolved.push((t.arn.clone(), reason));
                }
            }
            if let Some((arn, reason)) = unresolved.first() {
                tracing::info!(destinations = ?unresolved, "S3 notification destinations do not resolve");
                // S3 names each destination and why (ArgumentName1/ArgumentValue1, ...); the
                // first is named here.
                let mut e = invalid_argument("Unable to validate the following destination configurations");
                e.set_headers(crate::storage_class::error_element_headers_many(&[
                    (crate::storage_class::ERROR_DESTINATION_HEADER, arn),
                    (crate::storage_class::ERROR_DESTINATION_REASON_HEADER, reason),
                ]));
                return Err(e);
            }
        }
        let event_bridge = c.event_bridge_configuration.is_some();
        let stored = targets.clone();
        self.update_config(&input.bucket, move |cfg| {
            cfg.notifications = stored;
            cfg.event_bridge = event_bridge;
            Ok(())
        })
        .await?;
        if !skip {
            let body = notify::test_event(&input.bucket, &ctx.info, now_ms());
            let mut sent: Vec<&str> = Vec::new();
            // Queues and topics get the test event; functions are not invoked with it.
            for t in targets.iter().filter(|t| t.kind != TargetKind::Lambda) {
                if !sent.contains(&t.arn.as_str()) {
                    self.notifier.send(&t.arn, body.clone(), &input.bucket);
                    sent.push(&t.arn);
                }
            }
        }
        Ok(())
    }

    /// Why S3 could not validate a notification destination (None: it can send there).
    fn unresolved_destination(&self, t: &NotificationTarget, bucket_region: &str, source_arn: &str, account: &str) -> Option<String> {
        let (expected, noun) = match t.kind {
            TargetKind::Queue => ("sqs", "queue"),
            TargetKind::Topic => ("sns", "topic"),
            TargetKind::Lambda => ("lambda", "function"),
        };
        // Destinations are in the bucket's region ("The Amazon SQS queue must be in the
        // same AWS Region as your Amazon S3 bucket"; likewise topics and functions), and
        // S3 cannot send to a FIFO queue.
        let exists = arn_service(&t.arn) == Some(expected)
            && nimbus_core::Arn::parse(&t.arn).is_some_and(|a| a.region == bucket_region)
            && !(t.kind == TargetKind::Queue && t.arn.ends_with(".fifo"))
            && self.notifier.targets.exists(&t.arn);
        if !exists {
            return Some(format!("The destination {noun} does not exist"));
        }
        // The queue's Policy or the function's permissions must let S3 send for this bucket.
        if t.kind != TargetKind::Topic && !self.notifier.targets.allows(&t.arn, "s3.amazonaws.com", source_arn, account) {
            return Some(match t.kind {
                TargetKind::Lambda => format!("Not authorized to invoke function [{}]", t.arn),
                _ => format!("Permissions on the destination {noun} do not allow S3 to publish notifications from this bucket"),
            });
        }
        None
    }

    pub(crate) fn get_notification(&self, bucket: &str) -> S3Result<GetBucketNotificationConfigurationOutput> {
        self.with_config(bucket, |cfg| {
            let mut out = GetBucketNotificationConfigurationOutput::default();
            let of = |kind: TargetKind| -> Vec<&NotificationTarget> { cfg.notifications.iter().filter(|t| t.kind == kind).collect() };
            let events = |t: &NotificationTarget| -> Vec<Event> { t.events.iter().cloned().map(Event::from).collect() };
            let queues: Vec<QueueConfiguration> = of(TargetKind::Queue)
                .into_iter()
                .map(|t| QueueConfiguration { events: events(t), filter: filter_dto(&t.rules), id: Some(t.id.clone()), queue_arn: t.arn.clone() })
                .collect();
            let topics: Vec<TopicConfiguration> = of(TargetKind::Topic)
                .into_iter()
                .map(|t| TopicConfiguration { events: events(t), filter: filter_dto(&t.rules), id: Some(t.id.clone()), topic_arn: t.arn.clone() })
                .collect();
            let lambdas: Vec<LambdaFunctionConfiguration> = of(TargetKind::Lambda)
                .into_iter()
                .map(|t| LambdaFunctionConfiguration {
                    events: events(t),
                    filter: filter_dto(&t.rules),
                    id: Some(t.id.clone()),
                    lambda_function_arn: t.arn.clone(),
                })
                .collect();
            out.queue_configurations = (!queues.is_empty()).then_some(queues);
            out.topic_configurations = (!topics.is_empty()).then_some(topics);
            out.lambda_function_configurations = (!lambdas.is_empty()).then_some(lambdas);
            out.event_bridge_configuration = cfg.event_bridge.then_some(EventBridgeConfiguration {});
            out
        })
    }
}

/// Tag DTOs → (key, value) pairs, validated.
pub fn tags_from(tag_set: Vec<Tag>, object: bool) -> S3Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for t in tag_set {
        let key = t.key.ok_or_else(|| invalid_tag("The TagKey you have provided is invalid".into()))?;
        out.push((key, t.value.unwrap_or_default()));
    }
    config::validate_tags(&out, object).map_err(invalid_tag)?;
    Ok(out)
}

pub fn tags_header(header: Option<&str>) -> S3Result<Vec<(String, String)>> {
    let Some(h) = header else { return Ok(Vec::new()) };
    let tags = config::parse_tagging_header(h).map_err(invalid_argument)?;
    config::validate_tags(&tags, true).map_err(invalid_tag)?;
    Ok(tags)
}

pub fn tag_dtos(tags: &[(String, String)]) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag { key: Some(k.clone()), value: Some(v.clone()) }).collect()
}

pub fn policy_checked(policy: &str) -> S3Result<()> {
    config::validate_policy(policy).map_err(|m| S3Error::with_message(s3s::S3ErrorCode::MalformedPolicy, m))
}

pub fn cors_from(c: CORSConfiguration) -> S3Result<Vec<CorsRule>> {
    let rules: Vec<CorsRule> = c
        .cors_rules
        .into_iter()
        .map(|r| CorsRule {
            id: r.id,
            allowed_methods: r.allowed_methods,
            allowed_origins: r.allowed_origins,
            allowed_headers: r.allowed_headers.unwrap_or_default(),
            expose_headers: r.expose_headers.unwrap_or_default(),
            max_age_seconds: r.max_age_seconds,
        })
        .collect();
    config::validate_cors(&rules).map_err(|m| {
        if m.starts_with("The XML") {
            S3Error::with_message(s3s::S3ErrorCode::MalformedXML, m)
        } else {
            // S3's code for an unsupported method or a second wildcard (LocalStack's
            // recording of AWS; versitygw#1870).
            S3Error::with_message(s3s::S3ErrorCode::InvalidRequest, m)
        }
    })?;
    Ok(rules)
}

pub fn cors_dtos(rules: &[CorsRule]) -> Vec<CORSRule> {
    rules
        .iter()
        .map(|r| CORSRule {
            id: r.id.clone(),
            allowed_methods: r.allowed_methods.clone(),
            allowed_origins: r.allowed_origins.clone(),
            allowed_headers: (!r.allowed_headers.is_empty()).then(|| r.allowed_headers.clone()),
            expose_headers: (!r.expose_headers.is_empty()).then(|| r.expose_headers.clone()),
            max_age_seconds: r.max_age_seconds,
        })
        .collect()
}
