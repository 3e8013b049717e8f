use std::collections::HashMap;

/// Which access keys exist, and what happens to keys that don't. Shared by every
/// way into nimbus (the edge and S3's own signature checks).
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// access key id → secret key
    pub keys: HashMap<String, String>,
    /// Reject unknown access keys and unsigned requests.
    pub strict: bool,
}

impl Default for AuthConfig {
    /// The built-in key `test` with secret `test`, lenient about other keys.
    fn default() -> Self {
        Self { keys: HashMap::from([("test".to_string(), "test".to_string())]), strict: false }
    }
}
