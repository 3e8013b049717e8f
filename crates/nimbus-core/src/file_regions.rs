//! Memory known to be a file's contents, mapped read-only: the registry that lets the
//! socket writer send such bytes straight from the page cache (`sendfile`) instead of
//! copying them out of the mapping into the socket.
//!
//! A large GET's body is a slice of a whole-file mapping. Written to a socket, its
//! bytes are copied once into the kernel and once more out of it by the reader; sent
//! with `sendfile`, the socket takes the page-cache pages themselves and only the
//! reader copies. The service that owns a mapping registers it here for as long as
//! the mapping lives; the writer looks up the address of each large buffer it is
//! handed. Only immutable files may be registered: what the file holds and what the
//! mapping shows must stay the same.

use std::collections::BTreeMap;
use std::fs::File;
use std::sync::Arc;

use parking_lot::RwLock;

struct Region {
    len: usize,
    file: Arc<File>,
    /// The file offset of the region's first byte.
    file_offset: u64,
}

static REGIONS: RwLock<BTreeMap<usize, Region>> = parking_lot::const_rwlock(BTreeMap::new());

/// A registered region; dropping it unregisters the region. Drop it before the memory
/// is unmapped, so the address is never looked up after it could be reused.
#[must_use = "the region is unregistered when this is dropped"]
pub struct Registration {
    start: usize,
}

/// Registers `bytes`, which are `file`'s contents from `file_offset` on, mapped.
pub fn register(bytes: &[u8], file: Arc<File>, file_offset: u64) -> Registration {
    let start = bytes.as_ptr() as usize;
    REGIONS.write().insert(start, Region { len: bytes.len(), file, file_offset });
    Registration { start }
}

impl Drop for Registration {
    fn drop(&mut self) {
        REGIONS.write().remove(&self.start);
    }
}

/// The file and offset `bytes` can be read from, if they lie wholly inside one
/// registered region.
pub fn find(bytes: &[u8]) -> Option<(Arc<File>, u64)> {
    let start = bytes.as_ptr() as usize;
    let regions = REGIONS.read();
    let (&region_start, region) = regions.range(..=start).next_back()?;
    let offset = start - region_start;
    if offset.checked_add(bytes.len())? > region.len {
        return None;
    }
    Some((region.file.clone(), region.file_offset + offset as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_only_bytes_inside_a_live_region() {
        let path = std::env::temp_dir().join(format!("nimbus-file-regions-{}", std::process::id()));
        std::fs::write(&path, b"0123456789").unwrap();
        let file = Arc::new(File::open(&path).unwrap());
        let memory = vec![0u8; 12];
        let other = vec![0u8; 4];
        {
            let _registered = register(&memory[..10], file, 100);
            let (_, offset) = find(&memory[3..7]).unwrap();
            assert_eq!(offset, 103);
            assert_eq!(find(&memory[..10]).map(|(_, o)| o), Some(100));
            assert!(find(&other).is_none(), "unregistered memory");
            assert!(find(&memory[8..12]).is_none(), "reaches past the region's end");
        }
        assert!(find(&memory[3..7]).is_none(), "unregistered on drop");
        let _ = std::fs::remove_file(&path);
    }
}
