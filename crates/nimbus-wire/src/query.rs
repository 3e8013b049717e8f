//! awsQuery: form-encoded requests (`Action=...&Version=...&Attribute.1.Name=...`)
//! decoded into the same JSON value the awsJson protocols produce, and responses
//! encoded as XML, both by walking the service model's shapes the way botocore's
//! query serializer and XML parser do.

use std::collections::BTreeMap;

use nimbus_core::AwsError;
use serde_json::{Map, Value};

use crate::model::{ServiceModel, Shape, ShapeKind, ShapeRef};
use crate::xml::XmlWriter;

/// The form parameters of a request, sorted so a prefix is a contiguous range.
pub type Params = BTreeMap<String, String>;

pub fn parse_params(body: &[u8], query_string: &str) -> Params {
    let mut params = Params::new();
    for (k, v) in form_urlencoded::parse(query_string.as_bytes()) {
        params.insert(k.into_owned(), v.into_owned());
    }
    for (k, v) in form_urlencoded::parse(body) {
        params.insert(k.into_owned(), v.into_owned());
    }
    params
}

/// The serialized name and flattening of a member: member-level traits override the
/// target shape's, as in botocore.
fn serialized_name<'a>(r: &'a ShapeRef, shape: &'a Shape, default: &'a str) -> &'a str {
    r.location_name.as_deref().or(shape.location_name.as_deref()).unwrap_or(default)
}

fn is_flattened(r: &ShapeRef, shape: &Shape) -> bool {
    r.flattened.unwrap_or(shape.flattened)
}

fn has_prefix(params: &Params, prefix: &str) -> bool {
    let dotted = format!("{prefix}.");
    params.contains_key(prefix)
        || params.range(dotted.clone()..).next().is_some_and(|(k, _)| k.starts_with(&dotted))
}

/// Decodes the input structure of an operation from form parameters.
pub fn decode_input(model: &ServiceModel, input: &ShapeRef, params: &Params) -> Result<Value, AwsError> {
    let shape = model
        .shape(&input.shape)
        .ok_or_else(|| AwsError::internal(format!("model lacks shape {}", input.shape)))?;
    decode_struct(model, shape, params, "")
}

fn decode_struct(model: &ServiceModel, shape: &Shape, params: &Params, prefix: &str) -> Result<Value, AwsError> {
    let mut out = Map::new();
    for (name, member) in &shape.members {
        let Some(member_shape) = model.shape(&member.shape) else { continue };
        let wire = serialized_name(member, member_shape, name);
        let key = if prefix.is_empty() { wire.to_string() } else { format!("{prefix}.{wire}") };
        if let Some(v) = decode_value(model, member, member_shape, params, &key)? {
            out.insert(name.clone(), v);
        }
    }
    Ok(Value::Object(out))
}

fn decode_value(
    model: &ServiceModel,
    r: &ShapeRef,
    shape: &Shape,
    params: &Params,
    key: &str,
) -> Result<Option<Value>, AwsError> {
    match shape.kind {
        ShapeKind::Structure => {
            if !has_prefix(params, key) {
                return Ok(None);
            }
            decode_struct(model, shape, params, key).map(Some)
        }
        ShapeKind::List => {
            let Some(member) = &shape.member else { return Ok(None) };
            let Some(member_shape) = model.shape(&member.shape) else { return Ok(None) };
            if params.get(key).is_some_and(|v| v.is_empty()) && !has_prefix(params, &format!("{key}.")) {
                return Ok(Some(Value::Array(vec![])));
            }
            let list_prefix = if is_flattened(r, shape) {
                match member.location_name.as_deref().or(member_shape.location_name.as_deref()) {
                    // botocore replaces the last component with the member's name.
                    Some(name) => match key.rsplit_once('.') {
                        Some((head, _)) => format!("{head}.{name}"),
                        None => name.to_string(),
                    },
                    None => key.to_string(),
                }
            } else {
                format!("{key}.{}", serialized_name(member, member_shape, "member"))
            };
            let mut items = Vec::new();
            for i in 1.. {
                let item_key = format!("{list_prefix}.{i}");
                if !has_prefix(params, &item_key) {
                    break;
                }
                if let Some(v) = decode_value(model, member, member_shape, params, &item_key)? {
                    items.push(v);
                }
            }
            Ok(if items.is_empty() { None } else { Some(Value::Array(items)) })
        }
        ShapeKind::Map => {
            let (Some(kr), Some(vr)) = (&shape.key, &shape.value) else { return Ok(None) };
            let (Some(ks), Some(vs)) = (model.shape(&kr.shape), model.shape(&vr.shape)) else {
                return Ok(None);
            };
            let full = if is_flattened(r, shape) { key.to_string() } else { format!("{key}.entry") };
            let key_suffix = serialized_name(kr, ks, "key");
            let value_suffix = serialized_name(vr, vs, "value");
            let mut out = Map::new();
            for i in 1.. {
                let entry = format!("{full}.{i}");
                if !has_prefix(params, &entry) {
                    break;
                }
                let k = params.get(&format!("{entry}.{key_suffix}")).cloned().unwrap_or_default();
                if let Some(v) = decode_value(model, vr, vs, params, &format!("{entry}.{value_suffix}"))? {
                    out.insert(k, v);
                }
            }
            Ok(if out.is_empty() { None } else { Some(Value::Object(out)) })
        }
        _ => match params.get(key) {
            None => Ok(None),
            Some(raw) => scalar(shape.kind, raw, key).map(Some),
        },
    }
}

