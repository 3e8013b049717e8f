//! The website endpoint (`<bucket>.s3-website[-.]<region>.localhost`): GET and HEAD
//! without credentials, index documents, folder redirects, routing rules, custom
//! error documents, and S3's HTML error pages.

use std::sync::Arc;

use http::{HeaderValue, Method, Response, StatusCode};
use s3s::dto::{Timestamp, TimestampFormat};
use s3s::Body;

use crate::notify::ReqInfo;
use crate::provider::{now_ms, ts, ObjMeta, State};
use crate::policy_eval::{Caller, Context};
use crate::public_access::{anonymous_allowed, AnonymousAction};
use crate::storage_class;
use crate::website_config::{redirect_location, WebsiteConfig};

/// One error as the website endpoint reports it.
struct WebError {
    status: u16,
    code: &'static str,
    message: &'static str,
    /// Extra lines, e.g. ("Key", "a.html") or ("BucketName", "site").
    details: Vec<(&'static str, String)>,
}

impl WebError {
    fn no_such_key(key: &str) -> Self {
        WebError { status: 404, code: "NoSuchKey", message: "The specified key does not exist.", details: vec![("Key", key.to_string())] }
    }

    fn access_denied() -> Self {
        WebError { status: 403, code: "AccessDenied", message: "Access Denied", details: Vec::new() }
    }

    /// GetObject's refusal of an SSE-C object requested without its key (a website
    /// request cannot carry one).
    fn customer_key_needed() -> Self {
        WebError {
            status: 400,
            code: "InvalidRequest",
            message: "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.",
            details: Vec::new(),
        }
    }

