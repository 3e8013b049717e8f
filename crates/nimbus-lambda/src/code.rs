//! Deployment packages: a zip per code version, unpacked once into a directory named
//! by its SHA-256 (`<lambda dir>/code/<hex>/`), kept beside the zip itself.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use base64::Engine;
use nimbus_core::AwsError;
use sha2::{Digest, Sha256};

use crate::errors;

/// Largest zip accepted in a request (AWS: 50 MB zipped, as base64 in a JSON body).
pub const MAX_ZIPPED: usize = 50 * 1024 * 1024;
/// Largest unpacked code (AWS: 250 MB).
pub const MAX_UNZIPPED: u64 = 262_144_000;

/// Code that is unpacked and ready to run.
#[derive(Debug, Clone)]
pub struct StoredCode {
    /// Hex SHA-256: the directory name.
    pub hex: String,
    /// Base64 SHA-256, as FunctionConfiguration.CodeSha256.
    pub sha256: String,
    pub size: u64,
}

/// Decodes a base64 ZipFile member.
pub fn decode_zip(b64: &str, operation: &str) -> Result<Vec<u8>, AwsError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.as_bytes())
        .map_err(|_| errors::invalid_parameter("ZipFile is not valid base64."))?;
    if bytes.len() > MAX_ZIPPED {
        return Err(errors::too_large(&format!(
            "Request must be smaller than {} bytes for the {operation} operation",
            MAX_ZIPPED + 20 * 1024 * 1024
        )));
    }
    Ok(bytes)
}

pub fn code_dir(root: &Path, hex: &str) -> PathBuf {
    root.join("code").join(hex)
}

/// Stores and unpacks `zip` (blocking: call from `spawn_blocking`).
pub fn store(root: &Path, zip: &[u8]) -> Result<StoredCode, AwsError> {
    let digest = Sha256::digest(zip);
    let hex = hex_string(&digest);
    let sha256 = base64::engine::general_purpose::STANDARD.encode(digest);
    let size = zip.len() as u64;
    let code_root = root.join("code");
    let dir = code_dir(root, &hex);
    if dir.is_dir() {
        return Ok(StoredCode { hex, sha256, size });
    }
    let bad_zip = || {
        errors::invalid_parameter("Could not unzip uploaded file. Please check your file, then try to upload again.")
    };
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).map_err(|_| bad_zip())?;
    let mut unzipped: u64 = 0;
    for i in 0..archive.len() {
        let f = archive.by_index(i).map_err(|_| bad_zip())?;
        unzipped = unzipped.saturating_add(f.size());
    }
    if unzipped > MAX_UNZIPPED {
        return Err(errors::invalid_parameter(format!(
            "Unzipped size must be smaller than {MAX_UNZIPPED} bytes"
        )));
    }
    std::fs::create_dir_all(&code_root).map_err(|e| AwsError::internal(format!("cannot create code directory: {e}")))?;
    let tmp = code_root.join(format!("{hex}.tmp-{}", nimbus_core::ids::uuid4()));
    // `extract` refuses entries that escape the directory and keeps unix modes.
    if archive.extract(&tmp).is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(bad_zip());
    }
    let zip_path = code_root.join(format!("{hex}.zip"));
    let zip_tmp = code_root.join(format!("{hex}.zip.tmp-{}", nimbus_core::ids::uuid4()));
    let kept = std::fs::write(&zip_tmp, zip).and_then(|_| std::fs::rename(&zip_tmp, &zip_path));
    if let Err(e) = kept {
        let _ = std::fs::remove_file(&zip_tmp);
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(AwsError::internal(format!("cannot store code: {e}")));
    }
    if let Err(e) = std::fs::rename(&tmp, &dir) {
        let _ = std::fs::remove_dir_all(&tmp);
        // Another request unpacked the same code meanwhile.
        if !dir.is_dir() {
            return Err(AwsError::internal(format!("cannot store code: {e}")));
        }
    }
    Ok(StoredCode { hex, sha256, size })
}

/// Removes every stored package (directory and zip) whose hex is not in `keep`
/// (blocking); returns how many were removed.
pub fn collect(root: &Path, keep: &std::collections::HashSet<String>) -> usize {
    let Ok(entries) = std::fs::read_dir(root.join("code")) else { return 0 };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let hex = name.strip_suffix(".zip").unwrap_or(&name);
        // Only finished packages: 64 hex digits (temporary names carry a suffix).
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) || keep.contains(hex) {
            continue;
        }
        let path = entry.path();
        let gone = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
        if gone.is_ok() {
            removed += 1;
        }
    }
    removed
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    pub fn make_zip(files: &[(&str, &str)]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, body) in files {
            w.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            w.write_all(body.as_bytes()).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn stores_unpacks_and_rejects_garbage() {
        let root = std::env::temp_dir().join(format!("nimbus-lambda-code-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let zip = make_zip(&[("handler.py", "def handler(e, c):\n    return 1\n"), ("pkg/mod.py", "X = 1\n")]);
        let c = store(&root, &zip).unwrap();
        assert_eq!(c.size, zip.len() as u64);
        assert!(code_dir(&root, &c.hex).join("pkg/mod.py").is_file());
        assert_eq!(store(&root, &zip).unwrap().hex, c.hex);
        let e = store(&root, b"not a zip").unwrap_err();
        assert_eq!(e.code, "InvalidParameterValueException");
        let mut keep = std::collections::HashSet::from([c.hex.clone()]);
        assert_eq!(collect(&root, &keep), 0, "a package in use stays");
        keep.clear();
        assert_eq!(collect(&root, &keep), 2, "its directory and zip go once unused");
        assert!(!code_dir(&root, &c.hex).exists());
        let _ = std::fs::remove_dir_all(&root);
    }
}
