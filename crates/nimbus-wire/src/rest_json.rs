//! restJson: operations addressed by method and URI template
//! (`POST /2015-03-31/functions/{FunctionName}/invocations`), with members bound to
//! URI labels, query strings, headers, the status code, or the body, as the service
//! model's `location` traits say. Decoding gathers them into one input value with
//! the model's member names, the form every protocol gives providers.

use base64::Engine;
use nimbus_core::AwsError;
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

use crate::json;
use crate::model::{ServiceModel, ShapeKind};

/// One segment of a URI template.
#[derive(Debug, PartialEq)]
enum Segment<'a> {
    Literal(&'a str),
    Label(&'a str),
    /// `{Key+}`: the rest of the path.
    Greedy(&'a str),
}

fn template(request_uri: &str) -> (Vec<Segment<'_>>, Vec<(&str, Option<&str>)>) {
    let (path, query) = request_uri.split_once('?').unwrap_or((request_uri, ""));
    let segments = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(label) => match label.strip_suffix('+') {
                Some(g) => Segment::Greedy(g),
                None => Segment::Label(label),
            },
            None => Segment::Literal(s),
        })
        .collect();
    let fixed_query = query
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (kv, None),
        })
        .collect();
    (segments, fixed_query)
}

/// The operation a request addresses and its URI labels (decoded). Among several
/// matches the one with most literal segments and fixed query parameters wins.
pub fn match_operation<'m>(
    model: &'m ServiceModel,
    method: &str,
    path: &str,
    query: &[(String, String)],
) -> Option<(&'m str, Vec<(String, String)>)> {
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut best: Option<(usize, &str, Vec<(String, String)>)> = None;
    for (name, op) in &model.operations {
        let Some(http) = &op.http else { continue };
        if !http.method.eq_ignore_ascii_case(method) {
            continue;
        }
        let (segments, fixed_query) = template(&http.request_uri);
        let Some(labels) = bind(&segments, &parts) else { continue };
        let query_ok = fixed_query.iter().all(|(k, v)| {
            query.iter().any(|(qk, qv)| qk == k && v.is_none_or(|v| qv == v))
        });
        if !query_ok {
            continue;
        }
        let score = segments.iter().filter(|s| matches!(s, Segment::Literal(_))).count() * 2 + fixed_query.len();
        if best.as_ref().is_none_or(|(b, _, _)| score > *b) {
            best = Some((score, name.as_str(), labels));
        }
    }
    best.map(|(_, name, labels)| (name, labels))
}

fn bind(segments: &[Segment], parts: &[&str]) -> Option<Vec<(String, String)>> {
    let mut labels = Vec::new();
    let mut i = 0;
    for seg in segments {
        match seg {
            Segment::Literal(l) => {
                if parts.get(i) != Some(l) {
                    return None;
                }
                i += 1;
            }
            Segment::Label(l) => {
                let v = parts.get(i)?;
                labels.push((l.to_string(), percent_decode_str(v).decode_utf8().ok()?.into_owned()));
                i += 1;
            }
            Segment::Greedy(l) => {
                if i >= parts.len() {
                    return None;
                }
                let rest = parts[i..].join("/");
                labels.push((l.to_string(), percent_decode_str(&rest).decode_utf8().ok()?.into_owned()));
                i = parts.len();
            }
        }
    }
    (i == parts.len()).then_some(labels)
}

fn scalar_from_text(kind: ShapeKind, raw: &str, name: &str) -> Result<Value, AwsError> {
    let bad = || AwsError::bad_request("InvalidParameterValueException", format!("Invalid value {raw} for {name}"));
    Ok(match kind {
        ShapeKind::Integer | ShapeKind::Long => Value::from(raw.trim().parse::<i64>().map_err(|_| bad())?),
        ShapeKind::Double | ShapeKind::Float => Value::from(raw.trim().parse::<f64>().map_err(|_| bad())?),
        ShapeKind::Boolean => match raw.trim() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(bad()),
        },
        _ => Value::String(raw.to_string()),
    })
}

/// The request, as the codec needs it.
pub struct RestRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a http::HeaderMap,
    pub body: &'a [u8],
}

