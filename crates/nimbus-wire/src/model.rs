//! AWS service models (botocore's `service-2.json`), loaded at start-up. The codecs
//! walk these shapes to decode requests and encode responses, so no service writes
//! wire format by hand.

use std::collections::HashMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct ServiceModel {
    pub metadata: Metadata,
    pub operations: HashMap<String, Operation>,
    pub shapes: HashMap<String, Shape>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub api_version: String,
    pub protocol: String,
    #[serde(default)]
    pub target_prefix: Option<String>,
    #[serde(default)]
    pub json_version: Option<String>,
    #[serde(default)]
    pub xml_namespace: Option<String>,
    #[serde(default)]
    pub signing_name: Option<String>,
    pub endpoint_prefix: String,
}

#[derive(Debug, Deserialize)]
pub struct Operation {
    pub name: String,
    #[serde(default)]
    pub http: Option<HttpTrait>,
    #[serde(default)]
    pub input: Option<ShapeRef>,
    #[serde(default)]
    pub output: Option<ShapeRef>,
}

/// Where a REST operation lives: `POST /2015-03-31/functions/{FunctionName}/invocations`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpTrait {
    pub method: String,
    pub request_uri: String,
    #[serde(default)]
    pub response_code: Option<u16>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShapeRef {
    pub shape: String,
    /// REST binding: `uri`, `querystring`, `header`, `headers`, `statusCode`.
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub location_name: Option<String>,
    #[serde(default)]
    pub flattened: Option<bool>,
    #[serde(default)]
    pub result_wrapper: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ErrorTrait {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(rename = "httpStatusCode", default)]
    pub http_status_code: Option<u16>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shape {
    #[serde(rename = "type")]
    pub kind: ShapeKind,
    /// Structure members, in the model's order (XML output keeps it).
    #[serde(default, deserialize_with = "ordered_members")]
    pub members: Vec<(String, ShapeRef)>,
    #[serde(default)]
    pub required: Vec<String>,
    /// List member.
    #[serde(default)]
    pub member: Option<ShapeRef>,
    /// Map key and value.
    #[serde(default)]
    pub key: Option<ShapeRef>,
    #[serde(default)]
    pub value: Option<ShapeRef>,
    #[serde(default)]
    pub flattened: bool,
    #[serde(default)]
    pub location_name: Option<String>,
    #[serde(default)]
    pub error: Option<ErrorTrait>,
    /// REST: the member that is the whole HTTP body.
    #[serde(default)]
    pub payload: Option<String>,
    #[serde(default)]
    pub exception: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShapeKind {
    Structure,
    List,
    Map,
    String,
    Integer,
    Long,
    Boolean,
    Blob,
    Timestamp,
    Double,
    Float,
}

fn ordered_members<'de, D>(d: D) -> Result<Vec<(String, ShapeRef)>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    // serde_json's `preserve_order` keeps the model's member order in the map.
    let map: serde_json::Map<String, serde_json::Value> = Deserialize::deserialize(d)?;
    map.into_iter()
        .map(|(k, v)| {
            serde_json::from_value::<ShapeRef>(v)
                .map(|r| (k, r))
                .map_err(serde::de::Error::custom)
        })
        .collect()
}

impl ServiceModel {
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    pub fn shape(&self, name: &str) -> Option<&Shape> {
        self.shapes.get(name)
    }

    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }

    /// The legacy (awsQuery) error code and HTTP status of an error shape, if the
    /// model gives them.
    pub fn error_trait<'a>(&'a self, shape_name: &'a str) -> Option<(&'a str, Option<u16>)> {
        let shape = self.shapes.get(shape_name)?;
        let err = shape.error.as_ref()?;
        Some((err.code.as_deref().unwrap_or(shape_name), err.http_status_code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_sqs_models() {
        let json = ServiceModel::from_json(include_str!("../../../specs/sqs/2012-11-05/service-2.json")).unwrap();
        assert_eq!(json.metadata.target_prefix.as_deref(), Some("AmazonSQS"));
        assert_eq!(json.operations.len(), 23);
        let q = ServiceModel::from_json(include_str!("../../../specs/sqs/2012-11-05/service-2.query.json")).unwrap();
        assert_eq!(q.metadata.protocol, "query");
        assert_eq!(
            q.error_trait("QueueDoesNotExist"),
            Some(("AWS.SimpleQueueService.NonExistentQueue", Some(400)))
        );
        let send = q.shape("SendMessageRequest").unwrap();
        assert_eq!(send.members[0].0, "QueueUrl");
    }
}
