//! A private `/tmp` per execution environment, as on AWS: where the OS allows (root,
//! or unprivileged mount namespaces), the environment's process gets its own mount
//! namespace with its temporary directory bound over `/tmp`. Elsewhere the
//! environment still has its own TMPDIR (what `tempfile` and friends use), but code
//! that opens literal `/tmp/...` paths shares the machine's `/tmp`.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// What the child does between fork and exec (only async-signal-safe system calls;
/// every path is prepared beforehand).
pub struct PrivateTmp {
    env_tmp: CString,
    slash_tmp: CString,
    /// When nimbus's data directory itself lives under /tmp, it is bound at the same
    /// path inside the private /tmp, so the function's code and runtime stay reachable.
    data_bind: Option<(CString, CString)>,
}

impl PrivateTmp {
    /// Prepares the mounts for an environment whose temporary directory is `env_tmp`
    /// and whose files live under `data_root`.
    pub fn prepare(env_tmp: &Path, data_root: &Path) -> Option<PrivateTmp> {
        let cstr = |p: &Path| CString::new(p.as_os_str().as_bytes()).ok();
        let data_root = std::fs::canonicalize(data_root).ok()?;
        let env_tmp = std::fs::canonicalize(env_tmp).ok()?;
        let data_bind = match data_root.strip_prefix("/tmp") {
            Ok(rel) => {
                // Create the mount point inside the private /tmp, on the host side.
                let inside = env_tmp.join(rel);
                std::fs::create_dir_all(&inside).ok()?;
                Some((cstr(&data_root)?, cstr(&inside)?))
            }
            Err(_) => None,
        };
        Some(PrivateTmp { env_tmp: cstr(&env_tmp)?, slash_tmp: CString::new("/tmp").ok()?, data_bind })
    }

    /// Runs in the child before exec. Any failure leaves the machine's /tmp in place
    /// (the environment keeps its TMPDIR), never a failed start.
    pub fn enter(&self) {
        // SAFETY: plain system calls on NUL-terminated strings prepared before fork.
        unsafe {
            if libc::unshare(libc::CLONE_NEWNS) != 0 {
                return;
            }
            // Nothing mounted here may propagate back to the machine.
            let root = c"/";
            if libc::mount(std::ptr::null(), root.as_ptr(), std::ptr::null(), libc::MS_REC | libc::MS_PRIVATE, std::ptr::null()) != 0 {
                return;
            }
            if let Some((source, target)) = &self.data_bind {
                if libc::mount(source.as_ptr(), target.as_ptr(), std::ptr::null(), libc::MS_BIND, std::ptr::null()) != 0 {
                    return;
                }
            }
            libc::mount(
                self.env_tmp.as_ptr(),
                self.slash_tmp.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND | libc::MS_REC,
                std::ptr::null(),
            );
        }
    }
}