/// Decodes a request into (operation, input).
pub fn decode(model: &ServiceModel, req: &RestRequest) -> Result<(String, Value), AwsError> {
    let query: Vec<(String, String)> = form_urlencoded::parse(req.query.as_bytes()).into_owned().collect();
    let (operation, labels) = match_operation(model, req.method, req.path, &query).ok_or_else(|| {
        AwsError::new(404, "UnknownOperationException", format!("No operation matches {} {}", req.method, req.path))
    })?;
    let op = model.operation(operation).ok_or_else(|| AwsError::internal("operation vanished"))?;
    let Some(input_ref) = &op.input else { return Ok((operation.to_string(), Value::Object(Map::new()))) };
    let shape = model.shape(&input_ref.shape).ok_or_else(|| AwsError::internal("input shape missing"))?;
    let mut input = Map::new();

    let mut body_members = false;
    for (name, member) in &shape.members {
        let Some(ms) = model.shape(&member.shape) else { continue };
        let wire = member.location_name.as_deref().unwrap_or(name);
        match member.location.as_deref() {
            Some("uri") => {
                if let Some((_, v)) = labels.iter().find(|(l, _)| l == wire) {
                    input.insert(name.clone(), scalar_from_text(ms.kind, v, name)?);
                }
            }
            Some("querystring") => match ms.kind {
                ShapeKind::List => {
                    let item_kind = ms.member.as_ref().and_then(|m| model.shape(&m.shape)).map_or(ShapeKind::String, |s| s.kind);
                    let values: Result<Vec<Value>, AwsError> = query
                        .iter()
                        .filter(|(k, _)| k == wire)
                        .map(|(_, v)| scalar_from_text(item_kind, v, name))
                        .collect();
                    let values = values?;
                    if !values.is_empty() {
                        input.insert(name.clone(), Value::Array(values));
                    }
                }
                ShapeKind::Map => {
                    let m: Map<String, Value> = query.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
                    input.insert(name.clone(), Value::Object(m));
                }
                _ => {
                    if let Some((_, v)) = query.iter().find(|(k, _)| k == wire) {
                        input.insert(name.clone(), scalar_from_text(ms.kind, v, name)?);
                    }
                }
            },
            Some("header") => {
                if let Some(v) = req.headers.get(wire).and_then(|v| v.to_str().ok()) {
                    input.insert(name.clone(), scalar_from_text(ms.kind, v, name)?);
                }
            }
            Some("headers") => {
                let prefix = wire.to_ascii_lowercase();
                let m: Map<String, Value> = req
                    .headers
                    .iter()
                    .filter_map(|(k, v)| {
                        let rest = k.as_str().strip_prefix(&prefix)?;
                        Some((rest.to_string(), Value::String(v.to_str().ok()?.to_string())))
                    })
                    .collect();
                if !m.is_empty() {
                    input.insert(name.clone(), Value::Object(m));
                }
            }
            Some(_) => {}
            None if shape.payload.as_deref() == Some(name) => {
                match ms.kind {
                    ShapeKind::Blob => {
                        if !req.body.is_empty() {
                            input.insert(name.clone(), Value::String(base64::engine::general_purpose::STANDARD.encode(req.body)));
                        }
                    }
                    ShapeKind::String => {
                        if !req.body.is_empty() {
                            let text = std::str::from_utf8(req.body)
                                .map_err(|_| AwsError::bad_request("InvalidRequestContentException", "The body is not UTF-8."))?;
                            input.insert(name.clone(), Value::String(text.to_string()));
                        }
                    }
                    _ => {
                        let v = json::decode_input(model, Some(&member.shape), req.body)?;
                        input.insert(name.clone(), v);
                    }
                }
            }
            None => body_members = true,
        }
    }
    if body_members && shape.payload.is_none() {
        if let Value::Object(body) = json::decode_input(model, Some(&input_ref.shape), req.body)? {
            for (k, v) in body {
                // Members bound elsewhere cannot be smuggled in through the body.
                let bound = shape.members.iter().any(|(n, m)| *n == k && m.location.is_some());
                if !bound {
                    input.entry(k).or_insert(v);
                }
            }
        }
    }
    for name in &shape.required {
        if !input.contains_key(name) {
            return Err(AwsError::bad_request(
                "InvalidParameterValueException",
                format!("The request must contain the parameter {name}."),
            ));
        }
    }
    Ok((operation.to_string(), Value::Object(input)))
}

