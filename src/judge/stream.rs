//! Judging a capture as it is read (issue 14, "Performance": "judged natively, streaming, with
//! memory bounded"): the bytes go through the capture reader's streaming parser
//! ([`crate::capture::CaptureReader`], pcap-parser's streaming readers underneath, its memory
//! bounded by its own limits) in pieces of any size, and only the first [`MAX_JUDGED`]
//! messages are kept for the judgement; every later one is read (parsed, counted) and let go.
//! So memory does not grow with the file: the CLI reads a capture of any size, the page's
//! worker pushes a File's slices as they are read.

use super::{judge_messages, JudgeError, Judgement, Options};
use crate::capture::{CaptureError, CaptureReader, CapturedMessage, ConnectionEvent, ConnectionKind, Item};

/// Most messages a judgement covers: a group session of a few hours (a 10,000-message
/// timeline of the model is about 9,000 messages at the PF). Messages read after these are
/// counted in [`Judgement::unjudged`].
pub const MAX_JUDGED: usize = 20_000;

/// A judgement being fed a capture's bytes: [`CaptureJudge::push`] them as they come, then
/// [`CaptureJudge::finish`].
#[derive(Default)]
pub struct CaptureJudge {
    reader: CaptureReader,
    kept: Vec<CapturedMessage>,
    /// The TCP resets among the judged messages (a loss of Carol's MSRP connection the PF sees).
    resets: Vec<ConnectionEvent>,
    unjudged: u64,
    error: Option<CaptureError>,
}

impl CaptureJudge {
    /// A judgement that has read nothing.
    pub fn new() -> Self {
        CaptureJudge { reader: CaptureReader::new(), ..Default::default() }
    }

    /// Reads the next bytes of the capture (any piece size). After an error (a damaged file)
    /// the rest is ignored: [`CaptureJudge::finish`] reports it.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.error.is_some() {
            return;
        }
        if let Err(e) = self.reader.push(bytes) {
            self.error = Some(e);
        }
        self.drain();
    }

    /// Whether the reading has stopped on an error (nothing more need be pushed).
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }

    /// Messages read so far.
    pub fn messages(&self) -> u64 {
        self.kept.len() as u64 + self.unjudged
    }

    fn drain(&mut self) {
        while let Some(item) = self.reader.pop_item() {
            match item {
                Item::Message(m) if self.kept.len() < MAX_JUDGED => self.kept.push(m),
                Item::Message(_) => self.unjudged += 1,
                Item::Connection(c) if c.kind == ConnectionKind::Reset && self.kept.len() < MAX_JUDGED && self.resets.len() < MAX_JUDGED => self.resets.push(c),
                Item::Connection(_) => {}
            }
        }
    }

    /// The end of the capture: the judgement (with both ladders when `ladders`).
    pub fn finish(mut self, opts: Options, ladders: bool) -> Result<Judgement, JudgeError> {
        if self.error.is_none() {
            if let Err(e) = self.reader.finish() {
                self.error = Some(e);
            }
            self.drain();
        }
        let stats = self.reader.stats().clone();
        judge_messages(self.kept, &self.resets, stats, self.error, self.unjudged, opts, ladders)
    }
}

/// Judges a capture read from `input` (a file, a pipe) in 64 KiB pieces, streaming: memory is
/// bounded whatever its size.
pub fn judge_reader<R: std::io::Read>(mut input: R, opts: Options) -> Result<Judgement, JudgeError> {
    let mut c = CaptureJudge::new();
    let mut piece = vec![0u8; 64 * 1024];
    loop {
        let n = match input.read(&mut piece) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                c.error = Some(CaptureError::Io(e.to_string()));
                break;
            }
        };
        c.push(&piece[..n]);
        if c.failed() {
            break;
        }
    }
    c.finish(opts, false)
}
