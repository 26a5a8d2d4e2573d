//! GA/T 467 SAM frames, sans-IO: encoding and a streaming decoder shared by the driver (responses)
//! and the simulator (requests).
//!
//! ```text
//! request : AA AA AA 96 69 | Len1 Len2 | CMD PARA DATA… | CHK
//! response: AA AA AA 96 69 | Len1 Len2 | SW1 SW2 SW3 DATA… | CHK
//! ```
//! `Len` (big-endian) counts the body and the checksum; `CHK` is the XOR of the length bytes and the
//! body. The decoder accepts bytes in any split, skips garbage before a preamble, bounds what it
//! buffers, and reports a bad checksum or length as an error for that frame, then carries on.

use std::fmt;

pub const PREAMBLE: [u8; 5] = [0xAA, 0xAA, 0xAA, 0x96, 0x69];
/// The largest `Len` a reader sends (read with fingerprint: 0x090A); anything far above is noise.
pub const MAX_LEN: usize = 0x1000;

/// A command to the SAM module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// 10 FF: reset the SAM.
    Reset,
    /// 11 FF: SAM status.
    Status,
    /// 12 FF: the SAM's module number.
    SamId,
    /// 20 01: find a card on the antenna.
    Find,
    /// 20 02: select the card found.
    Select,
    /// 30 01: text and photo.
    ReadBase,
    /// 30 10: text, photo and fingerprints.
    ReadBaseWithFingerprint,
    /// 30 03: the appended (newest) address.
    ReadAppendedAddress,
    /// 60 0x: set the UART baud rate.
    SetBaud(Baud),
    /// 61 FF + one byte: the largest RF frame.
    SetMaxRfFrame(u8),
}

/// The baud rates a SAM can switch to, with their `60 xx` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Baud {
    B115200,
    B57600,
    B38400,
    B19200,
    B9600,
}

impl Baud {
    pub fn rate(self) -> u32 {
        match self {
            Baud::B115200 => 115_200,
            Baud::B57600 => 57_600,
            Baud::B38400 => 38_400,
            Baud::B19200 => 19_200,
            Baud::B9600 => 9_600,
        }
    }

    fn para(self) -> u8 {
        self as u8
    }

    fn from_para(p: u8) -> Option<Baud> {
        [
            Baud::B115200,
            Baud::B57600,
            Baud::B38400,
            Baud::B19200,
            Baud::B9600,
        ]
        .get(usize::from(p))
        .copied()
    }
}

impl Command {
    /// CMD, PARA and data bytes.
    fn body(self) -> Vec<u8> {
        match self {
            Command::Reset => vec![0x10, 0xFF],
            Command::Status => vec![0x11, 0xFF],
            Command::SamId => vec![0x12, 0xFF],
            Command::Find => vec![0x20, 0x01],
            Command::Select => vec![0x20, 0x02],
            Command::ReadBase => vec![0x30, 0x01],
            Command::ReadBaseWithFingerprint => vec![0x30, 0x10],
            Command::ReadAppendedAddress => vec![0x30, 0x03],
            Command::SetBaud(b) => vec![0x60, b.para()],
            Command::SetMaxRfFrame(n) => vec![0x61, 0xFF, n],
        }
    }

    /// A short name for errors and logs.
    pub fn name(self) -> &'static str {
        match self {
            Command::Reset => "reset (10 FF)",
            Command::Status => "SAM status (11 FF)",
            Command::SamId => "SAM id (12 FF)",
            Command::Find => "find card (20 01)",
            Command::Select => "select card (20 02)",
            Command::ReadBase => "read (30 01)",
            Command::ReadBaseWithFingerprint => "read with fingerprint (30 10)",
            Command::ReadAppendedAddress => "read appended address (30 03)",
            Command::SetBaud(_) => "set baud (60 xx)",
            Command::SetMaxRfFrame(_) => "set RF frame (61 FF)",
        }
    }

    /// The complete request frame.
    pub fn encode(self) -> Vec<u8> {
        encode_frame(&self.body())
    }

    /// Parses a request body (the simulator's side).
    pub fn from_body(body: &[u8]) -> Option<Command> {
        Some(match body {
            [0x10, 0xFF] => Command::Reset,
            [0x11, 0xFF] => Command::Status,
            [0x12, 0xFF] => Command::SamId,
            [0x20, 0x01] => Command::Find,
            [0x20, 0x02] => Command::Select,
            [0x30, 0x01] => Command::ReadBase,
            [0x30, 0x10] => Command::ReadBaseWithFingerprint,
            [0x30, 0x03] => Command::ReadAppendedAddress,
            [0x60, p] => Command::SetBaud(Baud::from_para(*p)?),
            [0x61, 0xFF, n] => Command::SetMaxRfFrame(*n),
            _ => return None,
        })
    }
}

