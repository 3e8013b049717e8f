//! The protocols a service's clients speak, and the one place that turns a request
//! body into an operation and input value, and an output value or error into a
//! response body, for each of them.

use nimbus_core::AwsError;
use serde_json::Value;

use crate::model::ServiceModel;
use crate::{json, query, rest_json};

/// A service's wire description: its models and the names clients use for it.
pub struct WireSpec {
    /// The SigV4 service name clients sign with (credential scope).
    pub signing_name: &'static str,
    /// Prefix of `X-Amz-Target` for the awsJson protocol (e.g. `AmazonSQS`).
    pub target_prefix: Option<&'static str>,
    /// Namespace of `__type` in awsJson errors (e.g. `com.amazonaws.sqs`).
    pub json_error_namespace: &'static str,
    /// The awsJson model, if the service speaks awsJson.
    pub json: Option<ServiceModel>,
    /// The awsQuery model (for SQS, the pre-JSON model with the query wire names and
    /// legacy error codes), if the service speaks awsQuery.
    pub query: Option<ServiceModel>,
    /// First DNS labels that address this service (`sqs.us-east-1.localhost`).
    pub host_prefixes: &'static [&'static str],
    /// An input member that awsQuery clients may give as the request URL instead
    /// (SQS's `QueueUrl`: older clients post to the queue's URL).
    pub url_member: Option<&'static str>,
    /// The restJson model, if the service speaks restJson (Lambda).
    pub rest_json: Option<ServiceModel>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    AwsJson { version: JsonVersion },
    AwsQuery,
    RestJson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonVersion {
    V1_0,
    V1_1,
}

impl JsonVersion {
    pub fn content_type(self) -> &'static str {
        match self {
            JsonVersion::V1_0 => "application/x-amz-json-1.0",
            JsonVersion::V1_1 => "application/x-amz-json-1.1",
        }
    }
}

/// A response ready for HTTP.
#[derive(Debug)]
pub struct WireResponse {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl WireSpec {
    /// Decodes an awsJson request whose `X-Amz-Target` named `operation`.
    pub fn decode_json(&self, operation: &str, body: &[u8]) -> Result<Value, AwsError> {
        let model = self.json.as_ref().ok_or_else(|| unknown_operation_json(operation))?;
        let op = model.operation(operation).ok_or_else(|| unknown_operation_json(operation))?;
        let input_shape = op.input.as_ref().map(|r| r.shape.as_str());
        let value = json::decode_input(model, input_shape, body)?;
        check_required(model, input_shape, &value)?;
        Ok(value)
    }

    /// Decodes an awsQuery request; returns the operation (the `Action`) and input.
    /// `request_url` fills `url_member` when the parameters lack it.
    pub fn decode_query(&self, params: &query::Params, request_url: Option<&str>) -> Result<(String, Value), AwsError> {
        let action = params
            .get("Action")
            .ok_or_else(|| AwsError::missing_parameter("Action"))?;
        let model = self.query.as_ref().ok_or_else(|| invalid_action(action))?;
        let op = model.operation(action).ok_or_else(|| invalid_action(action))?;
        let mut value = match &op.input {
            Some(r) => query::decode_input(model, r, params)?,
            None => Value::Object(Default::default()),
        };
        if let (Some(member), Some(url), Value::Object(m)) = (self.url_member, request_url, &mut value) {
            let takes_member = op
                .input
                .as_ref()
                .and_then(|r| model.shape(&r.shape))
                .is_some_and(|s| s.members.iter().any(|(n, _)| n == member));
            if takes_member && !m.contains_key(member) {
                m.insert(member.to_string(), Value::String(url.to_string()));
            }
        }
        // awsQuery cannot tell an empty list from an absent one.
        if let (Some(shape), Value::Object(m)) = (op.input.as_ref().and_then(|r| model.shape(&r.shape)), &mut value) {
            for (name, member) in &shape.members {
                let is_list = model.shape(&member.shape).is_some_and(|s| s.kind == crate::model::ShapeKind::List);
                if is_list && shape.required.contains(name) && !m.contains_key(name) {
                    m.insert(name.clone(), Value::Array(vec![]));
                }
            }
        }
        check_required(model, op.input.as_ref().map(|r| r.shape.as_str()), &value)?;
        Ok((action.clone(), value))
    }

