//! Queue URLs: `http://<host>/<account>/<name>`, in whatever host form the client used.

use nimbus_core::{AwsError, RequestContext};

pub fn queue_url(ctx: &RequestContext, account: &str, name: &str) -> String {
    format!("http://{}/{}/{}", ctx.host, account, name)
}

/// (account, name) named by a queue URL. The account defaults to the caller's.
pub fn parse(ctx: &RequestContext, url: &str) -> Result<(String, String), AwsError> {
    let path = match url.find("://") {
        Some(i) => {
            let rest = &url[i + 3..];
            rest.find('/').map_or("", |j| &rest[j..])
        }
        None => url,
    };
    let path = path.split(['?', '#']).next().unwrap_or("");
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        [.., account, name] if is_account(account) => Ok((account.to_string(), name.to_string())),
        [.., name] if !name.is_empty() => Ok((ctx.account.clone(), name.to_string())),
        _ => Err(AwsError::new(404, "InvalidAddress", format!("The address {url} is not valid for this endpoint."))),
    }
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> RequestContext {
        RequestContext {
            account: "000000000000".into(),
            region: "us-east-1".into(),
            access_key: "test".into(),
            request_id: "r".into(),
            host: "localhost:4566".into(),
            path: "/".into(),
        }
    }

    #[test]
    fn forms() {
        let c = ctx();
        assert_eq!(parse(&c, "http://localhost:4566/000000000000/q1").unwrap(), ("000000000000".into(), "q1".into()));
        assert_eq!(
            parse(&c, "https://sqs.eu-west-1.amazonaws.com/123456789012/q.fifo").unwrap(),
            ("123456789012".into(), "q.fifo".into())
        );
        assert_eq!(parse(&c, "http://sqs.us-east-1.localhost:4566/queue/us-east-1/000000000000/q").unwrap().1, "q");
        assert_eq!(parse(&c, "q2").unwrap(), ("000000000000".into(), "q2".into()));
        assert!(parse(&c, "http://localhost:4566/").is_err());
    }
}
