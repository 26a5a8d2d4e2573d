//! One SAM reader over a link (serial or USB): send a command, wait for its response within a
//! bounded time, and the card-reading sequence find → select → read (devices.md §1.9).
//!
//! Blocking by design: the link's own read timeout bounds every wait, and the async
//! [`service`](super::service) runs these calls on blocking threads.

use super::frame::{
    Baud, CardData, Command, DataLengthError, FrameDecoder, FrameError, Response, Sw3,
};
use super::text::{self, TextError};
use super::IdCard;
use std::fmt;
use std::io;
use std::time::{Duration, Instant};

/// A byte link to a SAM module (serial or USB; USB splits header and body over two endpoint pairs,
/// which the USB link hides).
pub use crate::transport::link::Link as SamLink;

/// How long each command may take before the reader counts as silent. Defaults follow the
/// vendor timings in devices.md §1.9 with room for slow modules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub status: Duration,
    pub find_select: Duration,
    pub read: Duration,
    pub read_with_fingerprint: Duration,
    pub appended_address: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            status: Duration::from_millis(500),
            find_select: Duration::from_millis(500),
            read: Duration::from_millis(2000),
            read_with_fingerprint: Duration::from_millis(3000),
            appended_address: Duration::from_millis(1500),
        }
    }
}

impl Timeouts {
    fn for_command(&self, c: Command) -> Duration {
        match c {
            Command::Find | Command::Select => self.find_select,
            Command::ReadBase => self.read,
            Command::ReadBaseWithFingerprint => self.read_with_fingerprint,
            Command::ReadAppendedAddress => self.appended_address,
            _ => self.status,
        }
    }

    /// The longest any single command may take.
    pub fn longest(&self) -> Duration {
        [
            self.status,
            self.find_select,
            self.read,
            self.read_with_fingerprint,
            self.appended_address,
        ]
        .into_iter()
        .max()
        .unwrap_or_default()
    }
}

/// Why a command did not give what was asked. Messages carry no card data.
#[derive(Debug, thiserror::Error)]
pub enum ReaderError {
    #[error("the card reader at {link} is not reachable: {source}")]
    Io { link: String, source: io::Error },
    #[error("the card reader did not answer {command} within {} ms", .waited.as_millis())]
    Timeout {
        command: &'static str,
        waited: Duration,
    },
    #[error("the card reader sent a bad frame for {command}: {error}")]
    Frame {
        command: &'static str,
        error: FrameError,
    },
    #[error("{command}: {sw3}")]
    Status {
        command: &'static str,
        sw1: u8,
        sw2: u8,
        sw3: Sw3,
    },
    #[error("{command}: {error}")]
    Data {
        command: &'static str,
        error: DataLengthError,
    },
    #[error("the card's data is not valid: {0}")]
    Text(#[from] TextError),
}

impl ReaderError {
    /// Whether the reader itself is gone or broken (reconnect), rather than the card or one
    /// exchange having failed.
    pub fn is_link_fault(&self) -> bool {
        match self {
            ReaderError::Io { .. } | ReaderError::Timeout { .. } => true,
            ReaderError::Status { sw3, .. } => matches!(
                sw3,
                Sw3::SamSelfTestFailed | Sw3::SamNotAuthorised | Sw3::Unauthorised
            ),
            _ => false,
        }
    }

    /// Words for the citizen (Chinese).
    pub fn message_zh(&self) -> &'static str {
        match self {
            ReaderError::Status { sw3, .. } => sw3.message_zh(),
            ReaderError::Text(_) => "证件信息校验未通过，请联系工作人员",
            _ => "读卡器暂时无法使用，请联系工作人员",
        }
    }
}

/// The SAM module's number (12 FF), 16 bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SamId(pub [u8; 16]);

impl SamId {
    fn le32(&self, at: usize) -> u32 {
        u32::from_le_bytes([self.0[at], self.0[at + 1], self.0[at + 2], self.0[at + 3]])
    }
}

impl fmt::Display for SamId {
    /// Printed like the vendors' tools: `DD.DD-N-NNNNNNNNN-NNNNNNNNN` (HslCommunication's form;
    /// YinanSoft prints the first two parts in hex, devices.md §1.10 item 9).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}.{:02}-{}-{:09}-{:09}",
            self.0[0],
            self.0[2],
            self.le32(4),
            self.le32(8),
            self.le32(12)
        )
    }
}

impl fmt::Debug for SamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SamId({self})")
    }
}

/// What to read after select.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadOptions {
    /// 30 10 instead of 30 01.
    pub fingerprint: bool,
    /// Also read the appended address (30 03).
    pub appended_address: bool,
}

/// A SAM reader on one link.
pub struct Reader<L: SamLink> {
    link: L,
    decoder: FrameDecoder,
    timeouts: Timeouts,
    buf: Vec<u8>,
}

impl<L: SamLink> Reader<L> {
    pub fn new(link: L, timeouts: Timeouts) -> Self {
        Reader {
            link,
            decoder: FrameDecoder::new(),
            timeouts,
            buf: vec![0; 4096],
        }
    }

    pub fn link(&self) -> &L {
        &self.link
    }

    pub fn into_link(self) -> L {
        self.link
    }

    fn io(&self, source: io::Error) -> ReaderError {
        ReaderError::Io {
            link: self.link.describe(),
            source,
        }
    }

