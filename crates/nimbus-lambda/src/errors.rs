//! Lambda's errors, with AWS's codes and statuses.

use nimbus_core::AwsError;

pub fn not_found(arn: &str) -> AwsError {
    AwsError::new(404, "ResourceNotFoundException", format!("Function not found: {arn}"))
}

pub fn conflict(message: impl Into<String>) -> AwsError {
    AwsError::new(409, "ResourceConflictException", message)
}

pub fn invalid_parameter(message: impl Into<String>) -> AwsError {
    AwsError::new(400, "InvalidParameterValueException", message)
}

pub fn validation(message: impl Into<String>) -> AwsError {
    AwsError::new(400, "ValidationException", message)
}

pub fn too_large(message: &str) -> AwsError {
    AwsError::new(413, "RequestTooLargeException", message)
}

pub fn throttled() -> AwsError {
    AwsError::new(429, "TooManyRequestsException", "Rate Exceeded.")
}

pub fn precondition_failed() -> AwsError {
    AwsError::new(
        412,
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
    )
}
