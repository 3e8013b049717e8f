//! Amazon S3: buckets, objects, multipart uploads and presigned URLs, served through
//! the `s3s` protocol crate (restXml, SigV4/SigV2, aws-chunked bodies, checksums).
//!
//! Metadata lives in memory, mirrored to SQLite through the store's group-committing
//! writer before a client hears of a change; object bodies are streamed to files
//! under `<data-dir>/s3/` and published by atomic rename.

mod acl;
mod attributes_etag;
mod blob;
mod bucket_region;
mod bodies;
mod checksums;
mod completed;
mod config;
mod cors;
mod delete_integrity;
mod encryption;
mod error_ids;
mod error_messages;
mod expiry;
mod fast_path;
mod key_guards;
mod lifecycle;
mod mapped;
mod md5_lanes;
mod notify;
mod object_lock;
mod ops_access;
mod ops_config;
mod persist;
mod post_form;
mod policy_eval;
mod provider;
mod public_access;
mod resign;
mod routing;
mod segments;
mod sha256_mismatch;
mod sig_v2;
mod signed_headers;
mod sse_c;
mod sse_c_blocking;
mod storage_class;
mod target;
mod unread_body;
mod unserved_range;
mod versioning;
mod versions;
mod website;
mod website_config;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hyper::body::Incoming;
use nimbus_core::targets::TargetRegistry;
use nimbus_core::AuthConfig;
use nimbus_store::{Durability, Store};
use s3s::auth::{S3Auth, SecretKey};
use s3s::host::{S3Host, VirtualHost};
use s3s::service::{S3Service, S3ServiceBuilder};
use s3s::{s3_error, S3Result};

pub use routing::{is_s3_request, parse_virtual_host, parse_website_host};
/// The response body type of S3 responses (streams object bodies).
pub use s3s::Body;

use crate::provider::Provider;

/// The S3 service, ready to answer requests diverted to it by the edge.
pub struct S3 {
    service: S3Service,
    state: Arc<provider::State>,
    /// For the short road's own signature check (fast_path.rs).
    auth: Auth,
}

impl S3 {
    /// Opens S3's state under `<data_dir>/s3` (or a temporary directory, deleted by
    /// `shutdown`, when `None`).
    /// Event notifications are delivered through `targets`.
    pub fn open(data_dir: Option<&Path>, durability: Durability, auth: AuthConfig, targets: TargetRegistry) -> Result<Self, String> {
        let (root, temporary) = match data_dir {
            Some(d) => (d.join("s3"), false),
            None => (
                std::env::temp_dir().join(format!("nimbus-s3-{}-{:016x}", std::process::id(), rand::random::<u64>())),
                true,
            ),
        };
        blob::prepare_dirs(&root).map_err(|e| format!("S3 storage in {}: {e}", root.display()))?;
        let (store, loaded) = if temporary {
            (Store::in_memory(), persist::Loaded::default())
        } else {
            Store::open(&root, "s3", durability, persist::SCHEMA, persist::load).map_err(|e| format!("S3 store: {e}"))?
        };
        let segments = segments::Segments::open(&root, durability == Durability::Strict, segments::segment_bytes_from_env())
            .map_err(|e| format!("S3 storage in {}: {e}", root.display()))?;
        let notifier = notify::Notifier::start(targets);
        let state = Arc::new(provider::State::new(root, temporary, durability, store, segments, loaded, notifier));
        state.remove_orphans();
        expiry::start_sweeper(Arc::downgrade(&state), expiry::day_ms_from_env());
        bodies::start_compactor(Arc::downgrade(&state));
        let mut builder = S3ServiceBuilder::new(Provider { state: state.clone() });
        builder.set_auth(Auth::new(&auth));
        builder.set_access(Access { strict: auth.strict, state: state.clone() });
        builder.set_host(Host);
        Ok(S3 { service: builder.build(), state, auth: Auth::new(&auth) })
    }

    pub fn bucket_count(&self) -> usize {
        self.state.bucket_count()
    }

    /// Answers one request, streaming its body in and the object out.
    pub async fn handle(&self, req: http::Request<Incoming>) -> http::Response<Body> {
        self.handle_from(req, None).await
    }

