//! Opening an exchange file: detecting its encoding (UTF-8 with or without a
//! BOM, or windows-1251) and its separator (`;`, `,` or tab), unless forced.
//!
//! Nothing is replaced silently: the encoding is detected from the whole file,
//! UTF-8 is handed to the CSV reader as it is (a byte that is not UTF-8 is an
//! error on its line), and a line longer than [`MAX_LINE_BYTES`] stops the
//! import instead of being buffered whole.

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

/// The longest line an exchange file may have, in bytes. The longest real
/// line (an account with a long address and holder) is well under 2 KiB; a
/// longer one means a broken file, and reading it whole would only cost memory.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Detects the encoding of a sample: a UTF-8 BOM or valid UTF-8 means UTF-8,
/// anything else windows-1251. A multi-byte character cut off at the end of
/// the sample still counts as UTF-8.
pub fn detect_encoding(head: &[u8]) -> TextEncoding {
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return TextEncoding::Utf8;
    }
    match std::str::from_utf8(head) {
        Ok(_) => TextEncoding::Utf8,
        Err(e) if e.error_len().is_none() => TextEncoding::Utf8,
        Err(_) => TextEncoding::Windows1251,
    }
}

/// Detects the encoding of a whole stream: UTF-8 only when every byte of it
/// is valid UTF-8 (or it starts with a UTF-8 BOM), windows-1251 otherwise. A
/// file whose first megabytes are plain ASCII is therefore not taken for UTF-8
/// when its Cyrillic text further down is windows-1251.
pub fn detect_encoding_of(mut reader: impl Read) -> std::io::Result<TextEncoding> {
    let mut buf = vec![0u8; 256 * 1024];
    let mut carry = 0usize;
    let mut first = true;
    loop {
        let n = reader.read(&mut buf[carry..])?;
        if n == 0 {
            // Whatever is left is a character cut off by the end of the file.
            return Ok(if carry == 0 {
                TextEncoding::Utf8
            } else {
                TextEncoding::Windows1251
            });
        }
        let filled = carry + n;
        if first && buf[..filled].starts_with(&[0xEF, 0xBB, 0xBF]) {
            return Ok(TextEncoding::Utf8);
        }
        first = false;
        match std::str::from_utf8(&buf[..filled]) {
            Ok(_) => carry = 0,
            Err(e) if e.error_len().is_none() => {
                let valid = e.valid_up_to();
                buf.copy_within(valid..filled, 0);
                carry = filled - valid;
            }
            Err(_) => return Ok(TextEncoding::Windows1251),
        }
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
    let encoding = match options.encoding {
        Some(e) => e,
        None => {
            let detected = detect_encoding_of(BufReader::with_capacity(256 * 1024, &mut file)).map_err(io)?;
            file.seek(SeekFrom::Start(0)).map_err(io)?;
            detected
        }
    };
    let delimiter = options.delimiter.unwrap_or_else(|| {
        let (text, _, _) = encoding.encoding().decode(&head);
        detect_delimiter(text.lines().next().unwrap_or(""))
    });
    let position = Arc::new(AtomicU64::new(0));
    let counted = Counting {
        inner: BufReader::with_capacity(256 * 1024, file),
        position: position.clone(),
    };
    // UTF-8 goes to the CSV reader as it is, so that a byte which is not
    // UTF-8 is reported on its line instead of becoming a replacement
    // character (the header's BOM is trimmed with the column names);
    // windows-1251 maps every byte to a character.
    let capped = LineCap::new(counted);
    let reader: Box<dyn Read + Send> = match encoding {
        TextEncoding::Utf8 => Box::new(capped),
        TextEncoding::Windows1251 => Box::new(
            DecodeReaderBytesBuilder::new()
                .encoding(Some(encoding.encoding()))
                .bom_override(true)
                .build(capped),
        ),
    };
    Ok(Opened {
        reader,
        encoding,
        delimiter,
        size,
        position,
    })
}

/// A line of the file is longer than [`MAX_LINE_BYTES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("строка {line} длиннее {max} байт: файл повреждён или это не файл обмена", max = MAX_LINE_BYTES)]
pub struct LineTooLong {
    /// The line (the header is line 1).
    pub line: u64,
}

/// Passes bytes through and fails as soon as a line grows past
/// [`MAX_LINE_BYTES`], so a file without line breaks is refused while
/// streaming instead of being read into memory whole.
struct LineCap<R> {
    inner: R,
    line: u64,
    since_newline: usize,
}

impl<R> LineCap<R> {
    fn new(inner: R) -> LineCap<R> {
        LineCap {
            inner,
            line: 1,
            since_newline: 0,
        }
    }
}

impl<R: Read> Read for LineCap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            if b == b'\n' {
                self.line += 1;
                self.since_newline = 0;
            } else {
                self.since_newline += 1;
                if self.since_newline > MAX_LINE_BYTES {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        LineTooLong { line: self.line },
                    ));
                }
            }
        }
        Ok(n)
    }
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

    #[test]
    fn the_whole_stream_decides_the_encoding() {
        let mut bytes = "account;holder\n".repeat(10_000).into_bytes();
        let (cp, _, _) = WINDOWS_1251.encode("1;Пётр\n");
        bytes.extend_from_slice(&cp);
        assert_eq!(detect_encoding(&bytes[..64 * 1024]), TextEncoding::Utf8);
        assert_eq!(
            detect_encoding_of(&bytes[..]).ok(),
            Some(TextEncoding::Windows1251)
        );
        let utf = format!("{}1;Пётр\n", "account;holder\n".repeat(10_000));
        assert_eq!(detect_encoding_of(utf.as_bytes()).ok(), Some(TextEncoding::Utf8));
        // A two-byte character split across reads is still UTF-8.
        let mut split = vec![b'a'; 256 * 1024 - 1];
        split.extend_from_slice("ё".as_bytes());
        assert_eq!(detect_encoding_of(&split[..]).ok(), Some(TextEncoding::Utf8));
        // A lone lead byte at the very end is not.
        assert_eq!(
            detect_encoding_of(&b"abc\xD0"[..]).ok(),
            Some(TextEncoding::Windows1251)
        );
    }

    #[test]
    fn long_lines_stop_the_reader() {
        let mut ok = LineCap::new(&b"a;b\nc;d\n"[..]);
        let mut out = Vec::new();
        assert!(ok.read_to_end(&mut out).is_ok());
        let mut data = b"a;b\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', MAX_LINE_BYTES + 1));
        let mut long = LineCap::new(&data[..]);
        let err = long.read_to_end(&mut Vec::new()).err().map(|e| e.to_string());
        assert_eq!(err, Some(LineTooLong { line: 2 }.to_string()));
    }
}