/// SW3, the SAM's own status byte, with what a citizen or maintainer can do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sw3 {
    Success,
    FindSuccess,
    NoSuchItem,
    ChecksumError,
    LengthError,
    CommandError,
    Unauthorised,
    Unrecognised,
    CardAuthenticatesSamFailed,
    SamAuthenticatesCardFailed,
    VerificationError,
    FingerprintVerificationError,
    InformationLengthError,
    UnknownCardType,
    ReadFailed,
    RandomNumberFailed,
    SamSelfTestFailed,
    SamNotAuthorised,
    NoCard,
    SelectFailed,
    /// A code not in the standard's table.
    Other(u8),
}

impl Sw3 {
    pub const ALL_KNOWN: [Sw3; 20] = [
        Sw3::Success,
        Sw3::FindSuccess,
        Sw3::NoSuchItem,
        Sw3::ChecksumError,
        Sw3::LengthError,
        Sw3::CommandError,
        Sw3::Unauthorised,
        Sw3::Unrecognised,
        Sw3::CardAuthenticatesSamFailed,
        Sw3::SamAuthenticatesCardFailed,
        Sw3::VerificationError,
        Sw3::FingerprintVerificationError,
        Sw3::InformationLengthError,
        Sw3::UnknownCardType,
        Sw3::ReadFailed,
        Sw3::RandomNumberFailed,
        Sw3::SamSelfTestFailed,
        Sw3::SamNotAuthorised,
        Sw3::NoCard,
        Sw3::SelectFailed,
    ];

    pub fn from_byte(b: u8) -> Sw3 {
        Sw3::ALL_KNOWN
            .into_iter()
            .find(|s| s.byte() == b)
            .unwrap_or(Sw3::Other(b))
    }

    pub fn byte(self) -> u8 {
        match self {
            Sw3::Success => 0x90,
            Sw3::FindSuccess => 0x9F,
            Sw3::NoSuchItem => 0x91,
            Sw3::ChecksumError => 0x10,
            Sw3::LengthError => 0x11,
            Sw3::CommandError => 0x21,
            Sw3::Unauthorised => 0x23,
            Sw3::Unrecognised => 0x24,
            Sw3::CardAuthenticatesSamFailed => 0x31,
            Sw3::SamAuthenticatesCardFailed => 0x32,
            Sw3::VerificationError => 0x33,
            Sw3::FingerprintVerificationError => 0x37,
            Sw3::InformationLengthError => 0x3F,
            Sw3::UnknownCardType => 0x40,
            Sw3::ReadFailed => 0x41,
            Sw3::RandomNumberFailed => 0x47,
            Sw3::SamSelfTestFailed => 0x60,
            Sw3::SamNotAuthorised => 0x66,
            Sw3::NoCard => 0x80,
            Sw3::SelectFailed => 0x81,
            Sw3::Other(b) => b,
        }
    }

    pub fn is_success(self) -> bool {
        matches!(self, Sw3::Success | Sw3::FindSuccess)
    }