    /// Answers one request from `peer` (reported as the event's sourceIPAddress).
    pub async fn handle_from(&self, req: http::Request<Incoming>, peer: Option<std::net::IpAddr>) -> http::Response<Body> {
        // A body the answer leaves unread comes back through `unread` (GETs have none,
        // and pay nothing for it).
        let unread = request_has_body(&req).then(unread_body::Slot::default);
        let expects_continue = req.headers().get(http::header::EXPECT).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
        let mut req = match &unread {
            Some(slot) => req.map(|b| Body::http_body(unread_body::Returning::new(b, slot))),
            None => req.map(Body::from),
        };
        let info = notify::ReqInfo::new(peer);
        req.extensions_mut().insert(info.clone());
        let origin = req.headers().get("origin").and_then(|v| v.to_str().ok()).map(str::to_string);
        // A cross-origin request's preflight headers, if it carries any (cors::decorate).
        let preflight_headers: http::HeaderMap = match origin {
            Some(_) => ["access-control-request-method", "access-control-request-headers"]
                .into_iter()
                .filter_map(|n| Some((http::HeaderName::from_static(n), req.headers().get(n)?.clone())))
                .collect(),
            None => http::HeaderMap::new(),
        };
        let method = req.method().clone();
        // Only preflights and cross-origin requests need the bucket's CORS rules.
        let bucket = (origin.is_some() || method == http::Method::OPTIONS).then(|| cors::bucket_of(&req)).flatten();
        let host = req.headers().get("host").and_then(|v| v.to_str().ok()).map(str::to_string);
        let website_bucket = host.as_deref().and_then(parse_website_host).map(|(b, _)| b.to_string());
        // For an error document's <Key> / <BucketName> (cheap: both share the request's bytes).
        let (uri, host_header) = (req.uri().clone(), req.headers().get(http::header::HOST).cloned());
        let mut resp = if let (Some(site), Some(host)) = (website_bucket, host.as_deref()) {
            let (parts, _) = req.into_parts();
            let mut resp = website::serve(&self.state, &parts, host, &site, &info).await;
            // The bucket's CORS rules apply to its pages too (web fonts, scripts).
            if let (Some(origin), Some(rules)) = (origin.as_deref(), self.state.cors_rules(&site)) {
                cors::decorate(&mut resp, origin, &method, &preflight_headers, &rules);
            }
            resp
        } else if method == http::Method::OPTIONS {
            let (exists, rules) = match &bucket {
                Some(b) => (self.state.bucket_exists(b), self.state.cors_rules(b)),
                None => (false, None),
            };
            let resp = cors::preflight(&req, exists, rules, &info);
            drop(req);
            resp
        } else if let Some((status, code, message)) = routing::put_refusal(&req) {
            let resp = cors::error(status, code, message, "", &info);
            drop(req);
            resp
        } else if let Some(message) = routing::presigned_expiry_error(req.uri().query().unwrap_or("")) {
            let resp = cors::error(http::StatusCode::BAD_REQUEST, "AuthorizationQueryParametersError", message, "", &info);
            drop(req);
            resp
        } else {
            // Plain object reads and writes take the short road; whatever it declines
            // (or a read it cannot answer) goes through s3s.
            // A request signed for another region than its bucket's is refused first,
            // alike on both roads.
            let signed = {
                let parts = nimbus_wire::sigv4::RequestParts {
                    method: req.method().as_str(),
                    path: req.uri().path(),
                    query: req.uri().query().unwrap_or(""),
                    headers: req.headers(),
                };
                nimbus_wire::sigv4::parse(&parts).ok().flatten()
            };
            // An x-amz-* header the signature left out is refused on both roads.
            let unsigned = signed_headers::unsigned_refusal(&req, signed.as_ref(), &info);
            let wrong_region = bucket_region::check(&req, signed.as_ref(), &self.state);
            let answered = match (unsigned, wrong_region) {
                (Some(refusal), _) => Ok(refusal),
                (None, Some(e)) => Ok(e.to_http_response().unwrap_or_else(|_| internal_error())),
                (None, None) => match fast_path::plan(&req, signed, &self.auth, &self.state, &info.source_ip) {
                    Some(plan) if plan.is_read() => match plan.read(&self.state, &req).await {
                        Some(resp) => Ok(resp),
                        None => Err(req),
                    },
                    Some(plan) => Ok(plan.write(&self.state, req).await),
                    None => Err(req),
                },
            };
            let mut resp = match answered {
                Ok(resp) => resp,
                Err(mut req) => {
                    unserved_range::drop_unserved(&mut req, &self.auth);
                    sig_v2::slash_bucket_root(&mut req);
                    sig_v2::amz_query_as_headers(&mut req);
                    signed_headers::join_repeated_metadata(&mut req);
                    let integrity = match delete_integrity::is_delete_objects(&req) {
                        true => delete_integrity::refusal(&mut req).await,
                        false => None,
                    };
                    if let Some(refusal) = sig_v2::date_refusal(&req).or(integrity) {
                        refusal.to_http_response().unwrap_or_else(|_| internal_error())
                    } else {
                        let req = sse_c_blocking::take_from_request(req, &self.auth).await;
                        match post_form::prepare(req).await {
                            post_form::Prepared::Refused(resp) => resp,
                            post_form::Prepared::Forward(req, form) => {
                                let (req, watch) = sha256_mismatch::watch(req);
                                let mut resp = self.call(req).await;
                                if let Some(watch) = watch {
                                    watch.explain(&mut resp);
                                }
                                if let Some(form) = form {
                                    form.explain(&mut resp);
                                }
                                resp
                            }
                        }
                    }
                }
            };
            interleave_version_listing(&mut resp);
            attributes_etag::apply(&mut resp);
            sse_c_blocking::add_to_answer(&mut resp);
            storage_class::add_error_elements(&mut resp);
            error_messages::fill_in_message(&mut resp);
            if resp.status().is_client_error() || resp.status().is_server_error() {
                let addressed = error_ids::Addressed::new(&uri, host_header.as_ref());
                error_ids::complete(&mut resp, &info, &addressed, &method);
                // "regardless of the permissions on the bucket, you will receive a response
                // header with the correct bucket location" (HeadBucket).
                if let (true, Some(bucket), None) = (method == http::Method::HEAD, &addressed.bucket, &addressed.key) {
                    if let Some(region) = self.state.bucket_region(bucket).and_then(|r| http::HeaderValue::from_str(&r).ok()) {
                        resp.headers_mut().insert("x-amz-bucket-region", region);
                    }
                }
            }
            provider::finish_response(&mut resp);
            if let (Some(origin), Some(rules)) = (origin.as_deref(), bucket.as_deref().and_then(|b| self.state.cors_rules(b))) {
                cors::decorate(&mut resp, origin, &method, &preflight_headers, &rules);
            }
            resp
        };
        // Whatever body the answer left unread (all of it, for a preflight or a
        // website page) is read and dropped, or the connection closed.
        if let Some(slot) = &unread {
            unread_body::settle(slot, expects_continue, &mut resp).await;
        }
        let h = resp.headers_mut();
        if let Ok(v) = http::HeaderValue::from_str(&info.request_id) {
            h.insert("x-amz-request-id", v);
        }
        if let Ok(v) = http::HeaderValue::from_str(&info.host_id) {
            h.insert("x-amz-id-2", v);
        }
        resp
    }