    /// GetObject's error for an archived version that is not restored, with the class
    /// its error document names.
    fn invalid_object_state(class: String) -> Self {
        WebError {
            status: 403,
            code: "InvalidObjectState",
            message: storage_class::GET_ARCHIVED_MESSAGE,
            details: vec![("StorageClass", class)],
        }
    }
}

/// Why an object could not be served.
enum Unavailable {
    Missing,
    Denied,
    /// GLACIER / DEEP_ARCHIVE and not restored: its class.
    Archived(String),
    /// Encrypted with a customer-provided key (SSE-C).
    CustomerKeyed,
}

/// Answers one request to the website endpoint of `bucket`.
pub async fn serve(state: &State, req: &http::request::Parts, host: &str, bucket: &str, info: &ReqInfo) -> Response<Body> {
    let (method, uri) = (&req.method, &req.uri);
    let head = method == Method::HEAD;
    if method != Method::GET && !head {
        let e = WebError {
            status: 405,
            code: "MethodNotAllowed",
            message: "The specified method is not allowed against this resource.",
            details: vec![("Method", method.to_string()), ("ResourceType", "OBJECT".to_string())],
        };
        return error_page(&e, None, info, head);
    }
    let Some(cfg) = state.buckets.read().get(bucket).map(|b| b.config.clone()) else {
        let e = WebError {
            status: 404,
            code: "NoSuchBucket",
            message: "The specified bucket does not exist",
            details: vec![("BucketName", bucket.to_string())],
        };
        return error_page(&e, None, info, head);
    };
    let Some(site) = cfg.website.clone() else {
        let e = WebError {
            status: 404,
            code: "NoSuchWebsiteConfiguration",
            message: "The specified bucket does not have a website configuration",
            details: vec![("BucketName", bucket.to_string())],
        };
        return error_page(&e, None, info, head);
    };
    // "Requester Pays buckets do not allow access through a website endpoint. Any
    // request to such a bucket receives a 403 Access Denied response."
    if cfg.requester_pays {
        return error_page(&WebError::access_denied(), None, info, head);
    }
    if let Some(all) = &site.redirect_all {
        let protocol = all.protocol.as_deref().unwrap_or("http");
        let path_and_query = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        return redirect(301, &format!("{protocol}://{}{path_and_query}", all.host_name));
    }
    // The condition keys of the bucket policy (aws:SourceIp, aws:Referer, ...).
    let ctx = crate::ops_access::base_context(&req.headers, &info.source_ip, Caller::Anonymous);
    let raw = uri.path().strip_prefix('/').unwrap_or(uri.path());
    let key = percent_encoding::percent_decode_str(raw).decode_utf8_lossy().into_owned();
    if let Some(rule) = site.matching_rule(&key, None) {
        let (status, location) = redirect_location(rule, &key, host);
        return redirect(status, &location);
    }
    let suffix = site.index_suffix.clone().unwrap_or_default();
    let target = if key.is_empty() || key.ends_with('/') { format!("{key}{suffix}") } else { key.clone() };
    let error = match readable(state, bucket, &cfg, &target, &ctx, head) {
        // An object's own redirect (x-amz-website-redirect-location) applies after the rules.
        Ok(meta) => match &meta.headers.website_redirect_location {
            Some(location) => return redirect(301, location),
            None if not_modified(&req.headers, &meta) => return unchanged(&meta),
            None => return object_response(state, &meta, StatusCode::OK, head).await,
        },
        Err(Unavailable::Denied) => WebError::access_denied(),
        Err(Unavailable::Archived(class)) => WebError::invalid_object_state(class),
        Err(Unavailable::CustomerKeyed) => WebError::customer_key_needed(),
        Err(Unavailable::Missing) => {
            // `x` with no object of that name is the folder `x/` when `x/<index>` exists.
            if !key.is_empty() && !key.ends_with('/') && state.object(bucket, &format!("{key}/{suffix}")).is_ok() {
                return redirect(302, &format!("/{raw}/"));
            }
            // Without s3:ListBucket a caller cannot learn that a key is missing.
            if anonymous_allowed(bucket, &cfg, AnonymousAction::ListBucket, &ctx) {
                WebError::no_such_key(&target)
            } else {
                WebError::access_denied()
            }
        }
    };
    if let Some(rule) = site.matching_rule(&key, Some(error.status)) {
        let (status, location) = redirect_location(rule, &key, host);
        return redirect(status, &location);
    }
    error_response(state, bucket, &cfg, &site, error, info, head, &ctx).await
}

/// The current object at `key`, if an anonymous caller may read it. As on the REST
/// endpoint, access is decided first, then the storage class: a GET of a GLACIER or
/// DEEP_ARCHIVE version that is not restored fails as GetObject does, while a HEAD,
/// like HeadObject, reads only metadata and still answers.
fn readable(
    state: &State,
    bucket: &str,
    cfg: &crate::config::BucketConfig,
    key: &str,
    ctx: &Context,
    head: bool,
) -> Result<Arc<ObjMeta>, Unavailable> {
    let meta = state.object(bucket, key).map_err(|_| Unavailable::Missing)?;
    let action = AnonymousAction::GetObject { key, object_acl: meta.headers.acl.as_deref() };
    if !anonymous_allowed(bucket, cfg, action, ctx) {
        return Err(Unavailable::Denied);
    }
    // An anonymous caller cannot use a KMS key, so the website endpoint refuses
    // SSE-KMS objects (403); an SSE-C object needs a key no website request carries.
    if meta.headers.sse.as_deref().is_some_and(|a| a.starts_with("aws:kms")) {
        return Err(Unavailable::Denied);
    }
    if meta.headers.sse_customer.is_some() {
        return Err(Unavailable::CustomerKeyed);
    }
    if !head && !storage_class::readable(&meta.headers, now_ms()) {
        return Err(Unavailable::Archived(storage_class::of(&meta.headers).to_string()));
    }
    Ok(meta)
}

/// The custom error document with the error's status, or S3's own HTML page.
#[allow(clippy::too_many_arguments)]
async fn error_response(
    state: &State,
    bucket: &str,
    cfg: &crate::config::BucketConfig,
    site: &WebsiteConfig,
    error: WebError,
    info: &ReqInfo,
    head: bool,
    ctx: &Context,
) -> Response<Body> {
    let Some(error_key) = &site.error_key else { return error_page(&error, None, info, head) };
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::NOT_FOUND);
    match readable(state, bucket, cfg, error_key, ctx, head) {
        Ok(meta) => object_response(state, &meta, status, head).await,
        Err(Unavailable::Missing) if anonymous_allowed(bucket, cfg, AnonymousAction::ListBucket, ctx) => {
            error_page(&error, Some(&WebError::no_such_key(error_key)), info, head)
        }
        Err(Unavailable::Archived(class)) => error_page(&error, Some(&WebError::invalid_object_state(class)), info, head),
        Err(Unavailable::CustomerKeyed) => error_page(&error, Some(&WebError::customer_key_needed()), info, head),
        Err(_) => error_page(&error, Some(&WebError::access_denied()), info, head),
    }
}

