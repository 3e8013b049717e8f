//! JSON filter patterns: `{ SELECTOR OP VALUE }` joined with `&&`, `||` and parentheses.
//! Selectors are `$.a.b[0].c`; OP is `=` or `!=` for strings (with `*` wildcards) and
//! `= != < <= > >=` for numbers; also `IS TRUE|FALSE|NULL` and `NOT EXISTS`.
//! An event matches only if its message is a JSON object.

use serde_json::Value;

#[derive(Debug)]
pub enum JsonPattern {
    And(Box<JsonPattern>, Box<JsonPattern>),
    Or(Box<JsonPattern>, Box<JsonPattern>),
    Test(Selector, Test),
}

#[derive(Debug, PartialEq)]
pub enum Step {
    Key(String),
    Index(usize),
}

pub type Selector = Vec<Step>;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug)]
pub enum Test {
    Text(Op, String),
    Number(Op, f64),
    IsBool(bool),
    IsNull,
    NotExists,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    And,
    Or,
    Op(Op),
    Selector(String),
    Quoted(String),
    Word(String),
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Tok::Open);
            }
            ')' => {
                chars.next();
                out.push(Tok::Close);
            }
            '&' | '|' => {
                chars.next();
                if chars.next() != Some(c) {
                    return Err(format!("expected '{c}{c}'"));
                }
                out.push(if c == '&' { Tok::And } else { Tok::Or });
            }
            '=' | '!' | '<' | '>' => {
                chars.next();
                let eq = chars.next_if_eq(&'=').is_some();
                out.push(Tok::Op(match (c, eq) {
                    ('=', _) => Op::Eq,
                    ('!', true) => Op::Ne,
                    ('<', false) => Op::Lt,
                    ('<', true) => Op::Le,
                    ('>', false) => Op::Gt,
                    ('>', true) => Op::Ge,
                    _ => return Err("'!' must be followed by '='".into()),
                }));
            }
            '"' => {
                chars.next();
                let mut v = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => v.push(chars.next().ok_or("unterminated string")?),
                        Some(ch) => v.push(ch),
                        None => return Err("unterminated string".into()),
                    }
                }
                out.push(Tok::Quoted(v));
            }
            _ => {
                let mut w = String::new();
                while let Some(ch) = chars.next_if(|ch| !ch.is_whitespace() && !"()&|=!<>\"".contains(*ch)) {
                    w.push(ch);
                }
                out.push(if w.starts_with('$') { Tok::Selector(w) } else { Tok::Word(w) });
            }
        }
    }
    Ok(out)
}

fn parse_selector(s: &str) -> Result<Selector, String> {
    let rest = s.strip_prefix('$').ok_or("a selector starts with '$'")?;
    let mut steps = Vec::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                let mut key = String::new();
                while let Some(ch) = chars.next_if(|ch| *ch != '.' && *ch != '[') {
                    key.push(ch);
                }
                if key.is_empty() {
                    return Err(format!("empty key in selector {s}"));
                }
                steps.push(Step::Key(key));
            }
            '[' => {
                let mut n = String::new();
                while let Some(ch) = chars.next_if(|ch| *ch != ']') {
                    n.push(ch);
                }
                if chars.next() != Some(']') {
                    return Err(format!("unclosed '[' in selector {s}"));
                }
                steps.push(Step::Index(n.trim().parse().map_err(|_| format!("bad index in selector {s}"))?));
            }
            _ => return Err(format!("unexpected '{c}' in selector {s}")),
        }
    }
    if steps.is_empty() {
        return Err("a selector must name a field, e.g. $.level".into());
    }
    Ok(steps)
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
    /// Open parentheses around the current position, bounded so input cannot exhaust the stack.
    depth: usize,
}