    async fn call(&self, req: http::Request<Body>) -> http::Response<Body> {
        match self.service.call(req).await {
            Ok(resp) => resp,
            Err(e) => {
                tracing::error!(error = ?e, "S3 request failed");
                internal_error()
            }
        }
    }

    /// Waits until every acknowledged write is committed; removes in-memory mode's
    /// temporary directory.
    pub async fn shutdown(&self) {
        let _ = self.state.store.flush().await;
        if self.state.temporary {
            let _ = std::fs::remove_dir_all(&self.state.root);
        }
    }

    pub fn root(&self) -> PathBuf {
        self.state.root.clone()
    }
}

/// Does the request carry a body (a non-zero Content-Length, or chunked)?
fn request_has_body<B>(req: &http::Request<B>) -> bool {
    let headers = req.headers();
    headers.contains_key(http::header::TRANSFER_ENCODING)
        || headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0")
}

/// Puts a ListObjectVersions body's versions and delete markers in listing order.
fn interleave_version_listing(resp: &mut http::Response<Body>) {
    let Some(versions::ListingOrder(order)) = resp.extensions_mut().remove::<versions::ListingOrder>() else { return };
    let Some(bytes) = resp.body().bytes() else { return };
    let Some(xml) = std::str::from_utf8(&bytes).ok().and_then(|x| versions::interleave_versions(x, &order)) else { return };
    set_body(resp, xml);
}