fn scalar(kind: ShapeKind, raw: &str, key: &str) -> Result<Value, AwsError> {
    let bad = || {
        AwsError::invalid_parameter(format!("Value {raw} for parameter {key} is invalid. Reason: it is not a valid {kind:?}."))
    };
    Ok(match kind {
        ShapeKind::Integer | ShapeKind::Long => Value::from(raw.trim().parse::<i64>().map_err(|_| bad())?),
        ShapeKind::Double | ShapeKind::Float => {
            Value::from(raw.trim().parse::<f64>().map_err(|_| bad())?)
        }
        ShapeKind::Boolean => match raw {
            "true" | "True" | "TRUE" => Value::Bool(true),
            "false" | "False" | "FALSE" => Value::Bool(false),
            _ => return Err(bad()),
        },
        _ => Value::String(raw.to_string()),
    })
}

/// Encodes a successful response: `<OpResponse xmlns=..><OpResult>..</OpResult><ResponseMetadata>..`.
pub fn encode_output(
    model: &ServiceModel,
    operation: &str,
    output: &Value,
    request_id: &str,
) -> Vec<u8> {
    let ns = model.metadata.xml_namespace.as_deref().unwrap_or("");
    let mut w = XmlWriter::new();
    w.declaration();
    w.open_ns(&format!("{operation}Response"), ns);
    if let Some(op) = model.operation(operation) {
        if let Some(out_ref) = &op.output {
            let wrapper = out_ref.result_wrapper.clone().unwrap_or_else(|| format!("{operation}Result"));
            w.open(&wrapper);
            if let Some(shape) = model.shape(&out_ref.shape) {
                encode_struct_members(model, shape, output, &mut w);
            }
            w.close(&wrapper);
        }
    }
    w.open("ResponseMetadata");
    w.element("RequestId", request_id);
    w.close("ResponseMetadata");
    w.close(&format!("{operation}Response"));
    w.finish()
}

/// `<ErrorResponse><Error><Type/><Code/><Message/><Detail/></Error><RequestId/></ErrorResponse>`
pub fn encode_error(xml_namespace: &str, code: &str, message: &str, sender_fault: bool, request_id: &str) -> Vec<u8> {
    let mut w = XmlWriter::new();
    w.declaration();
    w.open_ns("ErrorResponse", xml_namespace);
    w.open("Error");
    w.element("Type", if sender_fault { "Sender" } else { "Receiver" });
    w.element("Code", code);
    w.element("Message", message);
    w.empty("Detail");
    w.close("Error");
    w.element("RequestId", request_id);
    w.close("ErrorResponse");
    w.finish()
}

fn encode_struct_members(model: &ServiceModel, shape: &Shape, value: &Value, w: &mut XmlWriter) {
    let Value::Object(obj) = value else { return };
    for (name, member) in &shape.members {
        let Some(v) = obj.get(name) else { continue };
        if v.is_null() {
            continue;
        }
        let Some(member_shape) = model.shape(&member.shape) else { continue };
        encode_member(model, name, member, member_shape, v, w);
    }
}