    /// What to tell a person, in Chinese.
    pub fn message_zh(self) -> &'static str {
        match self {
            Sw3::Success | Sw3::FindSuccess => "操作成功",
            Sw3::NoSuchItem => "证件中无此项内容",
            Sw3::ChecksumError | Sw3::LengthError | Sw3::CommandError => {
                "读卡器通信错误，请重试；多次出现请联系工作人员"
            }
            Sw3::Unauthorised | Sw3::SamNotAuthorised => "读卡器安全模块未授权，请联系工作人员",
            Sw3::SamSelfTestFailed => "读卡器安全模块自检失败，请联系工作人员",
            Sw3::CardAuthenticatesSamFailed
            | Sw3::SamAuthenticatesCardFailed
            | Sw3::VerificationError => "证件认证失败，请重新放置身份证",
            Sw3::FingerprintVerificationError => "指纹信息校验错误，请重新放置身份证",
            Sw3::InformationLengthError | Sw3::ReadFailed | Sw3::RandomNumberFailed => {
                "读卡失败，请重新放置身份证"
            }
            Sw3::UnknownCardType => "无法识别的证件，请使用居民身份证",
            Sw3::NoCard => "未检测到证件，请将身份证放在感应区",
            Sw3::SelectFailed => "选卡失败，请重新放置身份证",
            Sw3::Unrecognised | Sw3::Other(_) => "读卡器返回未知错误，请联系工作人员",
        }
    }

    /// What to tell a person, in English.
    pub fn message_en(self) -> &'static str {
        match self {
            Sw3::Success | Sw3::FindSuccess => "Done",
            Sw3::NoSuchItem => "The card has no such item",
            Sw3::ChecksumError | Sw3::LengthError | Sw3::CommandError => {
                "Card reader communication error; try again, and ask the staff if it repeats"
            }
            Sw3::Unauthorised | Sw3::SamNotAuthorised => {
                "The reader's security module is not authorised; ask the staff"
            }
            Sw3::SamSelfTestFailed => {
                "The reader's security module failed its self-test; ask the staff"
            }
            Sw3::CardAuthenticatesSamFailed
            | Sw3::SamAuthenticatesCardFailed
            | Sw3::VerificationError => {
                "The card could not be authenticated; place your ID card again"
            }
            Sw3::FingerprintVerificationError => {
                "Fingerprint data check failed; place your ID card again"
            }
            Sw3::InformationLengthError | Sw3::ReadFailed | Sw3::RandomNumberFailed => {
                "Reading the card failed; place your ID card again"
            }
            Sw3::UnknownCardType => "This card is not recognised; please use a resident ID card",
            Sw3::NoCard => "No card found; place your ID card on the reader",
            Sw3::SelectFailed => "Selecting the card failed; place your ID card again",
            Sw3::Unrecognised | Sw3::Other(_) => {
                "The card reader reported an unknown error; ask the staff"
            }
        }
    }
}

impl fmt::Display for Sw3 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SW3 {:02X}: {}", self.byte(), self.message_en())
    }
}

/// A response from the SAM. `data` may hold personal data: `Debug` shows only its length.
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    pub sw1: u8,
    pub sw2: u8,
    pub sw3: Sw3,
    pub data: Vec<u8>,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Response({:02X} {:02X} {}, {} data bytes)",
            self.sw1,
            self.sw2,
            self.sw3,
            self.data.len()
        )
    }
}

impl Response {
    pub fn status(sw3: Sw3) -> Response {
        Response {
            sw1: 0,
            sw2: 0,
            sw3,
            data: Vec::new(),
        }
    }

    /// The complete response frame (the simulator's side).
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(3 + self.data.len());
        body.extend([self.sw1, self.sw2, self.sw3.byte()]);
        body.extend_from_slice(&self.data);
        encode_frame(&body)
    }

    /// Parses a response body: SW1 SW2 SW3 then data.
    pub fn from_body(body: &[u8]) -> Result<Response, FrameError> {
        match body {
            [sw1, sw2, sw3, data @ ..] => Ok(Response {
                sw1: *sw1,
                sw2: *sw2,
                sw3: Sw3::from_byte(*sw3),
                data: data.to_vec(),
            }),
            _ => Err(FrameError::Length(body.len() + 1)),
        }
    }
}

/// The data of a card read (30 01 / 30 10): text block, WLT photo and fingerprint templates, each
/// preceded by its big-endian length. Personal data: zeroized on drop, `Debug` shows lengths only.
#[derive(Clone, PartialEq, Eq, Default, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
pub struct CardData {
    pub text: Vec<u8>,
    pub photo: Vec<u8>,
    pub fingerprints: Vec<u8>,
}

impl fmt::Debug for CardData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CardData(text {}, photo {}, fingerprints {} bytes)",
            self.text.len(),
            self.photo.len(),
            self.fingerprints.len()
        )
    }
}

/// Why the data of a read response does not add up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("read response data has {got} bytes but its length fields announce {announced}")]
pub struct DataLengthError {
    pub got: usize,
    pub announced: usize,
}

impl CardData {
    /// Splits the data of a 30 01 (`with_fingerprint` false) or 30 10 response. The layout follows
    /// the command sent, not the total length (devices.md §1.10, item 4).
    pub fn parse(data: &[u8], with_fingerprint: bool) -> Result<CardData, DataLengthError> {
        let fields = if with_fingerprint { 3 } else { 2 };
        let head = 2 * fields;
        let short = DataLengthError {
            got: data.len(),
            announced: head,
        };
        if data.len() < head {
            return Err(short);
        }
        let lens: Vec<usize> = data[..head]
            .chunks_exact(2)
            .map(|p| usize::from(u16::from_be_bytes([p[0], p[1]])))
            .collect();
        let announced = head + lens.iter().sum::<usize>();
        if data.len() != announced {
            return Err(DataLengthError {
                got: data.len(),
                announced,
            });
        }
        let text_end = head + lens[0];
        let photo_end = text_end + lens[1];
        Ok(CardData {
            text: data[head..text_end].to_vec(),
            photo: data[text_end..photo_end].to_vec(),
            fingerprints: data[photo_end..].to_vec(),
        })
    }

