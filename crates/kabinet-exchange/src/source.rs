//! Opening an exchange file: detecting its encoding (UTF-8 with or without a
//! BOM, or windows-1251) and its separator (`;`, `,` or tab), unless forced.

use crate::ExchangeError;
use encoding_rs::{Encoding, UTF_8, WINDOWS_1251};
use encoding_rs_io::DecodeReaderBytesBuilder;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A text encoding Kabinet reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    /// UTF-8 (a BOM is accepted on input).
    Utf8,
    /// windows-1251, as 1C and other Windows programs write.
    Windows1251,
}

impl TextEncoding {
    /// Parses `utf-8`/`utf8` or `windows-1251`/`cp1251`.
    pub fn parse(name: &str) -> Option<TextEncoding> {
        match name.trim().to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Some(TextEncoding::Utf8),
            "windows-1251" | "cp1251" | "win1251" => Some(TextEncoding::Windows1251),
            _ => None,
        }
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Windows1251 => "windows-1251",
        }
    }

    pub(crate) fn encoding(self) -> &'static Encoding {
        match self {
            TextEncoding::Utf8 => UTF_8,
            TextEncoding::Windows1251 => WINDOWS_1251,
        }
    }
}

/// How to read a file; `None` means detect.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    /// Force the encoding.
    pub encoding: Option<TextEncoding>,
    /// Force the separator.
    pub delimiter: Option<u8>,
}

/// An opened file: decoded to UTF-8, with what was detected.
pub struct Opened {
    /// Decoded text.
    pub reader: Box<dyn Read + Send>,
    /// Encoding in force.
    pub encoding: TextEncoding,
    /// Separator in force.
    pub delimiter: u8,
    /// File size in bytes.
    pub size: u64,
    /// Bytes read so far (for progress).
    pub position: Arc<AtomicU64>,
}

struct Counting<R> {
    inner: R,
    position: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.position.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Detects the encoding of the first bytes of a file: a UTF-8 BOM or valid
/// UTF-8 means UTF-8, anything else windows-1251.
pub fn detect_encoding(head: &[u8]) -> TextEncoding {
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return TextEncoding::Utf8;
    }
    match std::str::from_utf8(head) {
        Ok(_) => TextEncoding::Utf8,
        // A multi-byte character cut off at the end of the sample is still UTF-8.
        Err(e) if e.error_len().is_none() => TextEncoding::Utf8,
        Err(_) => TextEncoding::Windows1251,
    }
}

/// Picks the separator that occurs most often in the header line.
pub fn detect_delimiter(header: &str) -> u8 {
    let count = |c: char| header.chars().filter(|&x| x == c).count();
    let candidates = [(b';', count(';')), (b',', count(',')), (b'\t', count('\t'))];
    candidates
        .iter()
        .max_by_key(|(_, n)| *n)
        .filter(|(_, n)| *n > 0)
        .map_or(b';', |(c, _)| *c)
}

/// Opens `path`, detecting what was not forced.
pub fn open(path: &Path, options: ReadOptions) -> Result<Opened, ExchangeError> {
    let io = |source| ExchangeError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut file = File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    let mut head = vec![0u8; 64 * 1024];
    let mut filled = 0;
    while filled < head.len() {
        let n = file.read(&mut head[filled..]).map_err(io)?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    head.truncate(filled);
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    let encoding = options.encoding.unwrap_or_else(|| detect_encoding(&head));
    let delimiter = options.delimiter.unwrap_or_else(|| {
        let (text, _, _) = encoding.encoding().decode(&head);
        detect_delimiter(text.lines().next().unwrap_or(""))
    });
    let position = Arc::new(AtomicU64::new(0));
    let counted = Counting {
        inner: BufReader::with_capacity(256 * 1024, file),
        position: position.clone(),
    };
    let reader = DecodeReaderBytesBuilder::new()
        .encoding(Some(encoding.encoding()))
        .bom_override(true)
        .build(counted);
    Ok(Opened {
        reader: Box::new(reader),
        encoding,
        delimiter,
        size,
        position,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_encodings_and_separators() {
        let (cp, _, _) = WINDOWS_1251.encode("лицевой;счёт");
        assert_eq!(detect_encoding(&cp), TextEncoding::Windows1251);
        assert_eq!(detect_encoding("лицевой;счёт".as_bytes()), TextEncoding::Utf8);
        assert_eq!(detect_encoding(b"\xEF\xBB\xBFaccount"), TextEncoding::Utf8);
        let utf = "ёё".as_bytes();
        assert_eq!(detect_encoding(&utf[..3]), TextEncoding::Utf8, "cut character");
        assert_eq!(detect_delimiter("a;b;c"), b';');
        assert_eq!(detect_delimiter("a,b,c"), b',');
        assert_eq!(detect_delimiter("a\tb"), b'\t');
        assert_eq!(detect_delimiter("a"), b';');
        assert_eq!(TextEncoding::parse("CP1251"), Some(TextEncoding::Windows1251));
    }
}
