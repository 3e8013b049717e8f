//! CORS: preflight OPTIONS requests answered from a bucket's rules, and the
//! Access-Control-* headers on actual responses whose Origin a rule allows.

use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};
use s3s::Body;

use crate::config::{find_cors_rule, CorsRule};
use crate::notify::ReqInfo;
use crate::routing::{addressed, host_of};

/// The bucket a request addresses (virtual host first, else the first path segment).
pub fn bucket_of<B>(req: &http::Request<B>) -> Option<String> {
    let (bucket, _) = addressed(req.uri().path(), host_of(req));
    Some(percent_encoding::percent_decode_str(bucket?).decode_utf8().ok()?.into_owned())
}

fn set(h: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(name, v);
    }
}

fn allow_headers(h: &mut HeaderMap, rule: &CorsRule, origin: &str) {
    let allow = rule.allow_origin(origin);
    set(h, "access-control-allow-origin", &allow);
    set(h, "access-control-allow-methods", &rule.allowed_methods.join(", "));
    if !rule.expose_headers.is_empty() {
        set(h, "access-control-expose-headers", &rule.expose_headers.join(", "));
    }
    if let Some(age) = rule.max_age_seconds {
        set(h, "access-control-max-age", &age.to_string());
    }
    if allow != "*" {
        set(h, "access-control-allow-credentials", "true");
    }
}

/// An S3 XML error document (also for refusals made before s3s sees the request).
pub(crate) fn error(status: StatusCode, code: &str, message: &str, extra: &str, info: &ReqInfo) -> Response<Body> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message>{extra}<RequestId>{}</RequestId><HostId>{}</HostId></Error>",
        info.request_id, info.host_id
    );
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert("content-type", HeaderValue::from_static("application/xml"));
    r
}

/// Escapes text for an XML element or attribute.
pub(crate) fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Answers a preflight request. `rules` is None when the bucket has no CORS
/// configuration (or does not exist: `exists`).
///
/// The order of S3's refusals (as recorded against AWS by LocalStack's CORS tests): no
/// Origin (400); no such bucket, then no CORS configuration (403, naming the bucket as
/// the resource whatever the path, and the requested method, or OPTIONS without one);
/// only then an invalid Access-Control-Request-Method (400).
pub fn preflight<B>(req: &http::Request<B>, exists: bool, rules: Option<Vec<CorsRule>>, info: &ReqInfo) -> Response<Body> {
    let header = |n: &str| req.headers().get(n).and_then(|v| v.to_str().ok());
    let Some(origin) = header("origin") else {
        return error(StatusCode::BAD_REQUEST, "BadRequest", "Insufficient information. Origin request header needed.", "", info);
    };
    let method = header("access-control-request-method").unwrap_or("");
    let forbidden = |msg: &str, resource: &str| {
        let shown = if method.is_empty() { "OPTIONS" } else { method };
        let extra = format!("<Method>{}</Method><ResourceType>{resource}</ResourceType>", xml_escape(shown));
        error(StatusCode::FORBIDDEN, "AccessForbidden", msg, &extra, info)
    };
    if !exists {
        return forbidden("CORSResponse: Bucket not found", "BUCKET");
    }
    let Some(rules) = rules else {
        return forbidden("CORSResponse: CORS is not enabled for this bucket.", "BUCKET");
    };
    if !["GET", "PUT", "HEAD", "POST", "DELETE"].contains(&method) {
        let shown = if method.is_empty() { "null" } else { method };
        return error(StatusCode::BAD_REQUEST, "BadRequest", &format!("Invalid Access-Control-Request-Method: {}", xml_escape(shown)), "", info);
    }
    let resource = if req.uri().path().trim_start_matches('/').contains('/') { "OBJECT" } else { "BUCKET" };
    let requested = requested_headers(req.headers());
    let Some(rule) = find_cors_rule(&rules, origin, method, &requested) else {
        return forbidden("CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.", resource);
    };
    let mut r = Response::new(Body::empty());
    let h = r.headers_mut();
    allow_headers(h, rule, origin);
    if !requested.is_empty() {
        set(h, "access-control-allow-headers", &requested.join(", "));
    }
    set(h, "vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method");
    set(h, "content-length", "0");
    r
}

/// The lower-case names an `Access-Control-Request-Headers` header lists.
fn requested_headers(headers: &HeaderMap) -> Vec<String> {
    headers
        .get("access-control-request-headers")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(',')
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect()
}

/// Adds the Access-Control-* headers to an actual response when a rule allows its
/// origin and method. An actual request that carries a preflight's
/// `Access-Control-Request-Method` / `-Headers` is matched on those, as S3 does
/// ("the request method ... or the Access-Control-Request-Method header").
pub fn decorate(resp: &mut Response<Body>, origin: &str, method: &Method, request: &HeaderMap, rules: &[CorsRule]) {
    let method = request.get("access-control-request-method").and_then(|v| v.to_str().ok()).unwrap_or(method.as_str());
    let Some(rule) = find_cors_rule(rules, origin, method, &requested_headers(request)) else { return };
    let h = resp.headers_mut();
    allow_headers(h, rule, origin);
    set(h, "vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method");
}