    /// Sends `command` and returns its response, whatever its SW3. Bytes left over from an earlier
    /// exchange (a late answer) are discarded first.
    pub fn transact(&mut self, command: Command) -> Result<Response, ReaderError> {
        // Bounded, so a babbling line cannot keep us here.
        for _ in 0..16 {
            match self.link.recv(&mut self.buf, Duration::ZERO) {
                Ok(0) => break,
                Ok(_) => continue,
                Err(e) => return Err(self.io(e)),
            }
        }
        self.decoder = FrameDecoder::new();
        self.link.send(&command.encode()).map_err(|e| self.io(e))?;
        let waited = self.timeouts.for_command(command);
        let deadline = Instant::now() + waited;
        loop {
            if let Some(body) = self.decoder.next_body() {
                let body = body.map_err(|error| ReaderError::Frame {
                    command: command.name(),
                    error,
                })?;
                return Response::from_body(&body).map_err(|error| ReaderError::Frame {
                    command: command.name(),
                    error,
                });
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ReaderError::Timeout {
                    command: command.name(),
                    waited,
                });
            }
            let n = self
                .link
                .recv(&mut self.buf, left)
                .map_err(|e| self.io(e))?;
            let got = &self.buf[..n];
            self.decoder.push(got);
        }
    }

    /// Sends `command` and requires `expected` as SW3.
    fn expect(&mut self, command: Command, expected: Sw3) -> Result<Response, ReaderError> {
        let r = self.transact(command)?;
        if r.sw3 != expected {
            return Err(ReaderError::Status {
                command: command.name(),
                sw1: r.sw1,
                sw2: r.sw2,
                sw3: r.sw3,
            });
        }
        Ok(r)
    }

    /// 10 FF.
    pub fn reset(&mut self) -> Result<(), ReaderError> {
        self.expect(Command::Reset, Sw3::Success).map(drop)
    }

    /// 11 FF: `Ok` when the SAM is ready, its SW3 otherwise.
    pub fn status(&mut self) -> Result<(), ReaderError> {
        self.expect(Command::Status, Sw3::Success).map(drop)
    }

    /// 12 FF.
    pub fn sam_id(&mut self) -> Result<SamId, ReaderError> {
        let r = self.expect(Command::SamId, Sw3::Success)?;
        let id: [u8; 16] = r
            .data
            .as_slice()
            .try_into()
            .map_err(|_| ReaderError::Data {
                command: Command::SamId.name(),
                error: DataLengthError {
                    got: r.data.len(),
                    announced: 16,
                },
            })?;
        Ok(SamId(id))
    }

    /// 20 01: whether a card is on the antenna (9F) or not (80).
    pub fn find(&mut self) -> Result<bool, ReaderError> {
        let r = self.transact(Command::Find)?;
        match r.sw3 {
            Sw3::FindSuccess => Ok(true),
            Sw3::NoCard => Ok(false),
            sw3 => Err(ReaderError::Status {
                command: Command::Find.name(),
                sw1: r.sw1,
                sw2: r.sw2,
                sw3,
            }),
        }
    }

    /// 20 02.
    pub fn select(&mut self) -> Result<(), ReaderError> {
        self.expect(Command::Select, Sw3::Success).map(drop)
    }

    /// 30 01 or 30 10: the raw text, photo and fingerprints.
    pub fn read_data(&mut self, fingerprint: bool) -> Result<CardData, ReaderError> {
        let command = if fingerprint {
            Command::ReadBaseWithFingerprint
        } else {
            Command::ReadBase
        };
        let r = self.expect(command, Sw3::Success)?;
        CardData::parse(&r.data, fingerprint).map_err(|error| ReaderError::Data {
            command: command.name(),
            error,
        })
    }

    /// 30 03: the newest appended address, `None` when the card has none (SW3 91).
    pub fn appended_address(&mut self) -> Result<Option<String>, ReaderError> {
        let command = Command::ReadAppendedAddress;
        let r = self.transact(command)?;
        match r.sw3 {
            Sw3::Success => {
                let units: Vec<u16> = r
                    .data
                    .chunks_exact(2)
                    .map(|p| u16::from_le_bytes([p[0], p[1]]))
                    .collect();
                let s = String::from_utf16(&units)
                    .map_err(|_| ReaderError::Text(TextError::Encoding("appended address")))?;
                Ok(Some(s.trim_end_matches([' ', '\0']).to_string()))
            }
            Sw3::NoSuchItem => Ok(None),
            sw3 => Err(ReaderError::Status {
                command: command.name(),
                sw1: r.sw1,
                sw2: r.sw2,
                sw3,
            }),
        }
    }

    /// 60 xx, then the host side follows. The SAM answers at the old rate.
    pub fn set_baud(&mut self, baud: Baud) -> Result<(), ReaderError> {
        self.expect(Command::SetBaud(baud), Sw3::Success)?;
        self.link.set_baud(baud.rate()).map_err(|e| self.io(e))
    }

    /// Select, read and parse the card that find reported. `today` (`YYYY-MM-DD`) rejects birth
    /// dates in the future.
    pub fn read_selected(
        &mut self,
        options: ReadOptions,
        today: &str,
    ) -> Result<IdCard, ReaderError> {
        let data = self.read_data(options.fingerprint)?;
        let mut card = text::parse(&data.text, today)?;
        card.photo = data.photo.clone();
        card.fingerprints = data.fingerprints.clone();
        if options.appended_address {
            if let Some(address) = self.appended_address()? {
                card.appended_address = address;
            }
        }
        Ok(card)
    }

    /// The whole sequence: find, select, read. `Ok(None)` when no card lies on the antenna.
    pub fn read_card(
        &mut self,
        options: ReadOptions,
        today: &str,
    ) -> Result<Option<IdCard>, ReaderError> {
        if !self.find()? {
            return Ok(None);
        }
        self.select()?;
        self.read_selected(options, today).map(Some)
    }
}