fn encode_member(model: &ServiceModel, name: &str, r: &ShapeRef, shape: &Shape, v: &Value, w: &mut XmlWriter) {
    let tag = serialized_name(r, shape, name);
    match shape.kind {
        ShapeKind::Structure => {
            w.open(tag);
            encode_struct_members(model, shape, v, w);
            w.close(tag);
        }
        ShapeKind::List => {
            let (Some(member), Value::Array(items)) = (&shape.member, v) else { return };
            let Some(member_shape) = model.shape(&member.shape) else { return };
            if is_flattened(r, shape) {
                let item_tag = member.location_name.as_deref().unwrap_or(tag);
                for item in items {
                    encode_member(model, item_tag, &ShapeRef { location_name: Some(item_tag.to_string()), ..member.clone() }, member_shape, item, w);
                }
            } else {
                let item_tag = serialized_name(member, member_shape, "member");
                w.open(tag);
                for item in items {
                    encode_member(model, item_tag, &ShapeRef { location_name: Some(item_tag.to_string()), ..member.clone() }, member_shape, item, w);
                }
                w.close(tag);
            }
        }
        ShapeKind::Map => {
            let (Some(kr), Some(vr), Value::Object(entries)) = (&shape.key, &shape.value, v) else { return };
            let (Some(ks), Some(vs)) = (model.shape(&kr.shape), model.shape(&vr.shape)) else { return };
            let key_tag = serialized_name(kr, ks, "key");
            let value_tag = serialized_name(vr, vs, "value");
            let flattened = is_flattened(r, shape);
            if !flattened {
                w.open(tag);
            }
            for (k, val) in entries {
                w.open(if flattened { tag } else { "entry" });
                w.element(key_tag, k);
                encode_member(model, value_tag, &ShapeRef { location_name: Some(value_tag.to_string()), ..vr.clone() }, vs, val, w);
                w.close(if flattened { tag } else { "entry" });
            }
            if !flattened {
                w.close(tag);
            }
        }
        _ => {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                other => other.to_string(),
            };
            w.element(tag, &text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn model() -> ServiceModel {
        ServiceModel::from_json(include_str!("../../../specs/sqs/2012-11-05/service-2.query.json")).unwrap()
    }

    fn decode(op: &str, form: &str) -> Value {
        let m = model();
        let input = m.operation(op).unwrap().input.clone().unwrap();
        decode_input(&m, &input, &parse_params(form.as_bytes(), "")).unwrap()
    }

    #[test]
    fn decodes_flattened_maps_and_lists() {
        let v = decode(
            "CreateQueue",
            "Action=CreateQueue&QueueName=q&Attribute.1.Name=DelaySeconds&Attribute.1.Value=5&Attribute.2.Name=VisibilityTimeout&Attribute.2.Value=10&Tag.1.Key=team&Tag.1.Value=a",
        );
        assert_eq!(
            v,
            json!({"QueueName": "q", "Attributes": {"DelaySeconds": "5", "VisibilityTimeout": "10"}, "tags": {"team": "a"}})
        );
        let v = decode("ReceiveMessage", "QueueUrl=u&AttributeName.1=All&MaxNumberOfMessages=10&MessageAttributeName.1=a");
        assert_eq!(v["AttributeNames"], json!(["All"]));
        assert_eq!(v["MessageAttributeNames"], json!(["a"]));
        assert_eq!(v["MaxNumberOfMessages"], json!(10));
    }

    #[test]
    fn decodes_nested_message_attributes_and_batches() {
        let v = decode(
            "SendMessageBatch",
            "QueueUrl=u&SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=x&SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=n&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue=s&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType=String&SendMessageBatchRequestEntry.2.Id=b&SendMessageBatchRequestEntry.2.MessageBody=y&SendMessageBatchRequestEntry.2.DelaySeconds=3",
        );
        assert_eq!(v["Entries"][0]["MessageAttributes"]["n"], json!({"StringValue": "s", "DataType": "String"}));
        assert_eq!(v["Entries"][1]["DelaySeconds"], json!(3));
    }

    #[test]
    fn bad_integer_is_invalid_parameter() {
        let m = model();
        let input = m.operation("ReceiveMessage").unwrap().input.clone().unwrap();
        let err = decode_input(&m, &input, &parse_params(b"QueueUrl=u&MaxNumberOfMessages=ten", "")).unwrap_err();
        assert_eq!(err.code, "InvalidParameterValue");
    }

    #[test]
    fn encodes_receive_message_result() {
        let m = model();
        let out = json!({"Messages": [{"MessageId": "m1", "ReceiptHandle": "r", "MD5OfBody": "d", "Body": "<b>&",
            "Attributes": {"SentTimestamp": "1"}, "MessageAttributes": {"k": {"StringValue": "v", "DataType": "String"}}}]});
        let xml = String::from_utf8(encode_output(&m, "ReceiveMessage", &out, "rid")).unwrap();
        assert!(xml.contains(r#"<ReceiveMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><ReceiveMessageResult><Message><MessageId>m1</MessageId>"#), "{xml}");
        assert!(xml.contains("<Body>&lt;b&gt;&amp;</Body>"), "{xml}");
        assert!(xml.contains("<Attribute><Name>SentTimestamp</Name><Value>1</Value></Attribute>"), "{xml}");
        assert!(xml.contains("<MessageAttribute><Name>k</Name><Value><StringValue>v</StringValue><DataType>String</DataType></Value></MessageAttribute>"), "{xml}");
        assert!(xml.contains("<ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></ReceiveMessageResponse>"));
        let xml = String::from_utf8(encode_output(&m, "ListQueues", &json!({"QueueUrls": ["a", "b"]}), "r")).unwrap();
        assert!(xml.contains("<ListQueuesResult><QueueUrl>a</QueueUrl><QueueUrl>b</QueueUrl></ListQueuesResult>"), "{xml}");
    }
}
