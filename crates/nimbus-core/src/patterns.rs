//! Content filtering with EventBridge event patterns: the language Lambda's event
//! filters (FilterCriteria), EventBridge rules and SNS payload filters share.
//!
//! A pattern is a JSON object whose leaves are arrays of matchers; an event matches
//! when every field the pattern names matches one of its matchers (an array field
//! matches when any element does). Matchers: literal strings, numbers, booleans and
//! null; `prefix`, `suffix`, `equals-ignore-case`, `wildcard`, `anything-but`,
//! `numeric`, `exists`; and `$or` over sub-patterns.

use serde_json::Value;

/// A pattern that failed validation, with a message saying why.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternError(pub String);

/// Parses and validates `text` as an event pattern.
pub fn parse(text: &str) -> Result<Value, PatternError> {
    let v: Value = serde_json::from_str(text).map_err(|e| PatternError(format!("Pattern is not valid JSON: {e}")))?;
    validate(&v)?;
    Ok(v)
}

fn validate(p: &Value) -> Result<(), PatternError> {
    let Value::Object(fields) = p else {
        return Err(PatternError("Pattern must be a JSON object".into()));
    };
    for (k, v) in fields {
        match (k.as_str(), v) {
            ("$or", Value::Array(alts)) => alts.iter().try_for_each(validate)?,
            (_, Value::Object(_)) => validate(v)?,
            (_, Value::Array(ms)) => ms.iter().try_for_each(validate_matcher)?,
            _ => return Err(PatternError(format!("Field {k} must be an object or an array"))),
        }
    }
    Ok(())
}

fn validate_matcher(m: &Value) -> Result<(), PatternError> {
    let Value::Object(o) = m else { return Ok(()) };
    let Some((op, arg)) = o.iter().next().filter(|_| o.len() == 1) else {
        return Err(PatternError("A matcher object must have exactly one key".into()));
    };
    let ok = match op.as_str() {
        "prefix" | "suffix" => arg.is_string() || arg.get("equals-ignore-case").is_some_and(Value::is_string),
        "equals-ignore-case" | "wildcard" | "cidr" => arg.is_string(),
        "exists" => arg.is_boolean(),
        "anything-but" => !arg.is_null(),
        "numeric" => numeric_conditions(arg).is_some(),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(PatternError(format!("Unrecognized match type {op}")))
    }
}

/// Whether `event` matches `pattern` (a validated pattern).
pub fn matches(pattern: &Value, event: &Value) -> bool {
    let Value::Object(fields) = pattern else { return false };
    fields.iter().all(|(k, p)| match (k.as_str(), p) {
        ("$or", Value::Array(alts)) => alts.iter().any(|alt| matches(alt, event)),
        (_, Value::Object(_)) => event.get(k).is_some_and(|v| matches(p, v)),
        (_, Value::Array(ms)) => field_matches(ms, event.get(k)),
        _ => false,
    })
}

fn field_matches(matchers: &[Value], value: Option<&Value>) -> bool {
    matchers.iter().any(|m| match m {
        Value::Object(o) if o.contains_key("exists") => {
            let want = o.get("exists").and_then(Value::as_bool).unwrap_or(true);
            let present = value.is_some_and(|v| !matches!(v, Value::Object(_)));
            want == present
        }
        Value::Object(o) if o.contains_key("anything-but") => {
            // A missing field is not "anything but" a value: it has no value at all.
            value.is_some_and(|v| each(v, |x| anything_but(o.get("anything-but").unwrap_or(&Value::Null), x)))
        }
        _ => value.is_some_and(|v| each(v, |x| matcher_matches(m, x))),
    })
}

/// Applies `f` to a scalar, or to each element of an array (any may match).
fn each(v: &Value, f: impl Fn(&Value) -> bool) -> bool {
    match v {
        Value::Array(items) => items.iter().any(f),
        other => f(other),
    }
}

fn matcher_matches(m: &Value, x: &Value) -> bool {
    match m {
        Value::Object(o) => {
            let Some((op, arg)) = o.iter().next() else { return false };
            let s = x.as_str();
            match op.as_str() {
                "prefix" => affix(arg, s, |s, a| s.starts_with(a)),
                "suffix" => affix(arg, s, |s, a| s.ends_with(a)),
                "equals-ignore-case" => s.zip(arg.as_str()).is_some_and(|(s, a)| s.eq_ignore_ascii_case(a)),
                "wildcard" => s.zip(arg.as_str()).is_some_and(|(s, a)| wildcard(a.as_bytes(), s.as_bytes())),
                "numeric" => x.as_f64().is_some_and(|n| numeric(arg, n)),
                _ => false,
            }
        }
        Value::Number(a) => x.as_f64().zip(a.as_f64()).is_some_and(|(x, a)| x == a),
        literal => literal == x,
    }
}