    pub fn encode_ok(&self, protocol: Protocol, operation: &str, output: &Value, request_id: &str) -> WireResponse {
        match protocol {
            Protocol::RestJson => {
                let r = match &self.rest_json {
                    Some(model) => rest_json::encode_output(model, operation, output),
                    None => rest_json::encode_error(&AwsError::internal("no restJson model")),
                };
                rest_response(r, request_id)
            }
            Protocol::AwsJson { version } => WireResponse {
                status: 200,
                content_type: version.content_type(),
                headers: vec![("x-amzn-RequestId".to_string(), request_id.to_string())],
                body: serde_json::to_vec(output).unwrap_or_else(|_| b"{}".to_vec()),
            },
            Protocol::AwsQuery => {
                let body = match &self.query {
                    Some(model) => query::encode_output(model, operation, output, request_id),
                    None => Vec::new(),
                };
                WireResponse {
                    status: 200,
                    content_type: "text/xml",
                    headers: vec![("x-amzn-RequestId".to_string(), request_id.to_string())],
                    body,
                }
            }
        }
    }

    /// The legacy awsQuery code of an error: from the query model's error trait when
    /// it has one, else the code itself.
    pub fn query_code<'a>(&'a self, code: &'a str) -> &'a str {
        self.query
            .as_ref()
            .and_then(|m| m.error_trait(code))
            .map(|(c, _)| c)
            .unwrap_or(code)
    }

    pub fn encode_error(&self, protocol: Protocol, err: &AwsError, request_id: &str) -> WireResponse {
        let fault = if err.sender_fault { "Sender" } else { "Receiver" };
        match protocol {
            Protocol::RestJson => rest_response(rest_json::encode_error(err), request_id),
            Protocol::AwsJson { version } => {
                let body = serde_json::json!({
                    "__type": format!("{}#{}", self.json_error_namespace, err.code),
                    "message": err.message,
                });
                let mut headers = vec![("x-amzn-RequestId".to_string(), request_id.to_string())];
                if self.query.is_some() {
                    headers.push(("x-amzn-query-error".to_string(), format!("{};{}", self.query_code(&err.code), fault)));
                }
                WireResponse {
                    status: err.status,
                    content_type: version.content_type(),
                    headers,
                    body: serde_json::to_vec(&body).unwrap_or_default(),
                }
            }
            Protocol::AwsQuery => {
                let ns = self
                    .query
                    .as_ref()
                    .and_then(|m| m.metadata.xml_namespace.as_deref())
                    .unwrap_or("");
                WireResponse {
                    status: err.status,
                    content_type: "text/xml",
                    headers: vec![("x-amzn-RequestId".to_string(), request_id.to_string())],
                    body: query::encode_error(ns, self.query_code(&err.code), &err.message, err.sender_fault, request_id),
                }
            }
        }
    }

    /// The protocol a client that sent no recognisable protocol markers most likely
    /// speaks, for reporting errors found before decoding (e.g. a bad signature).
    pub fn default_protocol(&self) -> Protocol {
        if self.rest_json.is_some() {
            Protocol::RestJson
        } else if self.json.is_some() {
            Protocol::AwsJson { version: self.json_version() }
        } else {
            Protocol::AwsQuery
        }
    }

    pub fn json_version(&self) -> JsonVersion {
        match self.json.as_ref().and_then(|m| m.metadata.json_version.as_deref()) {
            Some("1.1") => JsonVersion::V1_1,
            _ => JsonVersion::V1_0,
        }
    }
}

fn rest_response(r: rest_json::RestResponse, request_id: &str) -> WireResponse {
    let mut headers = r.headers;
    headers.push(("x-amzn-RequestId".to_string(), request_id.to_string()));
    WireResponse { status: r.status, content_type: r.content_type, headers, body: r.body }
}

fn check_required(model: &ServiceModel, shape: Option<&str>, value: &Value) -> Result<(), AwsError> {
    let Some(shape) = shape.and_then(|s| model.shape(s)) else { return Ok(()) };
    for name in &shape.required {
        if value.get(name).is_none() {
            return Err(AwsError::missing_parameter(name));
        }
    }
    Ok(())
}

fn unknown_operation_json(operation: &str) -> AwsError {
    AwsError::bad_request("UnknownOperationException", format!("Unknown operation {operation}"))
}

fn invalid_action(action: &str) -> AwsError {
    AwsError::bad_request("InvalidAction", format!("The action {action} is not valid for this web service."))
}
