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
    /// python3.x under nimbus's bootstrap.py
    Python,
    /// nodejsNN.x under nimbus's bootstrap.js
    Node,
    /// provided / provided.al2 / provided.al2023: the function's own `bootstrap`
    Provided,
}

/// A real interpreter on this machine (not a shim that re-resolves on every start)
/// and its version.
#[derive(Debug)]
pub struct Interpreter {
    pub executable: PathBuf,
    /// `3.11.7`, `20.20.2`
    pub version: String,
}

impl Interpreter {
    /// `3.11` (Python's runtimes are named by minor version)
    pub fn minor(&self) -> &str {
        match self.version.match_indices('.').nth(1) {
            Some((i, _)) => &self.version[..i],
            None => &self.version,
        }
    }

    /// `20` (Node's runtimes are named by major version)
    pub fn major(&self) -> &str {
        self.version.split('.').next().unwrap_or(&self.version)
    }

    /// Whether this interpreter is the one `runtime` names (else functions run on it
    /// with a note in their log).
    pub fn matches(&self, runtime: &str) -> bool {
        match runtime.strip_prefix("python") {
            Some(v) => self.minor() == v,
            None => runtime.strip_prefix("nodejs").and_then(|v| v.strip_suffix(".x")) == Some(self.major()),
        }
    }
}

/// Checks a runtime identifier: the runtimes nimbus runs, with AWS's errors for the
/// others.
pub fn kind(runtime: &str) -> Result<Kind, AwsError> {
    if KNOWN.contains(&runtime) {
        if runtime.starts_with("python3.") {
            return Ok(Kind::Python);
        }
        if runtime.starts_with("nodejs") {
            return Ok(Kind::Node);
        }
        if runtime.starts_with("provided") {
            return Ok(Kind::Provided);
        }
        return Err(errors::invalid_parameter(format!(
            "The runtime {runtime} is not supported by nimbus; it runs python3.x, nodejsNN.x and provided.* (custom runtime) functions."
        )));
    }
    Err(errors::invalid_parameter(format!(
        "Value '{runtime}' at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [{}] or be a valid ARN",
        KNOWN.join(", ")
    )))
}

/// Finds the real interpreter behind `python3` (or `$NIMBUS_PYTHON`) once: pyenv's
/// `python3` is a shell script that costs ~50 ms per start.
pub async fn resolve_python() -> Result<Arc<Interpreter>, String> {
    let candidate = std::env::var("NIMBUS_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let (exe, version) = probe(
        &candidate,
        &["-c", "import sys; print(sys.executable); print('%d.%d.%d' % sys.version_info[:3])"],
    )
    .await?;
    if !version.starts_with("3.") {
        return Err(format!("`{candidate}` is not a Python 3 interpreter"));
    }
    Ok(Arc::new(Interpreter { executable: PathBuf::from(exe), version }))
}

/// Finds `node` (or `$NIMBUS_NODE`) once.
pub async fn resolve_node() -> Result<Arc<Interpreter>, String> {
    let candidate = std::env::var("NIMBUS_NODE").unwrap_or_else(|_| "node".to_string());
    let (exe, version) = probe(&candidate, &["-e", "console.log(process.execPath); console.log(process.versions.node)"]).await?;
    Ok(Arc::new(Interpreter { executable: PathBuf::from(exe), version }))
}

/// Runs `candidate args`, which prints the executable's real path and its version.
async fn probe(candidate: &str, args: &[&str]) -> Result<(String, String), String> {
    let out = tokio::process::Command::new(candidate)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| format!("cannot run `{candidate}`: {e}"))?;
    if !out.status.success() {
        return Err(format!("`{candidate}` failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let exe = lines.next().unwrap_or("").trim().to_string();
    let version = lines.next().unwrap_or("").trim().to_string();
    if exe.is_empty() || version.is_empty() {
        return Err(format!("`{candidate}` did not report its path and version"));
    }
    Ok((exe, version))
}

/// How a `provided.*` bootstrap is started. Amazon Linux 2023's /bin/sh is bash, so a
/// `#!/bin/sh` bootstrap written there may use bash features; where this machine's
/// /bin/sh is another shell (Debian's dash), nimbus runs such scripts with bash.
pub fn provided_command(bootstrap: &std::path::Path) -> (PathBuf, Vec<PathBuf>) {
    let first_line = std::fs::read(bootstrap)
        .ok()
        .and_then(|b| b.split(|c| *c == b'\n').next().map(|l| String::from_utf8_lossy(l).trim().to_string()))
        .unwrap_or_default();
    let sh_is_bash = std::fs::canonicalize("/bin/sh")
        .map(|p| p.file_name().is_some_and(|n| n == "bash"))
        .unwrap_or(false);
    let wants_sh = first_line == "#!/bin/sh" || first_line.starts_with("#!/bin/sh ");
    if wants_sh && !sh_is_bash {
        if let Some(bash) = ["/bin/bash", "/usr/bin/bash"].iter().map(PathBuf::from).find(|p| p.exists()) {
            return (bash, vec![bootstrap.to_path_buf()]);
        }
    }
    (bootstrap.to_path_buf(), Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtimes() {
        assert_eq!(kind("python3.12").unwrap(), Kind::Python);
        assert_eq!(kind("nodejs20.x").unwrap(), Kind::Node);
        assert_eq!(kind("provided.al2023").unwrap(), Kind::Provided);
        assert!(kind("java21").unwrap_err().message.contains("not supported by nimbus"));
        assert_eq!(kind("cobol").unwrap_err().code, "InvalidParameterValueException");
        let p = Interpreter { executable: PathBuf::from("/x"), version: "3.11.7".into() };
        assert_eq!(p.minor(), "3.11");
        assert!(p.matches("python3.11") && !p.matches("python3.12"));
        let n = Interpreter { executable: PathBuf::from("/x"), version: "20.20.2".into() };
        assert!(n.matches("nodejs20.x") && !n.matches("nodejs22.x"));
    }

    #[test]
    fn sh_bootstraps_run_with_bash_where_sh_is_not_bash() {
        let dir = std::env::temp_dir().join(format!("nimbus-rt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("bootstrap");
        std::fs::write(&f, "#!/bin/sh\nset -euo pipefail\n").unwrap();
        let (exe, args) = provided_command(&f);
        let sh_is_bash = std::fs::canonicalize("/bin/sh").unwrap().ends_with("bash");
        if sh_is_bash {
            assert_eq!(exe, f);
        } else {
            assert!(exe.ends_with("bash") && args == vec![f.clone()]);
        }
        std::fs::write(&f, "#!/usr/bin/env python3\n").unwrap();
        assert_eq!(provided_command(&f).0, f);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
