//! Splits a log stream into records without ever holding more than one
//! record (at most [`MAX_RECORD_BYTES`]) and a read buffer:
//!
//! - **lines** (NDJSON, or any text): one record per line, `\n` or `\r\n`;
//!   blank lines are no records;
//! - **a JSON array** of objects, when the stream starts with `[` and then
//!   `{` or `]` (after whitespace and a UTF-8 byte order mark): one record
//!   per element, however the array is laid out (one line, pretty-printed);
//!   several arrays in a row (saved drain deliveries) are read the same way.
//!   If the stream stops being arrays of objects, the rest is read as lines.
//!
//! A record over [`MAX_RECORD_BYTES`] is reported as [`Record::TooLong`]
//! without being buffered. gzip input (by its magic bytes) is decompressed
//! on the fly by [`open`].

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

/// The longest record read; a longer one is skipped and counted.
pub const MAX_RECORD_BYTES: usize = 64 * 1024;
const READ_BUFFER: usize = 256 * 1024;
/// The UTF-8 byte order mark, which a stream may start with.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One record of the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record<'a> {
    /// The record's bytes, without its line ending.
    Bytes(&'a [u8]),
    /// A record over [`MAX_RECORD_BYTES`].
    TooLong,
}

/// A buffered reader of `path` (`-` is stdin), decompressing gzip.
pub fn open(path: &Path) -> io::Result<Box<dyn BufRead>> {
    let raw: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path)?)
    };
    let mut reader = BufReader::with_capacity(READ_BUFFER, raw);
    let head = loop {
        match reader.fill_buf() {
            Ok(head) => break head,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    };
    if head.starts_with(&[0x1f, 0x8b]) {
        let gunzip = flate2::bufread::MultiGzDecoder::new(reader);
        Ok(Box::new(BufReader::with_capacity(READ_BUFFER, gunzip)))
    } else {
        Ok(Box::new(reader))
    }
}

