use std::fmt;

/// `arn:partition:service:region:account:resource`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn {
    pub partition: String,
    pub service: String,
    pub region: String,
    pub account: String,
    pub resource: String,
}

impl Arn {
    pub fn new(service: &str, region: &str, account: &str, resource: &str) -> Self {
        Self {
            partition: "aws".into(),
            service: service.into(),
            region: region.into(),
            account: account.into(),
            resource: resource.into(),
        }
    }

    pub fn parse(s: &str) -> Option<Arn> {
        let mut parts = s.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let partition = parts.next()?.to_string();
        let service = parts.next()?.to_string();
        let region = parts.next()?.to_string();
        let account = parts.next()?.to_string();
        let resource = parts.next()?.to_string();
        if partition.is_empty() || service.is_empty() || resource.is_empty() {
            return None;
        }
        Some(Arn { partition, service, region, account, resource })
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:{}:{}:{}:{}",
            self.partition, self.service, self.region, self.account, self.resource
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let a = Arn::parse("arn:aws:sqs:us-east-1:000000000000:q1").unwrap();
        assert_eq!(a.service, "sqs");
        assert_eq!(a.resource, "q1");
        assert_eq!(a.to_string(), "arn:aws:sqs:us-east-1:000000000000:q1");
        let l = Arn::parse("arn:aws:lambda:us-east-1:1:function:f:1").unwrap();
        assert_eq!(l.resource, "function:f:1");
        assert!(Arn::parse("arn:aws:sqs").is_none());
        assert!(Arn::parse("nope").is_none());
    }
}