fn affix(arg: &Value, s: Option<&str>, test: fn(&str, &str) -> bool) -> bool {
    let Some(s) = s else { return false };
    match arg {
        Value::String(a) => test(s, a),
        Value::Object(o) => o
            .get("equals-ignore-case")
            .and_then(Value::as_str)
            .is_some_and(|a| test(&s.to_lowercase(), &a.to_lowercase())),
        _ => false,
    }
}

fn anything_but(arg: &Value, x: &Value) -> bool {
    match arg {
        Value::Array(vals) => !vals.iter().any(|v| matcher_matches(v, x)),
        Value::Object(_) => !matcher_matches(arg, x),
        v => !matcher_matches(v, x),
    }
}

/// `["<", 10, ">=", 2]` → [("<", 10.0), (">=", 2.0)]
fn numeric_conditions(arg: &Value) -> Option<Vec<(String, f64)>> {
    let items = arg.as_array()?;
    if items.is_empty() || items.len() % 2 != 0 {
        return None;
    }
    items
        .chunks(2)
        .map(|c| {
            let op = c[0].as_str().filter(|o| matches!(*o, "<" | "<=" | "=" | ">" | ">="))?;
            Some((op.to_string(), c[1].as_f64()?))
        })
        .collect()
}

fn numeric(arg: &Value, n: f64) -> bool {
    numeric_conditions(arg).is_some_and(|conds| {
        conds.iter().all(|(op, v)| match op.as_str() {
            "<" => n < *v,
            "<=" => n <= *v,
            "=" => n == *v,
            ">" => n > *v,
            _ => n >= *v,
        })
    })
}

/// `*` matches any run of characters.
fn wildcard(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si, mut star, mut mark) = (0, 0, None, 0);
    while si < s.len() {
        if pi < p.len() && p[pi] != b'*' && p[pi] == s[si] {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(p: &str, e: Value) -> bool {
        matches(&parse(p).unwrap(), &e)
    }

    #[test]
    fn literals_and_nesting() {
        let e = json!({"body": {"kind": "image", "size": 10, "tags": ["a", "b"]}});
        assert!(m(r#"{"body": {"kind": ["image"]}}"#, e.clone()));
        assert!(!m(r#"{"body": {"kind": ["video"]}}"#, e.clone()));
        assert!(m(r#"{"body": {"size": [10.0]}}"#, e.clone()));
        assert!(m(r#"{"body": {"tags": ["b"]}}"#, e.clone()));
        assert!(!m(r#"{"body": {"missing": ["x"]}}"#, e.clone()));
        assert!(!m(r#"{"body": {"kind": ["video"]}, "$or": [{"x": [1]}]}"#, e.clone()));
        assert!(m(r#"{"$or": [{"body": {"kind": ["video"]}}, {"body": {"size": [10]}}]}"#, e));
    }

    #[test]
    fn operators() {
        let e = json!({"key": "uploads/cat.PNG", "n": 7, "nul": null});
        assert!(m(r#"{"key": [{"prefix": "uploads/"}]}"#, e.clone()));
        assert!(m(r#"{"key": [{"suffix": {"equals-ignore-case": ".png"}}]}"#, e.clone()));
        assert!(!m(r#"{"key": [{"suffix": ".png"}]}"#, e.clone()));
        assert!(m(r#"{"key": [{"wildcard": "uploads/*.PNG"}]}"#, e.clone()));
        assert!(m(r#"{"n": [{"numeric": [">", 5, "<=", 7]}]}"#, e.clone()));
        assert!(!m(r#"{"n": [{"numeric": [">", 7]}]}"#, e.clone()));
        assert!(m(r#"{"key": [{"anything-but": ["x", "y"]}]}"#, e.clone()));
        assert!(!m(r#"{"key": [{"anything-but": {"prefix": "uploads/"}}]}"#, e.clone()));
        assert!(m(r#"{"key": [{"exists": true}], "other": [{"exists": false}]}"#, e.clone()));
        assert!(!m(r#"{"key": [{"exists": false}]}"#, e.clone()));
        assert!(m(r#"{"nul": [null]}"#, e.clone()));
        assert!(m(r#"{"key": [{"equals-ignore-case": "UPLOADS/CAT.png"}]}"#, e));
    }

    #[test]
    fn invalid_patterns() {
        assert!(parse("[]").is_err());
        assert!(parse("{\"a\": 1}").is_err());
        assert!(parse("{\"a\": [{\"nope\": 1}]}").is_err());
        assert!(parse("{\"a\": [{\"numeric\": [\">\"]}]}").is_err());
        assert!(parse("not json").is_err());
    }
}