async fn object_response(state: &State, meta: &ObjMeta, status: StatusCode, head: bool) -> Response<Body> {
    let body = if head {
        Body::empty()
    } else {
        match state.body_range(meta, 0, meta.size) {
            Ok(body) => Body::from(body),
            Err(e) => {
                tracing::error!(error = %e, "website: object file unreadable");
                let mut r = Response::new(Body::from("internal error\n".to_string()));
                *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                return r;
            }
        }
    };
    let mut r = Response::new(body);
    *r.status_mut() = status;
    let h = &meta.headers;
    let mut last_modified = Vec::new();
    let _ = ts(meta.modified).format(TimestampFormat::HttpDate, &mut last_modified);
    let pairs = [
        ("content-type", Some(h.content_type.clone().unwrap_or_else(|| "binary/octet-stream".into()))),
        ("content-length", Some(meta.size.to_string())),
        ("etag", Some(format!("\"{}\"", meta.etag))),
        ("last-modified", String::from_utf8(last_modified).ok()),
        ("cache-control", h.cache_control.clone()),
        ("content-encoding", h.content_encoding.clone()),
        ("content-disposition", h.content_disposition.clone()),
        ("content-language", h.content_language.clone()),
    ];
    for (name, value) in pairs {
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            r.headers_mut().insert(name, v);
        }
    }
    for (k, v) in &h.metadata {
        if let (Ok(name), Ok(value)) = (http::HeaderName::from_bytes(format!("x-amz-meta-{k}").as_bytes()), HeaderValue::from_str(v)) {
            r.headers_mut().insert(name, value);
        }
    }
    r
}

/// A browser's revalidation (If-None-Match, else If-Modified-Since) of an unchanged object.
fn not_modified(headers: &http::HeaderMap, meta: &ObjMeta) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(tags) = header("if-none-match") {
        return tags.split(',').map(|t| t.trim().trim_start_matches("W/").trim_matches('"')).any(|t| t == "*" || t == meta.etag);
    }
    match header("if-modified-since").and_then(|d| Timestamp::parse(TimestampFormat::HttpDate, d).ok()) {
        Some(since) => (meta.modified / 1000) as i64 <= time::OffsetDateTime::from(since).unix_timestamp(),
        None => false,
    }
}

fn unchanged(meta: &ObjMeta) -> Response<Body> {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::NOT_MODIFIED;
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", meta.etag)) {
        r.headers_mut().insert(http::header::ETAG, v);
    }
    r
}

fn redirect(status: u16, location: &str) -> Response<Body> {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::MOVED_PERMANENTLY);
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(http::header::LOCATION, v);
    }
    r.headers_mut().insert(http::header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    r
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// S3's HTML error page; `document_error` is why the custom error document could
/// not be served.
fn error_page(e: &WebError, document_error: Option<&WebError>, info: &ReqInfo, head: bool) -> Response<Body> {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::NOT_FOUND);
    let title = format!("{} {}", e.status, status.canonical_reason().unwrap_or(""));
    let mut html = format!("<html>\n<head><title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n<ul>\n");
    html += &format!("<li>Code: {}</li>\n<li>Message: {}</li>\n", e.code, e.message);
    for (name, value) in &e.details {
        html += &format!("<li>{name}: {}</li>\n", escape(value));
    }
    html += &format!("<li>RequestId: {}</li>\n<li>HostId: {}</li>\n</ul>\n", info.request_id, info.host_id);
    if let Some(d) = document_error {
        html += "<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>\n<ul>\n";
        html += &format!("<li>Code: {}</li>\n<li>Message: {}</li>\n", d.code, d.message);
        for (name, value) in &d.details {
            html += &format!("<li>{name}: {}</li>\n", escape(value));
        }
        html += "</ul>\n";
    }
    html += "<hr/>\n</body>\n</html>\n";
    let len = html.len();
    let mut r = Response::new(if head { Body::empty() } else { Body::from(html) });
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&len.to_string()) {
        h.insert(http::header::CONTENT_LENGTH, v);
    }
    h.insert("x-amz-error-code", HeaderValue::from_static(e.code));
    h.insert("x-amz-error-message", HeaderValue::from_static(e.message));
    r
}
