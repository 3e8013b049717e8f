/// Who is calling and where: derived from the request's SigV4 credential.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub account: String,
    pub region: String,
    pub access_key: String,
    pub request_id: String,
    /// The Host header as the client sent it (queue URLs echo it back).
    pub host: String,
    /// The request path, for protocols that address a resource by URL (awsQuery SQS).
    pub path: String,
}

impl RequestContext {
    /// The account an access key stands for: a 12-digit key id is that account,
    /// anything else is the default account.
    pub fn account_for_key(access_key: &str) -> String {
        if access_key.len() == 12 && access_key.bytes().all(|b| b.is_ascii_digit()) {
            access_key.to_string()
        } else {
            crate::DEFAULT_ACCOUNT.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_digit_keys_are_accounts() {
        assert_eq!(RequestContext::account_for_key("123456789012"), "123456789012");
        assert_eq!(RequestContext::account_for_key("test"), "000000000000");
        assert_eq!(RequestContext::account_for_key("12345678901a"), "000000000000");
        assert_eq!(RequestContext::account_for_key("1234567890123"), "000000000000");
    }
}