const MAX_DEPTH: usize = 32;

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn or(&mut self) -> Result<JsonPattern, String> {
        let mut left = self.and()?;
        while self.peek() == Some(&Tok::Or) {
            self.next();
            left = JsonPattern::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<JsonPattern, String> {
        let mut left = self.primary()?;
        while self.peek() == Some(&Tok::And) {
            self.next();
            left = JsonPattern::And(Box::new(left), Box::new(self.primary()?));
        }
        Ok(left)
    }

    fn primary(&mut self) -> Result<JsonPattern, String> {
        match self.next() {
            Some(Tok::Open) => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(format!("parentheses nest deeper than {MAX_DEPTH}"));
                }
                let inner = self.or()?;
                self.depth -= 1;
                match self.next() {
                    Some(Tok::Close) => Ok(inner),
                    _ => Err("missing ')'".into()),
                }
            }
            Some(Tok::Selector(s)) => {
                let selector = parse_selector(&s)?;
                let test = self.test()?;
                Ok(JsonPattern::Test(selector, test))
            }
            other => Err(format!("expected a selector like $.field, found {other:?}")),
        }
    }

    fn test(&mut self) -> Result<Test, String> {
        match self.next() {
            Some(Tok::Op(op)) => match self.next() {
                Some(Tok::Quoted(v)) => text_test(op, v),
                Some(Tok::Word(w)) => match w.parse::<f64>() {
                    Ok(n) => Ok(Test::Number(op, n)),
                    Err(_) => text_test(op, w),
                },
                other => Err(format!("expected a value after the operator, found {other:?}")),
            },
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("IS") => match self.next() {
                Some(Tok::Word(v)) if v.eq_ignore_ascii_case("TRUE") => Ok(Test::IsBool(true)),
                Some(Tok::Word(v)) if v.eq_ignore_ascii_case("FALSE") => Ok(Test::IsBool(false)),
                Some(Tok::Word(v)) if v.eq_ignore_ascii_case("NULL") => Ok(Test::IsNull),
                _ => Err("IS must be followed by TRUE, FALSE or NULL".into()),
            },
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("NOT") => match self.next() {
                Some(Tok::Word(v)) if v.eq_ignore_ascii_case("EXISTS") => Ok(Test::NotExists),
                _ => Err("NOT must be followed by EXISTS".into()),
            },
            other => Err(format!("expected an operator, found {other:?}")),
        }
    }
}

fn text_test(op: Op, v: String) -> Result<Test, String> {
    match op {
        Op::Eq | Op::Ne => Ok(Test::Text(op, v)),
        _ => Err(format!("'{v}' is not a number; strings compare only with = and !=")),
    }
}

impl JsonPattern {
    pub fn parse(p: &str) -> Result<JsonPattern, String> {
        let body = p
            .trim()
            .strip_prefix('{')
            .and_then(|r| r.strip_suffix('}'))
            .ok_or("a JSON filter pattern is enclosed in { }")?;
        let mut parser = Parser { toks: tokenize(body)?, at: 0, depth: 0 };
        let pattern = parser.or()?;
        if parser.at < parser.toks.len() {
            return Err(format!("unexpected {:?}", parser.toks[parser.at]));
        }
        Ok(pattern)
    }

    pub fn matches(&self, message: &str) -> bool {
        match serde_json::from_str::<Value>(message.trim()) {
            Ok(v @ Value::Object(_)) => self.eval(&v),
            _ => false,
        }
    }

    fn eval(&self, doc: &Value) -> bool {
        match self {
            JsonPattern::And(a, b) => a.eval(doc) && b.eval(doc),
            JsonPattern::Or(a, b) => a.eval(doc) || b.eval(doc),
            JsonPattern::Test(sel, test) => {
                let field = select(doc, sel);
                match test {
                    Test::NotExists => field.is_none(),
                    Test::IsNull => field.is_some_and(Value::is_null),
                    Test::IsBool(b) => field.and_then(Value::as_bool) == Some(*b),
                    Test::Number(op, n) => field.and_then(Value::as_f64).is_some_and(|f| compare(*op, f, *n)),
                    Test::Text(op, pattern) => {
                        let Some(field) = field else { return false };
                        let text = match field {
                            Value::String(s) => s.clone(),
                            Value::Null | Value::Array(_) | Value::Object(_) => return false,
                            other => other.to_string(),
                        };
                        glob(pattern, &text) == (*op == Op::Eq)
                    }
                }
            }
        }
    }
}

