//! CloudWatch Logs' errors, by the shape names of its model, with AWS's messages.

use nimbus_core::AwsError;

pub fn group_not_found() -> AwsError {
    AwsError::bad_request("ResourceNotFoundException", "The specified log group does not exist.")
}

pub fn stream_not_found() -> AwsError {
    AwsError::bad_request("ResourceNotFoundException", "The specified log stream does not exist.")
}

pub fn group_exists() -> AwsError {
    AwsError::bad_request("ResourceAlreadyExistsException", "The specified log group already exists")
}

pub fn stream_exists() -> AwsError {
    AwsError::bad_request("ResourceAlreadyExistsException", "The specified log stream already exists")
}

pub fn invalid_parameter(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("InvalidParameterException", message)
}

/// The front end's constraint check, reported as Logs reports it (InvalidParameterException
/// with the generic "validation error detected" text).
pub fn constraint(value: &str, member: &str, constraint: &str) -> AwsError {
    invalid_parameter(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
    ))
}

/// DeleteLogGroup's answer when deletion protection is on (CloudWatch Logs User Guide,
/// "Protecting log groups from deletion").
pub fn deletion_protected() -> AwsError {
    AwsError::bad_request(
        "ValidationException",
        "Cannot delete log group with deletion protection enabled. Disable deletion protection first.",
    )
}

pub fn invalid_token() -> AwsError {
    invalid_parameter("The specified nextToken is invalid.")
}

pub fn store(e: nimbus_store::StoreError) -> AwsError {
    AwsError::new(500, "ServiceUnavailableException", format!("storage failure: {e}"))
}
