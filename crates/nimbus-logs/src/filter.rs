//! Filter patterns (AWS's "filter pattern syntax"), the part FilterLogEvents uses:
//! - `""` or nothing: every event;
//! - terms: `ERROR Exception` (all of them), `"exact phrase"`, `?ERROR ?WARN` (any of
//!   them), `-DEBUG` / `-"a phrase"` (none of them); case-sensitive;
//! - JSON: `{ $.level = "ERROR" && ($.latency > 100 || $.user = "adm*") }` — see
//!   filter_json.rs.
//!
//! Space-delimited (`[ip, user, ...]`) and regex (`%...%`) patterns are not supported
//! and are refused rather than silently matching nothing.

use crate::filter_json::JsonPattern;

#[derive(Debug)]
pub enum Pattern {
    All,
    Terms(Terms),
    Json(JsonPattern),
}

#[derive(Debug, Default, PartialEq)]
pub struct Terms {
    pub required: Vec<String>,
    pub optional: Vec<String>,
    pub excluded: Vec<String>,
}

impl Pattern {
    pub fn parse(pattern: &str) -> Result<Pattern, String> {
        let p = pattern.trim();
        if p.is_empty() || p == "\"\"" {
            return Ok(Pattern::All);
        }
        if p.starts_with('{') {
            return JsonPattern::parse(p).map(Pattern::Json);
        }
        if p.starts_with('[') {
            return Err("space-delimited filter patterns ([...]) are not supported by nimbus".into());
        }
        if p.len() >= 2 && p.starts_with('%') && p.ends_with('%') {
            return Err("regular-expression filter patterns (%...%) are not supported by nimbus".into());
        }
        parse_terms(p).map(Pattern::Terms)
    }

    pub fn matches(&self, message: &str) -> bool {
        match self {
            Pattern::All => true,
            Pattern::Terms(t) => t.matches(message),
            Pattern::Json(j) => j.matches(message),
        }
    }
}

impl Terms {
    fn matches(&self, message: &str) -> bool {
        self.required.iter().all(|t| message.contains(t.as_str()))
            && !self.excluded.iter().any(|t| message.contains(t.as_str()))
            && (self.optional.is_empty() || self.optional.iter().any(|t| message.contains(t.as_str())))
    }
}

fn parse_terms(p: &str) -> Result<Terms, String> {
    let mut terms = Terms::default();
    let mut chars = p.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&first) = chars.peek() else { break };
        let kind = match first {
            '?' | '-' => {
                chars.next();
                first
            }
            _ => ' ',
        };
        let term = if chars.peek() == Some(&'"') {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some(c) => s.push(c),
                        None => return Err("unterminated quoted term".into()),
                    },
                    Some(c) => s.push(c),
                    None => return Err("unterminated quoted term".into()),
                }
            }
            s
        } else {
            let mut s = String::new();
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                s.push(c);
            }
            s
        };
        if term.is_empty() {
            if kind == ' ' {
                continue;
            }
            return Err(format!("'{kind}' must be followed by a term"));
        }
        match kind {
            '?' => terms.optional.push(term),
            '-' => terms.excluded.push(term),
            _ => terms.required.push(term),
        }
    }
    Ok(terms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, message: &str) -> bool {
        Pattern::parse(pattern).unwrap().matches(message)
    }

    #[test]
    fn empty_matches_everything() {
        assert!(m("", "anything"));
        assert!(m("\"\"", "anything"));
        assert!(m("   ", "x"));
    }

    #[test]
    fn all_terms_must_appear_case_sensitively() {
        assert!(m("ERROR", "[ERROR] disk full"));
        assert!(!m("ERROR", "[error] disk full"));
        assert!(m("ERROR Exception", "ERROR: NullPointerException"));
        assert!(!m("ERROR Exception", "ERROR: disk full"));
    }

    #[test]
    fn quoted_phrases_match_exactly() {
        assert!(m("\"disk full\"", "ERROR: disk full now"));
        assert!(!m("\"disk full\"", "full disk"));
        assert!(m("\"say \\\"hi\\\"\"", "they say \"hi\""));
    }

    #[test]
    fn optional_terms_are_alternatives() {
        assert!(m("?ERROR ?WARN", "WARN low memory"));
        assert!(m("?ERROR ?WARN", "ERROR boom"));
        assert!(!m("?ERROR ?WARN", "INFO fine"));
        assert!(m("?\"disk full\" ?OOM", "OOM killer"));
    }

    #[test]
    fn excluded_terms_reject() {
        assert!(m("ERROR -Exiting", "ERROR boom"));
        assert!(!m("ERROR -Exiting", "ERROR Exiting now"));
        assert!(m("-DEBUG", "INFO x"));
        assert!(!m("-DEBUG", "DEBUG x"));
        assert!(!m("-\"a b\"", "x a b y"));
    }

    #[test]
    fn bad_patterns_are_errors() {
        assert!(Pattern::parse("\"open").is_err());
        assert!(Pattern::parse("[ip, user]").is_err());
        assert!(Pattern::parse("%ERR.*%").is_err());
        assert!(Pattern::parse("? x").is_err());
    }
}
