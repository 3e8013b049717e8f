//! The edge: every request on the shared port passes here. It tells which service a
//! request is for, checks who is calling (SigV4), decodes the service's protocol,
//! calls the service, and encodes the answer. Services register a `ServiceHandler`
//! and never see HTTP.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode};
pub use nimbus_core::AuthConfig;
use nimbus_core::{ids, AwsError, RequestContext, DEFAULT_REGION};
use serde_json::Value;

use crate::protocol::{JsonVersion, Protocol, WireResponse, WireSpec};
use crate::{query, rest_json, sigv4};

#[async_trait]
pub trait ServiceHandler: Send + Sync {
    fn spec(&self) -> &WireSpec;
    /// Runs one operation. `input` uses the model's member names whatever the protocol.
    async fn call(&self, ctx: &RequestContext, operation: &str, input: Value) -> Result<Value, AwsError>;
}

pub struct Edge {
    services: Vec<Arc<dyn ServiceHandler>>,
    auth: AuthConfig,
}

struct Caller {
    access_key: String,
    region: String,
}

impl Edge {
    pub fn new(auth: AuthConfig) -> Self {
        Self { services: Vec::new(), auth }
    }

    pub fn register(&mut self, service: Arc<dyn ServiceHandler>) {
        self.services.push(service);
    }

    pub fn service_names(&self) -> Vec<&'static str> {
        self.services.iter().map(|s| s.spec().signing_name).collect()
    }

    pub async fn handle(&self, req: Request<Bytes>) -> Response<Bytes> {
        let request_id = ids::uuid4();
        let (parts, body) = req.into_parts();
        let path = parts.uri.path().to_string();
        let raw_query = parts.uri.query().unwrap_or("").to_string();
        let host = header(&parts.headers, "host").unwrap_or("localhost").to_string();

        if path == "/_nimbus/health" {
            let body = serde_json::json!({"status": "running", "services": self.service_names()});
            return plain(StatusCode::OK, "application/json", body.to_string());
        }

        let req_parts = sigv4::RequestParts {
            method: parts.method.as_str(),
            path: &path,
            query: &raw_query,
            headers: &parts.headers,
        };
        let auth = sigv4::parse(&req_parts);
        let target = header(&parts.headers, "x-amz-target");
        let signing_name = match &auth {
            Ok(Some(a)) => Some(a.credential.service.as_str()),
            _ => None,
        };
        // Unsigned awsQuery requests name only their Action.
        let action = if target.is_none() && signing_name.is_none() {
            query::parse_params(&body, &raw_query).remove("Action")
        } else {
            None
        };
        let Some(service) = self.route(target, signing_name, &host, action.as_deref()) else {
            return plain(
                StatusCode::BAD_REQUEST,
                "text/plain",
                "nimbus could not tell which AWS service this request is for. Sign it with SigV4 \
                 (any AWS SDK or the aws CLI does) or send an X-Amz-Target header.\n"
                    .to_string(),
            );
        };
        let spec = service.spec();
        let protocol = match target {
            Some(_) => {
                let ct = header(&parts.headers, "content-type").unwrap_or("");
                let version = if ct.contains("1.1") { JsonVersion::V1_1 } else { JsonVersion::V1_0 };
                Protocol::AwsJson { version }
            }
            None if spec.rest_json.is_some() => Protocol::RestJson,
            None if parts.method == Method::POST || parts.method == Method::GET => Protocol::AwsQuery,
            None => spec.default_protocol(),
        };

        let caller = match self.authenticate(auth, &req_parts, &body, &host, spec) {
            Ok(c) => c,
            Err(e) => return respond(spec.encode_error(protocol, &e, &request_id)),
        };
        let ctx = RequestContext {
            account: RequestContext::account_for_key(&caller.access_key),
            region: caller.region,
            access_key: caller.access_key,
            request_id: request_id.clone(),
            host,
            path,
        };

        let decoded = match protocol {
            Protocol::AwsJson { .. } => {
                let op = target
                    .and_then(|t| t.split_once('.'))
                    .map(|(_, op)| op.to_string())
                    .unwrap_or_default();
                spec.decode_json(&op, &body).map(|input| (op, input))
            }
            Protocol::RestJson => match &spec.rest_json {
                Some(model) => rest_json::decode(
                    model,
                    &rest_json::RestRequest {
                        method: parts.method.as_str(),
                        path: &ctx.path,
                        query: &raw_query,
                        headers: &parts.headers,
                        body: &body,
                    },
                ),
                None => Err(AwsError::internal("no restJson model")),
            },
            Protocol::AwsQuery => {
                let url = (ctx.path != "/").then(|| format!("http://{}{}", ctx.host, ctx.path));
                spec.decode_query(&query::parse_params(&body, &raw_query), url.as_deref())
            }
        };
        let (operation, input) = match decoded {
            Ok(d) => d,
            Err(e) => return respond(spec.encode_error(protocol, &e, &request_id)),
        };
        tracing::debug!(service = spec.signing_name, %operation, account = %ctx.account, region = %ctx.region, "request");
        match service.call(&ctx, &operation, input).await {
            Ok(output) => respond(spec.encode_ok(protocol, &operation, &output, &request_id)),
            Err(e) => {
                if e.status >= 500 {
                    tracing::error!(service = spec.signing_name, %operation, error = %e, "request failed");
                } else {
                    tracing::debug!(service = spec.signing_name, %operation, error = %e, "client error");
                }
                respond(spec.encode_error(protocol, &e, &request_id))
            }
        }
    }

    /// Target prefix first (it names the service exactly), then the signing name,
    /// then the host's first label, then the one service whose query API has the Action.
    fn route(
        &self,
        target: Option<&str>,
        signing_name: Option<&str>,
        host: &str,
        action: Option<&str>,
    ) -> Option<&Arc<dyn ServiceHandler>> {
        if let Some(t) = target {
            // A target names its service exactly; one that names none is not ours.
            let prefix = t.split_once('.').map_or(t, |(p, _)| p);
            return self.services.iter().find(|s| s.spec().target_prefix == Some(prefix));
        }
        if let Some(name) = signing_name {
            if let Some(s) = self.services.iter().find(|s| s.spec().signing_name == name) {
                return Some(s);
            }
        }
        let first_label = host.split('.').next().unwrap_or("");
        if let Some(s) = self.services.iter().find(|s| s.spec().host_prefixes.contains(&first_label)) {
            return Some(s);
        }
        let action = action?;
        let mut with_action = self
            .services
            .iter()
            .filter(|s| s.spec().query.as_ref().is_some_and(|m| m.operation(action).is_some()));
        match (with_action.next(), with_action.next()) {
            (Some(s), None) => Some(s),
            _ => None,
        }
    }

    fn authenticate(
        &self,
        auth: Result<Option<sigv4::ParsedAuth>, sigv4::SigError>,
        req: &sigv4::RequestParts,
        body: &Bytes,
        host: &str,
        spec: &WireSpec,
    ) -> Result<Caller, AwsError> {
        let auth = auth.map_err(sig_error)?;
        let Some(auth) = auth else {
            if self.auth.strict {
                return Err(AwsError::new(403, "MissingAuthenticationToken", "Request is missing Authentication Token"));
            }
            return Ok(Caller {
                access_key: "anonymous".into(),
                region: region_from_host(host, spec).unwrap_or(DEFAULT_REGION).to_string(),
            });
        };
        match self.auth.keys.get(&auth.credential.access_key) {
            Some(secret) => {
                // Presigned requests: the verifier tries UNSIGNED-PAYLOAD before this hash.
                let payload_hash = match header(req.headers, "x-amz-content-sha256") {
                    Some(h) => h.to_string(),
                    None => sigv4::sha256_hex(body),
                };
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                sigv4::verify(&auth, req, &payload_hash, secret, now, false).map_err(sig_error)?;
            }
            None if self.auth.strict => {
                return Err(AwsError::new(
                    403,
                    "InvalidClientTokenId",
                    "The security token included in the request is invalid.",
                ));
            }
            None => {}
        }
        Ok(Caller { region: auth.credential.region.clone(), access_key: auth.credential.access_key })
    }
}

