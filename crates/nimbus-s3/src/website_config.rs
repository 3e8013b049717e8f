//! A bucket's website configuration (PutBucketWebsite): index and error documents,
//! redirect-everything, and routing rules — validated as S3 validates them, and
//! the redirects the rules produce.

use s3s::dto::{Condition, ErrorDocument, IndexDocument, Protocol, Redirect, RedirectAllRequestsTo, RoutingRule, WebsiteConfiguration};
use s3s::{S3Error, S3ErrorCode, S3Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct WebsiteConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_suffix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_all: Option<RedirectAll>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RedirectAll {
    pub host_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Rule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_prefix_equals: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_error_code_equals: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_redirect_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_key_prefix_with: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_key_with: Option<String>,
}

fn invalid(msg: &str) -> S3Error {
    S3Error::with_message(S3ErrorCode::InvalidArgument, msg.to_string())
}

fn valid_protocol(p: &str) -> bool {
    p == "http" || p == "https"
}

impl WebsiteConfig {
    /// Checks a PutBucketWebsite body (InvalidArgument / InvalidRequest as S3 answers).
    pub fn from_dto(c: WebsiteConfiguration) -> S3Result<Self> {
        let redirect_all = c.redirect_all_requests_to.map(|r| RedirectAll { host_name: r.host_name, protocol: r.protocol.map(|p| p.as_str().to_string()) });
        if let Some(r) = &redirect_all {
            if c.index_document.is_some() || c.error_document.is_some() || c.routing_rules.is_some() {
                return Err(invalid("RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules."));
            }
            if r.host_name.is_empty() {
                return Err(invalid("A host name must be provided in RedirectAllRequestsTo."));
            }
            if r.protocol.as_deref().is_some_and(|p| !valid_protocol(p)) {
                return Err(invalid("Invalid protocol, protocol can be http or https. If not defined the protocol will be selected automatically."));
            }
            return Ok(WebsiteConfig { redirect_all, ..Default::default() });
        }
        let suffix = c
            .index_document
            .map(|i| i.suffix)
            .ok_or_else(|| invalid("A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty"))?;
        if suffix.is_empty() || suffix.contains('/') {
            return Err(invalid("The IndexDocument Suffix is not well formed"));
        }
        let error_key = c.error_document.map(|e| e.key);
        if error_key.as_deref() == Some("") {
            return Err(invalid("The ErrorDocument Key is not well formed"));
        }
        let mut rules = Vec::new();
        for r in c.routing_rules.unwrap_or_default() {
            let cond = r.condition.unwrap_or_default();
            let red = r.redirect;
            if red.replace_key_with.is_some() && red.replace_key_prefix_with.is_some() {
                return Err(invalid("You can only define ReplaceKeyPrefix or ReplaceKey but not both."));
            }
            if let Some(code) = &cond.http_error_code_returned_equals {
                if !code.parse::<u16>().is_ok_and(|c| (400..600).contains(&c)) {
                    return Err(invalid("The provided HTTP error code (HttpErrorCodeReturnedEquals) is not valid. Valid codes are 4XX or 5XX."));
                }
            }
            if let Some(code) = &red.http_redirect_code {
                if !code.parse::<u16>().is_ok_and(|c| (300..400).contains(&c) && c != 300) {
                    return Err(invalid("The provided HTTP redirect code (HttpRedirectCode) is not valid. Valid codes are 3XX except 300."));
                }
            }
            let protocol = red.protocol.map(|p| p.as_str().to_string());
            if protocol.as_deref().is_some_and(|p| !valid_protocol(p)) {
                return Err(invalid("Invalid protocol, protocol can be http or https. If not defined the protocol will be selected automatically."));
            }
            if red.host_name.is_none() && protocol.is_none() && red.http_redirect_code.is_none() && red.replace_key_with.is_none() && red.replace_key_prefix_with.is_none() {
                return Err(invalid("Redirect must contain at least one of the following: HostName, Protocol, ReplaceKeyPrefixWith, ReplaceKeyWith or HttpRedirectCode."));
            }
            rules.push(Rule {
                key_prefix_equals: cond.key_prefix_equals,
                http_error_code_equals: cond.http_error_code_returned_equals,
                host_name: red.host_name,
                protocol,
                http_redirect_code: red.http_redirect_code,
                replace_key_prefix_with: red.replace_key_prefix_with,
                replace_key_with: red.replace_key_with,
            });
        }
        Ok(WebsiteConfig { index_suffix: Some(suffix), error_key, redirect_all: None, rules })
    }

    pub fn index_document(&self) -> Option<IndexDocument> {
        self.index_suffix.clone().map(|suffix| IndexDocument { suffix })
    }

    pub fn error_document(&self) -> Option<ErrorDocument> {
        self.error_key.clone().map(|key| ErrorDocument { key })
    }

    pub fn redirect_all_dto(&self) -> Option<RedirectAllRequestsTo> {
        self.redirect_all
            .as_ref()
            .map(|r| RedirectAllRequestsTo { host_name: r.host_name.clone(), protocol: r.protocol.clone().map(Protocol::from) })
    }

    pub fn rule_dtos(&self) -> Option<Vec<RoutingRule>> {
        (!self.rules.is_empty()).then(|| {
            self.rules
                .iter()
                .map(|r| RoutingRule {
                    condition: (r.key_prefix_equals.is_some() || r.http_error_code_equals.is_some()).then(|| Condition {
                        key_prefix_equals: r.key_prefix_equals.clone(),
                        http_error_code_returned_equals: r.http_error_code_equals.clone(),
                    }),
                    redirect: Redirect {
                        host_name: r.host_name.clone(),
                        http_redirect_code: r.http_redirect_code.clone(),
                        protocol: r.protocol.clone().map(Protocol::from),
                        replace_key_prefix_with: r.replace_key_prefix_with.clone(),
                        replace_key_with: r.replace_key_with.clone(),
                    },
                })
                .collect()
        })
    }

    /// The first rule for `key` that applies before the object is fetched (it has no
    /// error-code condition), or after a fetch failed with `error_status`.
    pub fn matching_rule(&self, key: &str, error_status: Option<u16>) -> Option<&Rule> {
        self.rules.iter().find(|r| {
            let prefix_ok = r.key_prefix_equals.as_deref().is_none_or(|p| key.starts_with(p));
            let code_ok = match (&r.http_error_code_equals, error_status) {
                (None, None) => true,
                (Some(c), Some(s)) => c.parse::<u16>().ok() == Some(s),
                _ => false,
            };
            prefix_ok && code_ok
        })
    }
}

/// Where a matching rule sends a request for `key`: (status, Location). `host` is
/// the request's Host, used when the rule names none.
pub fn redirect_location(rule: &Rule, key: &str, host: &str) -> (u16, String) {
    let status = rule.http_redirect_code.as_deref().and_then(|c| c.parse().ok()).unwrap_or(301);
    let protocol = rule.protocol.as_deref().unwrap_or("http");
    let host = rule.host_name.as_deref().unwrap_or(host);
    let new_key = if let Some(k) = &rule.replace_key_with {
        k.clone()
    } else if let Some(with) = &rule.replace_key_prefix_with {
        let prefix = rule.key_prefix_equals.as_deref().unwrap_or("");
        format!("{with}{}", key.strip_prefix(prefix).unwrap_or(key))
    } else {
        key.to_string()
    };
    (status, format!("{protocol}://{host}/{new_key}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(prefix: Option<&str>, code: Option<&str>) -> Rule {
        Rule { key_prefix_equals: prefix.map(str::to_string), http_error_code_equals: code.map(str::to_string), ..Default::default() }
    }

    #[test]
    fn rules_match_in_order() {
        let cfg = WebsiteConfig {
            index_suffix: Some("index.html".into()),
            rules: vec![rule(Some("docs/"), None), rule(None, Some("404")), rule(Some("img/"), Some("403"))],
            ..Default::default()
        };
        assert_eq!(cfg.matching_rule("docs/a.html", None), Some(&cfg.rules[0]));
        assert_eq!(cfg.matching_rule("other.html", None), None);
        assert_eq!(cfg.matching_rule("other.html", Some(404)), Some(&cfg.rules[1]));
        assert_eq!(cfg.matching_rule("img/x.png", Some(403)), Some(&cfg.rules[2]));
        assert_eq!(cfg.matching_rule("css/x.css", Some(403)), None);
    }

    #[test]
    fn redirect_targets() {
        // The S3 user guide's examples: docs/ → documents/, and a missing page to another host.
        let r = Rule {
            key_prefix_equals: Some("docs/".into()),
            replace_key_prefix_with: Some("documents/".into()),
            ..Default::default()
        };
        assert_eq!(redirect_location(&r, "docs/a.html", "site.s3-website.localhost:4566"), (301, "http://site.s3-website.localhost:4566/documents/a.html".into()));
        let r = Rule {
            http_error_code_equals: Some("404".into()),
            host_name: Some("ec2.example.com".into()),
            protocol: Some("https".into()),
            http_redirect_code: Some("302".into()),
            replace_key_prefix_with: Some("report-404/".into()),
            ..Default::default()
        };
        assert_eq!(redirect_location(&r, "missing.html", "h"), (302, "https://ec2.example.com/report-404/missing.html".into()));
        let r = Rule { replace_key_with: Some("error.html".into()), ..Default::default() };
        assert_eq!(redirect_location(&r, "anything", "h").1, "http://h/error.html");
    }

    #[test]
    fn validation() {
        let ok = WebsiteConfiguration { index_document: Some(IndexDocument { suffix: "index.html".into() }), ..Default::default() };
        assert!(WebsiteConfig::from_dto(ok).is_ok());
        assert!(WebsiteConfig::from_dto(WebsiteConfiguration::default()).is_err());
        let slash = WebsiteConfiguration { index_document: Some(IndexDocument { suffix: "a/b.html".into() }), ..Default::default() };
        assert!(WebsiteConfig::from_dto(slash).is_err());
        let both = WebsiteConfiguration {
            index_document: Some(IndexDocument { suffix: "index.html".into() }),
            routing_rules: Some(vec![RoutingRule {
                condition: None,
                redirect: Redirect { replace_key_with: Some("a".into()), replace_key_prefix_with: Some("b".into()), ..Default::default() },
            }]),
            ..Default::default()
        };
        assert!(WebsiteConfig::from_dto(both).is_err());
    }
}