/// Feeds every record of `reader` to `sink`, in order.
pub fn scan(mut reader: impl BufRead, sink: &mut impl FnMut(Record<'_>)) -> io::Result<()> {
    let mut scanner = Scanner::default();
    loop {
        let buf = match reader.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            scanner.finish(sink);
            return Ok(());
        }
        let len = buf.len();
        scanner.feed(buf, sink);
        reader.consume(len);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Mode {
    /// Nothing significant seen yet.
    #[default]
    Start,
    Lines,
    /// Outside any array, between arrays.
    Between,
    /// After `[`: whitespace, then `{` or `]`.
    Open,
    /// Inside an element.
    Element {
        depth: u32,
        in_string: bool,
        escaped: bool,
    },
    /// After an element: whitespace, then `,` or `]`.
    After,
    /// After `,`: whitespace, then `{` (or `]`, a trailing comma).
    Comma,
}

#[derive(Debug, Default)]
struct Scanner {
    mode: Mode,
    /// The record (or undecided start) so far, when it spans reads.
    pending: Vec<u8>,
    /// The current record is over the limit: its bytes are dropped.
    too_long: bool,
}

impl Scanner {
    fn feed(&mut self, buf: &[u8], sink: &mut impl FnMut(Record<'_>)) {
        match self.mode {
            Mode::Start => self.start(buf, sink),
            Mode::Lines => self.lines(buf, sink),
            _ => self.array(buf, sink),
        }
    }

    /// Decides between lines and arrays from the first significant bytes.
    fn start(&mut self, buf: &[u8], sink: &mut impl FnMut(Record<'_>)) {
        self.pending.extend_from_slice(buf);
        let head = self.pending.strip_prefix(BOM).unwrap_or(&self.pending);
        let mut significant = head.iter().filter(|b| !b.is_ascii_whitespace());
        let decided = match (significant.next(), significant.next()) {
            _ if self.pending.len() < BOM.len() && BOM.starts_with(&self.pending) => None,
            (Some(b'['), Some(b'{' | b']')) => Some(Mode::Between),
            (Some(b'['), None) if self.pending.len() < MAX_RECORD_BYTES => None,
            (None, None) if self.pending.len() < MAX_RECORD_BYTES => None,
            _ => Some(Mode::Lines),
        };
        if let Some(mode) = decided {
            let mut held = std::mem::take(&mut self.pending);
            if held.starts_with(BOM) {
                held.drain(..BOM.len());
            }
            self.mode = mode;
            self.feed(&held, sink);
        }
    }

    fn finish(&mut self, sink: &mut impl FnMut(Record<'_>)) {
        match self.mode {
            Mode::Start => {
                let held = std::mem::take(&mut self.pending);
                self.mode = Mode::Lines;
                self.lines(&held, sink);
                self.finish(sink);
            }
            // A last line without a newline; or an element cut short.
            Mode::Lines | Mode::Element { .. } => self.emit_pending(sink),
            _ => {}
        }
    }

    /// Adds to the current record, or drops it once it is too long (+ 1:
    /// room for the `\r` of a `\r\n` ending, which [`emit`] strips).
    fn hold(&mut self, bytes: &[u8]) {
        if self.too_long {
            return;
        }
        if self.pending.len() + bytes.len() > MAX_RECORD_BYTES + 1 {
            self.too_long = true;
            self.pending = Vec::new();
        } else {
            self.pending.extend_from_slice(bytes);
        }
    }

    fn emit_pending(&mut self, sink: &mut impl FnMut(Record<'_>)) {
        if self.too_long {
            sink(Record::TooLong);
        } else {
            emit(&self.pending, sink);
        }
        self.pending.clear();
        self.too_long = false;
    }

    fn lines(&mut self, buf: &[u8], sink: &mut impl FnMut(Record<'_>)) {
        let mut rest = buf;
        while let Some(end) = memchr::memchr(b'\n', rest) {
            let line = &rest[..end];
            if self.pending.is_empty() && !self.too_long {
                // The whole line is in this read: no copy.
                if line.len() > MAX_RECORD_BYTES + 1 {
                    sink(Record::TooLong);
                } else {
                    emit(line, sink);
                }
            } else {
                self.hold(line);
                self.emit_pending(sink);
            }
            rest = &rest[end + 1..];
        }
        self.hold(rest);
    }

    fn array(&mut self, buf: &[u8], sink: &mut impl FnMut(Record<'_>)) {
        let mut i = 0;
        // Where the current element's bytes in this read begin.
        let mut from = 0;
        while i < buf.len() {
            let byte = buf[i];
            match &mut self.mode {
                Mode::Element {
                    depth,
                    in_string,
                    escaped,
                } => {
                    if *in_string {
                        if *escaped {
                            *escaped = false;
                        } else if byte == b'\\' {
                            *escaped = true;
                        } else if byte == b'"' {
                            *in_string = false;
                        }
                    } else {
                        match byte {
                            b'"' => *in_string = true,
                            b'{' | b'[' => *depth += 1,
                            b'}' | b']' => *depth -= 1,
                            _ => {}
                        }
                        if *depth == 0 {
                            self.hold(&buf[from..=i]);
                            self.emit_pending(sink);
                            self.mode = Mode::After;
                        }
                    }
                }
                _ if byte.is_ascii_whitespace() => {}
                Mode::Between if byte == b'[' => self.mode = Mode::Open,
                Mode::Open | Mode::Comma if byte == b'{' => {
                    self.mode = Mode::Element {
                        depth: 1,
                        in_string: false,
                        escaped: false,
                    };
                    from = i;
                }
                Mode::Open | Mode::After | Mode::Comma if byte == b']' => {
                    self.mode = Mode::Between;
                }
                Mode::After if byte == b',' => self.mode = Mode::Comma,
                _ => {
                    // Not an array of objects any more: the rest is lines,
                    // from this byte on (and the `[` just before it).
                    self.pending.clear();
                    if self.mode == Mode::Open {
                        self.pending.push(b'[');
                    }
                    self.mode = Mode::Lines;
                    self.too_long = false;
                    self.lines(&buf[i..], sink);
                    return;
                }
            }
            i += 1;
        }
        if matches!(self.mode, Mode::Element { .. }) {
            self.hold(&buf[from..]);
        }
    }
}

/// Emits a line or element, without a trailing `\r`, unless it is blank.
fn emit(bytes: &[u8], sink: &mut impl FnMut(Record<'_>)) {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    if bytes.len() > MAX_RECORD_BYTES {
        sink(Record::TooLong);
    } else if !bytes.iter().all(u8::is_ascii_whitespace) {
        sink(Record::Bytes(bytes));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The records of `input` read in chunks of `chunk` bytes.
    fn records(input: &[u8], chunk: usize) -> Vec<String> {
        let reader = BufReader::with_capacity(chunk, input);
        let mut out = Vec::new();
        scan(reader, &mut |r| {
            out.push(match r {
                Record::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
                Record::TooLong => "<too long>".to_owned(),
            })
        })
        .unwrap();
        out
    }

    fn every_chunking(input: &[u8], want: &[&str]) {
        for chunk in [1, 2, 3, 7, 64, 1 << 20] {
            assert_eq!(records(input, chunk), want, "chunk {chunk}");
        }
    }

    #[test]
    fn lines_with_any_endings_and_no_blank_records() {
        every_chunking(
            b"a\r\n\nb\n  \n{\"x\":1}\nlast",
            &["a", "b", "{\"x\":1}", "last"],
        );
    }

    #[test]
    fn a_pretty_printed_array_gives_its_elements() {
        let input = b"\xEF\xBB\xBF [\n  {\"m\": \"a]}\\\"{\"},\n  {\"n\": [1, {\"k\": 2}]}\n]\n";
        every_chunking(
            input,
            &["{\"m\": \"a]}\\\"{\"}", "{\"n\": [1, {\"k\": 2}]}"],
        );
    }

    #[test]
    fn arrays_in_a_row_then_lines() {
        let input = b"[{\"a\":1},{\"b\":2}]\n[]\n[{\"c\":3},]\nplain text\n[not json\n";
        every_chunking(
            input,
            &[
                "{\"a\":1}",
                "{\"b\":2}",
                "{\"c\":3}",
                "plain text",
                "[not json",
            ],
        );
    }

    #[test]
    fn a_line_starting_with_a_bracket_is_a_line() {
        every_chunking(b"[INFO] up\n{\"a\":1}\n", &["[INFO] up", "{\"a\":1}"]);
    }

    #[test]
    fn overlong_records_are_skipped_whole() {
        let long = "x".repeat(MAX_RECORD_BYTES + 10);
        let input = format!("a\n{long}\nb\n");
        for chunk in [1000, 1 << 20] {
            assert_eq!(records(input.as_bytes(), chunk), ["a", "<too long>", "b"]);
        }
        // Exactly at the limit is fine, with or without `\r`.
        let max = "y".repeat(MAX_RECORD_BYTES);
        let input = format!("{max}\r\n{max}\n");
        assert_eq!(records(input.as_bytes(), 1000).len(), 2);
        assert!(records(input.as_bytes(), 1000)[0].starts_with('y'));
        // In an array too, and the next element is still read.
        let input = format!("[{{\"m\":\"{long}\"}}, {{\"a\":1}}]");
        assert_eq!(records(input.as_bytes(), 1000), ["<too long>", "{\"a\":1}"]);
    }

    #[test]
    fn a_cut_short_array_element_is_emitted_as_is() {
        every_chunking(b"[{\"a\":1},{\"b\":", &["{\"a\":1}", "{\"b\":"]);
    }

    #[test]
    fn gzip_is_read_through() {
        use std::io::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.gz");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"one\ntwo\n").unwrap();
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        let mut out = Vec::new();
        scan(open(&path).unwrap(), &mut |r| out.push(format!("{r:?}"))).unwrap();
        assert_eq!(out.len(), 2);
        assert!(open(&dir.path().join("missing")).is_err());
    }
}
