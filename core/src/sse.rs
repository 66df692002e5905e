//! An incremental reader of server-sent events (the `text/event-stream` format), fed byte chunks
//! split anywhere: mid-line, mid-event, mid-UTF-8 character.

/// One server-sent event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, if one was given.
    pub event: Option<String>,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
}

/// Reads events from chunks of bytes.
///
/// Bytes are buffered until a line is complete, and only complete lines are decoded, so a
/// character split across chunks is never broken. Lines end with `\n`, `\r\n` or `\r`.
#[derive(Debug, Default)]
pub struct SseReader {
    buffer: Vec<u8>,
    /// A `\r` ended the last chunk: a `\n` starting the next one belongs to it.
    pending_cr: bool,
    event: Option<String>,
    data: Vec<String>,
    has_data: bool,
}

/// The most bytes one line may hold before the stream is judged malformed (16 MiB).
pub const MAX_LINE: usize = 16 * 1024 * 1024;

/// A stream that cannot be read as server-sent events.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    /// A line is not UTF-8.
    #[error("the event stream is not valid UTF-8")]
    InvalidUtf8,
    /// A line exceeds [`MAX_LINE`] bytes.
    #[error("an event stream line exceeds {MAX_LINE} bytes")]
    LineTooLong,
}

impl SseReader {
    /// A reader at the start of a stream.
    pub fn new() -> SseReader {
        SseReader::default()
    }

    /// Takes the next chunk; returns the events it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        let mut events = Vec::new();
        let mut chunk = chunk;
        if self.pending_cr && !chunk.is_empty() {
            self.pending_cr = false;
            if let Some(rest) = chunk.strip_prefix(b"\n") {
                chunk = rest;
            }
        }
        let mut start = 0;
        let mut i = 0;
        while i < chunk.len() {
            let b = chunk[i];
            if b == b'\n' || b == b'\r' {
                let line_end = i;
                if b == b'\r' {
                    match chunk.get(i + 1) {
                        Some(b'\n') => i += 1,
                        Some(_) => {}
                        None => self.pending_cr = true,
                    }
                }
                if self.buffer.is_empty() {
                    self.line(&chunk[start..line_end], &mut events)?;
                } else {
                    self.buffer.extend_from_slice(&chunk[start..line_end]);
                    let line = std::mem::take(&mut self.buffer);
                    self.line(&line, &mut events)?;
                }
                start = i + 1;
            }
            i += 1;
        }
        self.buffer.extend_from_slice(&chunk[start..]);
        if self.buffer.len() > MAX_LINE {
            return Err(SseError::LineTooLong);
        }
        Ok(events)
    }

    /// Ends the stream: an event whose blank line never came is still delivered.
    pub fn finish(&mut self) -> Result<Option<SseEvent>, SseError> {
        if !self.buffer.is_empty() {
            let line = std::mem::take(&mut self.buffer);
            // A non-empty line only adds a field; it cannot complete an event.
            self.line(&line, &mut Vec::new())?;
        }
        Ok(self.dispatch())
    }

    fn line(&mut self, line: &[u8], events: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if line.is_empty() {
            if let Some(event) = self.dispatch() {
                events.push(event);
            }
            return Ok(());
        }
        let line = std::str::from_utf8(line).map_err(|_| SseError::InvalidUtf8)?;
        if line.starts_with(':') {
            return Ok(()); // a comment
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" => {
                self.data.push(value.to_owned());
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_owned()),
            _ => {} // `id`, `retry` and unknown fields are not needed here
        }
        Ok(())
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = self.event.take();
        if !std::mem::take(&mut self.has_data) {
            return None;
        }
        let data = std::mem::take(&mut self.data).join("\n");
        Some(SseEvent { event, data })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut r = SseReader::new();
        let mut out = Vec::new();
        for c in chunks {
            out.extend(r.push(c).unwrap());
        }
        out.extend(r.finish().unwrap());
        out
    }

    #[test]
    fn reads_events_fields_and_comments() {
        let events = read_all(&[b": keep-alive\n\nevent: message_start\ndata: {\"a\":1}\n\ndata: x\ndata: y\n\nid: 3\nretry: 10\n\n"]);
        assert_eq!(
            events,
            vec![
                SseEvent {
                    event: Some("message_start".into()),
                    data: "{\"a\":1}".into()
                },
                SseEvent {
                    event: None,
                    data: "x\ny".into()
                },
            ]
        );
    }

    #[test]
    fn any_split_gives_the_same_events() {
        let text = "event: e\r\ndata: café ☕\r\n\r\ndata:no-space\r\rdata: last\n".as_bytes();
        let whole = read_all(&[text]);
        assert_eq!(whole.len(), 3);
        assert_eq!(whole[0].data, "café ☕");
        assert_eq!(whole[1].data, "no-space");
        assert_eq!(
            whole[2].data, "last",
            "an unterminated last event is delivered at the end"
        );
        for i in 0..=text.len() {
            for j in i..=text.len() {
                assert_eq!(
                    read_all(&[&text[..i], &text[i..j], &text[j..]]),
                    whole,
                    "split {i} {j}"
                );
            }
        }
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let mut r = SseReader::new();
        assert_eq!(r.push(b"data: \xff\xfe\n"), Err(SseError::InvalidUtf8));
    }
}
