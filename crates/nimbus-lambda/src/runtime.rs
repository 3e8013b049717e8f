//! Which runtimes exist, and the interpreters on this machine that run them.

use std::path::PathBuf;
use std::sync::Arc;

use nimbus_core::AwsError;

use crate::errors;

/// Every runtime identifier AWS accepts for new functions today (and a few it
/// deprecated recently, which nimbus still runs).
const KNOWN: &[&str] = &[
    "python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14", "python3.15",
    "nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x", "nodejs26.x",
    "provided", "provided.al2", "provided.al2023",
    "java8.al2", "java11", "java17", "java21", "java25",
    "dotnet8", "dotnet10", "ruby3.2", "ruby3.3", "ruby3.4",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Python,
}

/// The real Python interpreter (not a shim that re-resolves on every start) and its version.
#[derive(Debug)]
pub struct Python {
    pub executable: PathBuf,
    /// `3.11.7`
    pub version: String,
}

impl Python {
    /// `3.11`
    pub fn minor(&self) -> &str {
        match self.version.match_indices('.').nth(1) {
            Some((i, _)) => &self.version[..i],
            None => &self.version,
        }
    }
}

/// Checks a runtime identifier: the runtimes nimbus runs, with AWS's errors for the
/// others.
pub fn kind(runtime: &str) -> Result<Kind, AwsError> {
    if runtime.starts_with("python3.") && KNOWN.contains(&runtime) {
        return Ok(Kind::Python);
    }
    if KNOWN.contains(&runtime) {
        return Err(errors::invalid_parameter(format!(
            "The runtime {runtime} is not supported by nimbus yet; use a python3.x runtime."
        )));
    }
    Err(errors::invalid_parameter(format!(
        "Value '{runtime}' at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [{}] or be a valid ARN",
        KNOWN.join(", ")
    )))
}

/// Finds the real interpreter behind `python3` (or `$NIMBUS_PYTHON`) once: pyenv's
/// `python3` is a shell script that costs ~50 ms per start.
pub async fn resolve_python() -> Result<Arc<Python>, String> {
    let candidate = std::env::var("NIMBUS_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let out = tokio::process::Command::new(&candidate)
        .arg("-c")
        .arg("import sys; print(sys.executable); print('%d.%d.%d' % sys.version_info[:3])")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| format!("cannot run `{candidate}`: {e}"))?;
    if !out.status.success() {
        return Err(format!("`{candidate}` failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let exe = lines.next().unwrap_or("").trim();
    let version = lines.next().unwrap_or("").trim().to_string();
    if exe.is_empty() || !version.starts_with("3.") {
        return Err(format!("`{candidate}` is not a Python 3 interpreter"));
    }
    Ok(Arc::new(Python { executable: PathBuf::from(exe), version }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtimes() {
        assert_eq!(kind("python3.12").unwrap(), Kind::Python);
        assert!(kind("nodejs20.x").unwrap_err().message.contains("not supported by nimbus"));
        assert_eq!(kind("cobol").unwrap_err().code, "InvalidParameterValueException");
        let p = Python { executable: PathBuf::from("/x"), version: "3.11.7".into() };
        assert_eq!(p.minor(), "3.11");
    }
}
