//! Reading a scenario file from disk with a bound (issue 13, item 11): at most
//! [`MAX_BYTES`](crate::scenario::MAX_BYTES) + 1 bytes are read whatever the path is, so
//! `/dev/zero`, a FIFO fed by `yes` or a file that grows while it is read give "too large" at
//! once instead of reading without end. Pipes and FIFOs stay usable (`check /dev/stdin`,
//! `check <(…)`): their size is known only by reading, so the bound is on the bytes read, not
//! on the metadata.

use crate::scenario::MAX_BYTES;
use std::fmt;
use std::io::Read;
use std::path::Path;

/// Why a scenario file could not be read as text.
#[derive(Debug)]
pub enum ReadError {
    /// The operating system's error (no such file, permission denied, a directory, …).
    Io { file: String, error: std::io::Error },
    /// More than [`MAX_BYTES`] bytes (the metadata said so, or reading found more).
    TooLarge { file: String, limit: usize },
    /// The bytes are not UTF-8; `offset` is the first byte that is not.
    NotUtf8 { file: String, offset: usize },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io { file, error } => write!(f, "{file}: {error}"),
            ReadError::TooLarge { file, limit } => write!(f, "{file}: file is larger than {limit} bytes (the limit of a scenario file)"),
            ReadError::NotUtf8 { file, offset } => write!(f, "{file}: not UTF-8 text (invalid or overlong UTF-8 at byte {offset}); save it as UTF-8"),
        }
    }
}

impl std::error::Error for ReadError {}

/// Reads the file at `path` as UTF-8 text of at most [`MAX_BYTES`] bytes.
pub fn read_scenario_text(path: impl AsRef<Path>) -> Result<String, ReadError> {
    read_bounded(path.as_ref(), MAX_BYTES)
}

/// Reads at most `limit` bytes of the file at `path` as UTF-8 text; one byte more is an error.
pub fn read_bounded(path: &Path, limit: usize) -> Result<String, ReadError> {
    let file = path.display().to_string();
    let io = |error| ReadError::Io { file: file.clone(), error };
    let f = std::fs::File::open(path).map_err(io)?;
    // A regular file that says it is too large is refused before anything is read.
    if let Ok(meta) = f.metadata() {
        if meta.is_file() && meta.len() > limit as u64 {
            return Err(ReadError::TooLarge { file, limit });
        }
    }
    let mut bytes = Vec::new();
    f.take(limit as u64 + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() > limit {
        return Err(ReadError::TooLarge { file, limit });
    }
    String::from_utf8(bytes).map_err(|e| ReadError::NotUtf8 { file, offset: e.utf8_error().valid_up_to() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn dev_zero_is_too_large_not_endless() {
        let e = read_bounded(Path::new("/dev/zero"), 1000).unwrap_err();
        assert!(matches!(e, ReadError::TooLarge { limit: 1000, .. }), "{e}");
    }

    #[test]
    fn overlong_utf8_names_the_byte() {
        let dir = std::env::temp_dir().join(format!("cpm-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("overlong.json");
        std::fs::write(&p, b"{\"a\":\"\xc0\xaf\"}").unwrap();
        let e = read_bounded(&p, 1000).unwrap_err().to_string();
        assert!(e.contains("at byte 6"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