fn sig_error(e: sigv4::SigError) -> AwsError {
    AwsError::new(e.status(), e.code(), e.message())
}

/// `sqs.eu-west-1.localhost` → `eu-west-1`.
fn region_from_host<'a>(host: &'a str, spec: &WireSpec) -> Option<&'a str> {
    let host = host.split(':').next().unwrap_or(host);
    let mut labels = host.split('.');
    let first = labels.next()?;
    let second = labels.next()?;
    (spec.host_prefixes.contains(&first) && second.contains('-')).then_some(second)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn respond(w: WireResponse) -> Response<Bytes> {
    let mut r = Response::new(Bytes::from(w.body));
    *r.status_mut() = StatusCode::from_u16(w.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = r.headers_mut();
    headers.insert("content-type", http::HeaderValue::from_static(w.content_type));
    for (k, v) in w.headers {
        // A value a header cannot carry (e.g. a non-ASCII message) is dropped, not fatal.
        if let (Ok(name), Ok(value)) = (http::HeaderName::try_from(k), http::HeaderValue::try_from(v)) {
            headers.append(name, value);
        }
    }
    r
}

fn plain(status: StatusCode, content_type: &'static str, body: String) -> Response<Bytes> {
    let mut r = Response::new(Bytes::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert("content-type", http::HeaderValue::from_static(content_type));
    r
}