    /// The response data for this card (the simulator's side).
    pub fn encode(&self, with_fingerprint: bool) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(6 + self.text.len() + self.photo.len() + self.fingerprints.len());
        let be = |n: usize| u16::try_from(n).unwrap_or(u16::MAX).to_be_bytes();
        out.extend(be(self.text.len()));
        out.extend(be(self.photo.len()));
        if with_fingerprint {
            out.extend(be(self.fingerprints.len()));
        }
        out.extend_from_slice(&self.text);
        out.extend_from_slice(&self.photo);
        if with_fingerprint {
            out.extend_from_slice(&self.fingerprints);
        }
        out
    }
}

/// Wraps a body in preamble, length and checksum.
pub fn encode_frame(body: &[u8]) -> Vec<u8> {
    let len = u16::try_from(body.len() + 1).expect("a SAM frame body fits in 16 bits");
    let mut frame = Vec::with_capacity(PREAMBLE.len() + 3 + body.len());
    frame.extend(PREAMBLE);
    frame.extend(len.to_be_bytes());
    frame.extend_from_slice(body);
    frame.push(checksum(&frame[PREAMBLE.len()..]));
    frame
}

/// XOR of the bytes after the preamble, up to the checksum.
pub fn checksum(len_and_body: &[u8]) -> u8 {
    len_and_body.iter().fold(0, |acc, b| acc ^ b)
}

/// Why a frame was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame checksum mismatch (expected {expected:02X}, got {got:02X})")]
    Checksum { expected: u8, got: u8 },
    #[error("frame length {0} is not plausible")]
    Length(usize),
}

/// Streaming frame decoder: feed bytes as they arrive, take bodies out.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buf: Vec<u8>,
}