/// S3's InternalError answer, for when no error document could be encoded.
pub(crate) fn internal_error() -> http::Response<Body> {
    let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>";
    let mut r = http::Response::new(Body::from(body.to_string()));
    *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
    r.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/xml"));
    r
}

/// Replaces a finished response's body (rewritten XML), and its Content-Length.
pub(crate) fn set_body(resp: &mut http::Response<Body>, text: String) {
    if let Ok(len) = http::HeaderValue::from_str(&text.len().to_string()) {
        resp.headers_mut().insert(http::header::CONTENT_LENGTH, len);
    }
    *resp.body_mut() = Body::from(text);
}

pub(crate) struct Auth {
    keys: HashMap<String, String>,
    strict: bool,
}

impl Auth {
    fn new(config: &AuthConfig) -> Self {
        Auth { keys: config.keys.clone(), strict: config.strict }
    }

    /// The secret an access key signs with; None for an unknown key in strict mode.
    /// Lenient mode: any unknown key signs with nimbus's built-in secret "test".
    pub(crate) fn secret(&self, access_key: &str) -> Option<&str> {
        match self.keys.get(access_key) {
            Some(secret) => Some(secret),
            None if self.strict => None,
            None => Some("test"),
        }
    }
}

#[async_trait::async_trait]
impl S3Auth for Auth {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        match self.secret(access_key) {
            Some(secret) => Ok(SecretKey::from(secret)),
            None => Err(s3_error!(
                InvalidAccessKeyId,
                "The AWS Access Key Id you provided does not exist in our records."
            )),
        }
    }
}

/// Decides every request as S3 would for its caller (see `State::authorize`):
/// signed requests stand for their account's root user; unsigned requests are
/// anonymous in strict mode and the default account's in lenient mode.
struct Access {
    strict: bool,
    state: Arc<provider::State>,
}

#[async_trait::async_trait]
impl s3s::access::S3Access for Access {
    async fn check(&self, cx: &mut s3s::access::S3AccessContext<'_>) -> S3Result<()> {
        let source_ip = cx.extensions_mut().get::<notify::ReqInfo>().map(|i| i.source_ip.clone()).unwrap_or_else(|| "127.0.0.1".into());
        let account = match cx.credentials() {
            Some(c) => Some(nimbus_core::RequestContext::account_for_key(&c.access_key)),
            None if self.strict => None,
            None => Some(nimbus_core::DEFAULT_ACCOUNT.to_string()),
        };
        let caller = match &account {
            Some(a) => policy_eval::Caller::Account(a),
            None => policy_eval::Caller::Anonymous,
        };
        let (bucket, key) = match cx.s3_path() {
            s3s::path::S3Path::Object { bucket, key } => (Some(&**bucket), Some(&**key)),
            s3s::path::S3Path::Bucket { bucket } => (Some(&**bucket), None),
            s3s::path::S3Path::Root => (None, None),
        };
        let op = cx.s3_op().name();
        let result = self.state.authorize(&ops_access::AccessRequest {
            op,
            bucket,
            key,
            caller,
            method: cx.method(),
            headers: cx.headers(),
            query: cx.uri().query(),
            source_ip: &source_ip,
        });
        // DeleteObjects authorizes each key again; GetObject refuses response-*
        // overrides from anonymous callers (only those pay for the extension).
        if result.is_ok() && (op == "DeleteObjects" || (op == "GetObject" && account.is_none())) {
            cx.extensions_mut().insert(ops_access::AuthorizedCaller { account, source_ip });
        }
        result
    }
}

struct Host;

impl S3Host for Host {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<VirtualHost<'a>> {
        Ok(match parse_virtual_host(host) {
            Some((bucket, region)) => {
                let vh = VirtualHost::new(host).with_bucket(bucket);
                match region {
                    Some(r) => vh.with_region(r),
                    None => vh,
                }
            }
            None => VirtualHost::new(host),
        })
    }
}
