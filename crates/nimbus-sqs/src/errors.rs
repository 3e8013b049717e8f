//! SQS's errors, by the shape names of its model (the wire layer adds the legacy
//! query codes such as `AWS.SimpleQueueService.NonExistentQueue`).

use nimbus_core::AwsError;

pub fn queue_does_not_exist() -> AwsError {
    AwsError::bad_request("QueueDoesNotExist", "The specified queue does not exist.")
}

pub fn receipt_handle_invalid(handle: &str) -> AwsError {
    AwsError::new(404, "ReceiptHandleIsInvalid", format!("The input receipt handle \"{handle}\" is not a valid receipt handle."))
}

pub fn invalid_attribute_name(name: &str) -> AwsError {
    AwsError::bad_request("InvalidAttributeName", format!("Unknown Attribute {name}."))
}

pub fn invalid_attribute_value(name: &str, reason: &str) -> AwsError {
    let msg = if reason.is_empty() {
        format!("Invalid value for the parameter {name}.")
    } else {
        format!("Invalid value for the parameter {name}. Reason: {reason}")
    };
    AwsError::bad_request("InvalidAttributeValue", msg)
}

pub fn invalid_parameter(param: &str, value: &str, reason: &str) -> AwsError {
    AwsError::invalid_parameter(format!("Value {value} for parameter {param} is invalid. Reason: {reason}"))
}

pub fn not_for_queue_type(param: &str, value: &str) -> AwsError {
    invalid_parameter(param, value, "The request include parameter that is not valid for this queue type.")
}