/// An encoded response: status, headers, body.
pub struct RestResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

pub fn encode_output(model: &ServiceModel, operation: &str, output: &Value) -> RestResponse {
    let op = model.operation(operation);
    let mut status = op.and_then(|o| o.http.as_ref()).and_then(|h| h.response_code).unwrap_or(200);
    let mut headers = Vec::new();
    let mut content_type = "application/json";
    let shape = op.and_then(|o| o.output.as_ref()).and_then(|r| model.shape(&r.shape));
    let Some(shape) = shape else {
        return RestResponse { status, headers, content_type, body: b"{}".to_vec() };
    };
    let Value::Object(out) = output else {
        return RestResponse { status, headers, content_type, body: b"{}".to_vec() };
    };
    let mut body_map = Map::new();
    let mut payload: Option<Vec<u8>> = None;
    for (name, member) in &shape.members {
        let Some(v) = out.get(name).filter(|v| !v.is_null()) else { continue };
        let wire = member.location_name.as_deref().unwrap_or(name);
        match member.location.as_deref() {
            Some("statusCode") => {
                if let Some(code) = v.as_u64().and_then(|c| u16::try_from(c).ok()) {
                    status = code;
                }
            }
            Some("header") => headers.push((wire.to_string(), text_of(v))),
            Some("headers") => {
                if let Value::Object(m) = v {
                    headers.extend(m.iter().map(|(k, v)| (format!("{wire}{k}"), text_of(v))));
                }
            }
            Some(_) => {}
            None if shape.payload.as_deref() == Some(name) => {
                let kind = model.shape(&member.shape).map(|s| s.kind);
                payload = Some(match (kind, v) {
                    (Some(ShapeKind::Blob), Value::String(b64)) => {
                        content_type = "application/octet-stream";
                        base64::engine::general_purpose::STANDARD.decode(b64).unwrap_or_default()
                    }
                    (Some(ShapeKind::String), Value::String(s)) => {
                        content_type = "text/plain";
                        s.clone().into_bytes()
                    }
                    (_, other) => serde_json::to_vec(other).unwrap_or_default(),
                });
            }
            None => {
                body_map.insert(name.clone(), v.clone());
            }
        }
    }
    let body = match payload {
        Some(p) => p,
        None if shape.payload.is_some() => Vec::new(),
        None => serde_json::to_vec(&Value::Object(body_map)).unwrap_or_default(),
    };
    RestResponse { status, headers, content_type, body }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// restJson errors: the code in `x-amzn-ErrorType`, the message in the body.
pub fn encode_error(err: &AwsError) -> RestResponse {
    let body = serde_json::json!({
        "Type": if err.sender_fault { "User" } else { "Service" },
        "message": err.message,
    });
    RestResponse {
        status: err.status,
        headers: vec![("x-amzn-ErrorType".to_string(), err.code.clone())],
        content_type: "application/json",
        body: serde_json::to_vec(&body).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn model() -> ServiceModel {
        ServiceModel::from_json(include_str!("../../../specs/lambda/2015-03-31/service-2.json")).unwrap()
    }

    fn req<'a>(method: &'a str, path: &'a str, query: &'a str, headers: &'a http::HeaderMap, body: &'a [u8]) -> RestRequest<'a> {
        RestRequest { method, path, query, headers, body }
    }

    #[test]
    fn matches_operations_by_template() {
        let m = model();
        let q = |s: &str| form_urlencoded::parse(s.as_bytes()).into_owned().collect::<Vec<_>>();
        assert_eq!(match_operation(&m, "POST", "/2015-03-31/functions/f/invocations", &[]).unwrap().0, "Invoke");
        assert_eq!(match_operation(&m, "GET", "/2015-03-31/functions/f", &[]).unwrap().0, "GetFunction");
        assert_eq!(match_operation(&m, "GET", "/2015-03-31/functions/f/configuration", &[]).unwrap().0, "GetFunctionConfiguration");
        assert_eq!(match_operation(&m, "GET", "/2015-03-31/functions/", &[]).unwrap().0, "ListFunctions");
        assert_eq!(match_operation(&m, "GET", "/2018-10-31/layers", &q("find=LayerVersion")).unwrap().0, "GetLayerVersionByArn");
        assert_eq!(match_operation(&m, "GET", "/2018-10-31/layers", &[]).unwrap().0, "ListLayers");
        let (_, labels) = match_operation(&m, "GET", "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A0%3Afunction%3Af", &[]).unwrap();
        assert_eq!(labels, vec![("FunctionName".to_string(), "arn:aws:lambda:us-east-1:0:function:f".to_string())]);
        assert!(match_operation(&m, "PATCH", "/nope", &[]).is_none());
    }

    #[test]
    fn decodes_invoke_with_headers_query_and_blob_payload() {
        let m = model();
        let mut h = http::HeaderMap::new();
        h.insert("x-amz-invocation-type", "Event".parse().unwrap());
        h.insert("x-amz-log-type", "Tail".parse().unwrap());
        let (op, input) = decode(&m, &req("POST", "/2015-03-31/functions/my-fn/invocations", "Qualifier=live", &h, b"{\"a\":1}")).unwrap();
        assert_eq!(op, "Invoke");
        assert_eq!(input["FunctionName"], "my-fn");
        assert_eq!(input["InvocationType"], "Event");
        assert_eq!(input["LogType"], "Tail");
        assert_eq!(input["Qualifier"], "live");
        assert_eq!(input["Payload"], base64::engine::general_purpose::STANDARD.encode(b"{\"a\":1}"));
    }

    #[test]
    fn decodes_json_body_members_and_checks_required() {
        let m = model();
        let h = http::HeaderMap::new();
        let body = br#"{"FunctionName":"f","Runtime":"python3.12","Role":"arn:aws:iam::0:role/r","Handler":"h.handler","Code":{"ZipFile":"UEs="},"Timeout":3}"#;
        let (op, input) = decode(&m, &req("POST", "/2015-03-31/functions", "", &h, body)).unwrap();
        assert_eq!(op, "CreateFunction");
        assert_eq!(input["Timeout"], 3);
        assert_eq!(input["Code"]["ZipFile"], "UEs=");
        let err = decode(&m, &req("POST", "/2015-03-31/functions", "", &h, br#"{"Timeout":"x"}"#)).unwrap_err();
        assert_eq!(err.status, 400);
        let (_, list) = decode(&m, &req("GET", "/2015-03-31/functions/", "MaxItems=5&Marker=abc", &h, b"")).unwrap();
        assert_eq!(list, json!({"Marker": "abc", "MaxItems": 5}));
    }

    #[test]
    fn encodes_invoke_output_into_status_headers_and_raw_body() {
        let m = model();
        let out = json!({"StatusCode": 200, "FunctionError": "Unhandled", "ExecutedVersion": "$LATEST",
                         "Payload": base64::engine::general_purpose::STANDARD.encode(b"{\"ok\":true}")});
        let r = encode_output(&m, "Invoke", &out);
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"{\"ok\":true}");
        assert!(r.headers.contains(&("X-Amz-Function-Error".to_string(), "Unhandled".to_string())));
        let r = encode_output(&m, "Invoke", &json!({"StatusCode": 202}));
        assert_eq!(r.status, 202);
        let r = encode_output(&m, "GetFunctionConfiguration", &json!({"FunctionName": "f", "Timeout": 3}));
        assert_eq!(serde_json::from_slice::<Value>(&r.body).unwrap(), json!({"FunctionName": "f", "Timeout": 3}));
        let e = encode_error(&AwsError::new(404, "ResourceNotFoundException", "Function not found"));
        assert_eq!(e.status, 404);
        assert_eq!(e.headers[0].1, "ResourceNotFoundException");
    }
}