impl FrameDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes held that are not yet a frame.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// The next complete frame's body, an error for a bad frame, or `None` until more bytes come.
    pub fn next_body(&mut self) -> Option<Result<Vec<u8>, FrameError>> {
        // Drop everything before the first preamble; keep a partial preamble at the end.
        match find(&self.buf, &PREAMBLE) {
            Some(at) => {
                self.buf.drain(..at);
            }
            None => {
                let cut = self.buf.len() - partial_preamble_suffix(&self.buf);
                self.buf.drain(..cut);
                return None;
            }
        }
        if self.buf.len() < PREAMBLE.len() + 2 {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([self.buf[5], self.buf[6]]));
        if !(2..=MAX_LEN).contains(&len) {
            // Not a frame: resynchronise after this preamble's first byte.
            self.buf.drain(..1);
            return Some(Err(FrameError::Length(len)));
        }
        let total = PREAMBLE.len() + 2 + len;
        if self.buf.len() < total {
            return None;
        }
        let frame: Vec<u8> = self.buf.drain(..total).collect();
        let expected = checksum(&frame[PREAMBLE.len()..total - 1]);
        let got = frame[total - 1];
        if expected != got {
            return Some(Err(FrameError::Checksum { expected, got }));
        }
        Some(Ok(frame[PREAMBLE.len() + 2..total - 1].to_vec()))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// How many trailing bytes could be the start of a preamble.
fn partial_preamble_suffix(buf: &[u8]) -> usize {
    (1..PREAMBLE.len())
        .rev()
        .find(|&n| buf.len() >= n && buf[buf.len() - n..] == PREAMBLE[..n])
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    #[test]
    fn every_request_vector_in_the_spec() {
        for (cmd, frame) in [
            (Command::Reset, "AA AA AA 96 69 00 03 10 FF EC"),
            (Command::Status, "AA AA AA 96 69 00 03 11 FF ED"),
            (Command::SamId, "AA AA AA 96 69 00 03 12 FF EE"),
            (Command::Find, "AA AA AA 96 69 00 03 20 01 22"),
            (Command::Select, "AA AA AA 96 69 00 03 20 02 21"),
            (Command::ReadBase, "AA AA AA 96 69 00 03 30 01 32"),
            (
                Command::ReadAppendedAddress,
                "AA AA AA 96 69 00 03 30 03 30",
            ),
            (
                Command::ReadBaseWithFingerprint,
                "AA AA AA 96 69 00 03 30 10 23",
            ),
            (
                Command::SetBaud(Baud::B115200),
                "AA AA AA 96 69 00 03 60 00 63",
            ),
            (
                Command::SetBaud(Baud::B9600),
                "AA AA AA 96 69 00 03 60 04 67",
            ),
            (
                Command::SetMaxRfFrame(0x50),
                "AA AA AA 96 69 00 04 61 FF 50 CA",
            ),
        ] {
            assert_eq!(cmd.encode(), hex(frame), "{cmd:?}");
            let mut d = FrameDecoder::new();
            d.push(&hex(frame));
            let body = d.next_body().unwrap().unwrap();
            assert_eq!(Command::from_body(&body), Some(cmd));
        }
    }

    #[test]
    fn every_error_frame_in_the_spec() {
        for (sw3, chk) in [
            (0x80, 0x84),
            (0x81, 0x85),
            (0x41, 0x45),
            (0x10, 0x14),
            (0x11, 0x15),
            (0x21, 0x25),
            (0x24, 0x20),
            (0x31, 0x35),
            (0x32, 0x36),
            (0x33, 0x37),
            (0x40, 0x44),
            (0x47, 0x43),
            (0x60, 0x64),
            (0x66, 0x62),
            (0x91, 0x95),
        ] {
            let frame = [
                0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x04, 0x00, 0x00, sw3, chk,
            ];
            let r = Response::status(Sw3::from_byte(sw3));
            assert_eq!(r.encode(), frame, "SW3 {sw3:02X}");
            assert!(
                !matches!(r.sw3, Sw3::Other(_)),
                "SW3 {sw3:02X} is a known code"
            );
            assert!(!r.sw3.is_success());
        }
    }

    #[test]
    fn read_data_layouts_follow_the_command_sent() {
        let card = CardData {
            text: vec![1; 256],
            photo: vec![2; 1024],
            fingerprints: vec![3; 1024],
        };
        let base = Response {
            sw1: 0,
            sw2: 0,
            sw3: Sw3::Success,
            data: card.encode(false),
        }
        .encode();
        assert_eq!(base.len(), 1295);
        assert_eq!(
            &base[..14],
            &hex("AA AA AA 96 69 05 08 00 00 90 01 00 04 00")[..]
        );
        assert_eq!(base[14], 1, "text at offset 14");
        assert_eq!(base[270], 2, "photo at offset 270");
        let with_fp = Response {
            sw1: 0,
            sw2: 0,
            sw3: Sw3::Success,
            data: card.encode(true),
        }
        .encode();
        assert_eq!(with_fp.len(), 2321);
        assert_eq!(&with_fp[5..10], &hex("09 0A 00 00 90")[..]);
        assert_eq!(with_fp[16], 1, "text at offset 16");
        assert_eq!(with_fp[272], 2, "photo at offset 272");
        assert_eq!(with_fp[1296], 3, "fingerprints at 1296");
        let parsed = CardData::parse(&with_fp[10..with_fp.len() - 1], true).unwrap();
        assert!(parsed == card);
        let mut no_fp = card.clone();
        no_fp.fingerprints.clear();
        let no_fp_frame = Response {
            sw1: 0,
            sw2: 0,
            sw3: Sw3::Success,
            data: no_fp.encode(true),
        }
        .encode();
        assert_eq!(
            no_fp_frame.len(),
            1297,
            "fingerprint length 0 gives 1297 bytes"
        );
        assert!(CardData::parse(&no_fp.encode(true), true)
            .unwrap()
            .fingerprints
            .is_empty());
        // Parsing a 30 10 body as 30 01 is caught by the length fields.
        assert!(CardData::parse(&card.encode(true), false).is_err());
        assert_eq!(
            CardData::parse(&card.encode(false)[..100], false),
            Err(DataLengthError {
                got: 100,
                announced: 1284
            })
        );
        assert!(CardData::parse(&[0, 1], false).is_err());
        assert_eq!(
            format!("{card:?}"),
            "CardData(text 256, photo 1024, fingerprints 1024 bytes)"
        );
    }

    #[test]
    fn ok_responses_in_the_spec_decode() {
        let mut d = FrameDecoder::new();
        d.push(&hex("AA AA AA 96 69 00 04 00 00 90 94"));
        d.push(&hex("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97"));
        let mut select = hex("AA AA AA 96 69 00 0C 00 00 90");
        select.extend([0; 8]);
        select.push(0x9C);
        d.push(&select);
        let ok = Response::from_body(&d.next_body().unwrap().unwrap()).unwrap();
        assert_eq!(ok.sw3, Sw3::Success);
        let find = Response::from_body(&d.next_body().unwrap().unwrap()).unwrap();
        assert_eq!((find.sw3, find.data.len()), (Sw3::FindSuccess, 4));
        let sel = Response::from_body(&d.next_body().unwrap().unwrap()).unwrap();
        assert_eq!((sel.sw3, sel.data.len()), (Sw3::Success, 8));
        assert!(d.next_body().is_none());
    }

    #[test]
    fn a_read_base_frame_has_the_documented_length() {
        let mut data = vec![0x01, 0x00, 0x04, 0x00];
        data.extend(vec![0x20; 256 + 1024]);
        let frame = Response {
            sw1: 0,
            sw2: 0,
            sw3: Sw3::Success,
            data,
        }
        .encode();
        assert_eq!(frame.len(), 1295);
        assert_eq!(
            &frame[..14],
            hex("AA AA AA 96 69 05 08 00 00 90 01 00 04 00").as_slice()
        );
    }

    #[test]
    fn split_reads_and_garbage_before_a_frame() {
        let frame = Response::status(Sw3::NoCard).encode();
        let mut d = FrameDecoder::new();
        d.push(&[0x00, 0xFF, 0xAA, 0x13]);
        assert!(d.next_body().is_none());
        for b in &frame {
            assert!(d.next_body().is_none());
            d.push(&[*b]);
        }
        let r = Response::from_body(&d.next_body().unwrap().unwrap()).unwrap();
        assert_eq!(r.sw3, Sw3::NoCard);
        assert_eq!(d.pending(), 0);
    }

    #[test]
    fn a_bad_checksum_is_an_error_and_the_next_frame_still_decodes() {
        let mut bad = Response::status(Sw3::Success).encode();
        *bad.last_mut().unwrap() ^= 0xFF;
        let mut d = FrameDecoder::new();
        d.push(&bad);
        d.push(&Response::status(Sw3::NoCard).encode());
        assert!(matches!(
            d.next_body(),
            Some(Err(FrameError::Checksum { .. }))
        ));
        let r = Response::from_body(&d.next_body().unwrap().unwrap()).unwrap();
        assert_eq!(r.sw3, Sw3::NoCard);
    }

    #[test]
    fn implausible_lengths_are_errors_not_waits() {
        let mut d = FrameDecoder::new();
        d.push(&hex("AA AA AA 96 69 FF FF 00"));
        assert!(matches!(
            d.next_body(),
            Some(Err(FrameError::Length(0xFFFF)))
        ));
        d.push(&Response::status(Sw3::Success).encode());
        assert!(matches!(d.next_body(), Some(Ok(_))));
        assert!(Response::from_body(&[0x00]).is_err());
    }

    #[test]
    fn random_bytes_never_panic_and_stay_bounded() {
        // A small deterministic generator: the decoder must survive any byte soup.
        let mut x: u32 = 0x1234_5678;
        let mut d = FrameDecoder::new();
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let chunk: Vec<u8> = (0..(x % 64))
                .map(|i| (x >> (i % 24)) as u8 | if i % 7 == 0 { 0xAA } else { 0 })
                .collect();
            d.push(&chunk);
            while let Some(r) = d.next_body() {
                if let Ok(body) = r {
                    let _ = Response::from_body(&body);
                    let _ = Command::from_body(&body);
                }
            }
            assert!(
                d.pending() <= PREAMBLE.len() + 2 + MAX_LEN,
                "decoder holds {} bytes",
                d.pending()
            );
        }
    }

    #[test]
    fn sw3_round_trips_and_every_code_has_words() {
        for s in Sw3::ALL_KNOWN {
            assert_eq!(Sw3::from_byte(s.byte()), s);
            assert!(!s.message_zh().is_empty() && !s.message_en().is_empty());
        }
        assert_eq!(Sw3::from_byte(0x55), Sw3::Other(0x55));
    }

    #[test]
    fn debug_of_a_response_hides_its_data() {
        let r = Response {
            sw1: 0,
            sw2: 0,
            sw3: Sw3::Success,
            data: "张小三".as_bytes().to_vec(),
        };
        assert!(!format!("{r:?}").contains("张"));
    }
}
