//! awsJson 1.0 / 1.1: the body is the input structure as JSON with the model's member
//! names. Decoding checks each value against its shape (as AWS's front end does) so
//! providers can rely on types; encoding is the output value itself.

use nimbus_core::AwsError;
use serde_json::Value;

use crate::model::{ServiceModel, Shape, ShapeKind};

pub const SERIALIZATION_EXCEPTION: &str = "SerializationException";

/// Where in the input a value sits, built into text only when reporting an error.
enum Path<'a> {
    Root(&'a str),
    Member(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Path::Root(name) => f.write_str(name),
            Path::Member(parent, name) => write!(f, "{parent}.{name}"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

fn type_error(path: &Path, expected: &str) -> AwsError {
    AwsError::bad_request(
        SERIALIZATION_EXCEPTION,
        format!("Unexpected value type for {path}: expected {expected}"),
    )
}

/// Parses and checks a request body. An empty body is an empty structure.
pub fn decode_input(model: &ServiceModel, input_shape: Option<&str>, body: &[u8]) -> Result<Value, AwsError> {
    let mut value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(body).map_err(|e| {
            AwsError::bad_request(SERIALIZATION_EXCEPTION, format!("The request body is not valid JSON: {e}"))
        })?
    };
    if let Some(name) = input_shape {
        if let Some(shape) = model.shape(name) {
            check(model, shape, &mut value, &Path::Root(name))?;
        }
    }
    Ok(value)
}

fn check(model: &ServiceModel, shape: &Shape, v: &mut Value, path: &Path) -> Result<(), AwsError> {
    match shape.kind {
        ShapeKind::Structure => {
            let Value::Object(obj) = v else { return Err(type_error(path, "an object")) };
            // Null members are absent members.
            obj.retain(|_, m| !m.is_null());
            for (name, member) in &shape.members {
                if let (Some(mv), Some(ms)) = (obj.get_mut(name), model.shape(&member.shape)) {
                    check(model, ms, mv, &Path::Member(path, name))?;
                }
            }
        }
        ShapeKind::List => {
            let Value::Array(items) = v else { return Err(type_error(path, "an array")) };
            if let Some(ms) = shape.member.as_ref().and_then(|m| model.shape(&m.shape)) {
                for (i, item) in items.iter_mut().enumerate() {
                    check(model, ms, item, &Path::Index(path, i))?;
                }
            }
        }
        ShapeKind::Map => {
            let Value::Object(obj) = v else { return Err(type_error(path, "an object")) };
            if let Some(vs) = shape.value.as_ref().and_then(|m| model.shape(&m.shape)) {
                for (k, item) in obj.iter_mut() {
                    check(model, vs, item, &Path::Member(path, k))?;
                }
            }
        }
        ShapeKind::String | ShapeKind::Blob => {
            if !v.is_string() {
                return Err(type_error(path, "a string"));
            }
        }
        ShapeKind::Integer | ShapeKind::Long => {
            if !(v.is_i64() || v.is_u64()) {
                return Err(type_error(path, "an integer"));
            }
        }
        ShapeKind::Double | ShapeKind::Float | ShapeKind::Timestamp => {
            if !v.is_number() && !(shape.kind == ShapeKind::Timestamp && v.is_string()) {
                return Err(type_error(path, "a number"));
            }
        }
        ShapeKind::Boolean => {
            if !v.is_boolean() {
                return Err(type_error(path, "a boolean"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> ServiceModel {
        ServiceModel::from_json(include_str!("../../../specs/sqs/2012-11-05/service-2.json")).unwrap()
    }

    #[test]
    fn accepts_well_typed_input_and_drops_nulls() {
        let v = decode_input(&model(), Some("ReceiveMessageRequest"), br#"{"QueueUrl":"u","MaxNumberOfMessages":3,"VisibilityTimeout":null}"#).unwrap();
        assert_eq!(v, serde_json::json!({"QueueUrl":"u","MaxNumberOfMessages":3}));
    }

    #[test]
    fn rejects_wrong_types_and_garbage() {
        let m = model();
        let e = decode_input(&m, Some("ReceiveMessageRequest"), br#"{"QueueUrl":"u","MaxNumberOfMessages":"3"}"#).unwrap_err();
        assert_eq!(e.code, SERIALIZATION_EXCEPTION);
        assert!(decode_input(&m, Some("ReceiveMessageRequest"), b"{nope").is_err());
        assert!(decode_input(&m, Some("ReceiveMessageRequest"), b"[1]").is_err());
        let e = decode_input(&m, Some("CreateQueueRequest"), br#"{"QueueName":"q","Attributes":{"DelaySeconds":5}}"#).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(decode_input(&m, Some("CreateQueueRequest"), b"").is_ok());
    }
}
