use std::fmt;

/// An error as AWS reports it. `code` is the error shape's name in the service model
/// (e.g. `QueueDoesNotExist`); the wire layer turns it into the protocol's format and
/// looks up legacy query codes in the model. Common errors that no model lists
/// (`InvalidParameterValue`, `MissingParameter`, ...) use their AWS code directly.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsError {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// true when the caller is at fault ("Sender"), false for "Receiver".
    pub sender_fault: bool,
}

impl AwsError {
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { status, code: code.into(), message: message.into(), sender_fault: status < 500 }
    }

    /// 400 with the given code.
    pub fn bad_request(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(400, "InvalidParameterValue", message)
    }

    pub fn missing_parameter(name: &str) -> Self {
        Self::new(
            400,
            "MissingParameter",
            format!("The request must contain the parameter {name}."),
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalFailure", message)
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for AwsError {}