fn select<'a>(doc: &'a Value, sel: &Selector) -> Option<&'a Value> {
    sel.iter().try_fold(doc, |v, step| match step {
        Step::Key(k) => v.get(k.as_str()),
        Step::Index(i) => v.get(*i),
    })
}

fn compare(op: Op, a: f64, b: f64) -> bool {
    match op {
        Op::Eq => a == b,
        Op::Ne => a != b,
        Op::Lt => a < b,
        Op::Le => a <= b,
        Op::Gt => a > b,
        Op::Ge => a >= b,
    }
}

/// `*` matches any run of characters; everything else matches itself.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, msg: &str) -> bool {
        JsonPattern::parse(p).unwrap().matches(msg)
    }

    const EV: &str = r#"{"level":"ERROR","latency":250,"user":{"name":"admin","id":7},"tags":["a","b"],"ok":false,"gone":null}"#;

    #[test]
    fn string_equality_and_wildcards() {
        assert!(m(r#"{ $.level = "ERROR" }"#, EV));
        assert!(!m(r#"{ $.level = "WARN" }"#, EV));
        assert!(m(r#"{ $.level != "WARN" }"#, EV));
        assert!(m(r#"{ $.user.name = "adm*" }"#, EV));
        assert!(m(r#"{ $.user.name = *min }"#, EV));
        assert!(m(r#"{$.level=ERROR}"#, EV));
        assert!(m(r#"{ $.tags[1] = "b" }"#, EV));
    }

    #[test]
    fn numeric_comparisons() {
        assert!(m("{ $.latency > 100 }", EV));
        assert!(m("{ $.latency >= 250 }", EV));
        assert!(!m("{ $.latency < 250 }", EV));
        assert!(m("{ $.user.id = 7 }", EV));
        assert!(!m("{ $.level > 1 }", EV));
    }

    #[test]
    fn boolean_null_and_existence() {
        assert!(m("{ $.ok IS FALSE }", EV));
        assert!(!m("{ $.ok IS TRUE }", EV));
        assert!(m("{ $.gone IS NULL }", EV));
        assert!(m("{ $.missing NOT EXISTS }", EV));
        assert!(!m("{ $.level NOT EXISTS }", EV));
    }

    #[test]
    fn and_or_parentheses() {
        assert!(m(r#"{ $.level = "ERROR" && $.latency > 100 }"#, EV));
        assert!(!m(r#"{ $.level = "ERROR" && $.latency > 1000 }"#, EV));
        assert!(m(r#"{ $.level = "WARN" || $.latency > 100 }"#, EV));
        assert!(m(r#"{ ($.level = "WARN" || $.level = "ERROR") && $.user.id = 7 }"#, EV));
    }

    #[test]
    fn only_json_objects_match() {
        assert!(!m(r#"{ $.level = "ERROR" }"#, "ERROR plain text"));
        assert!(!m(r#"{ $.level = "ERROR" }"#, "[1,2]"));
    }

    #[test]
    fn malformed_patterns_are_errors() {
        for bad in ["{ $.a = }", "{ level = 1 }", "{ $.a > \"x\" }", "{ ($.a = 1 }", "{ $.a = 1 & $.b = 2 }", "$.a = 1", "{ $ = 1 }"] {
            assert!(JsonPattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("{{ {}$.a = 1{} }}", "(".repeat(500), ")".repeat(500));
        assert!(JsonPattern::parse(&deep).is_err());
        let ok = format!("{{ {}$.a = 1{} }}", "(".repeat(10), ")".repeat(10));
        assert!(m(&ok, r#"{"a":1}"#));
    }

    #[test]
    fn glob_rules() {
        assert!(glob("a*c", "abbbc"));
        assert!(glob("*", ""));
        assert!(!glob("a*c", "ab"));
        assert!(glob("a*b*c", "aXbYc"));
        assert!(!glob("ab*ba", "aba"));
    }
}
