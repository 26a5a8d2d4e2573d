//! ESC/POS command parser (the printer's side), streaming and sans-IO: bytes in any split → [`Op`]s.
//! Used by the printer simulator and by `hallkiosk print preview`.
//!
//! Every command of devices.md §3.2 and the status commands of §3.4 are parsed with their exact
//! argument lengths (`GS v 0`: 8 + x·y bytes; `GS ( k`: 5 + pL + 256·pH). Unknown sequences are
//! consumed by generic rules so one unknown command cannot derail the rest: `ESC x` and `FS x` take
//! one parameter byte, `GS x` one, `DLE x` one. Implausible sizes (a raster wider than 255 bytes or
//! taller than 4096 rows, a QR store over 7092 bytes) are reported as [`Op::Invalid`] and skipped.

/// One parsed command or run of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Init,
    ChineseMode(bool),
    ChineseQuad(bool),
    Align(u8),
    Bold(bool),
    /// Width and height multipliers, 1–8.
    Size(u8, u8),
    /// Printable bytes as sent (GBK pairs in Chinese mode).
    Text(Vec<u8>),
    LineFeed,
    /// `ESC d n`.
    Feed(u8),
    /// `GS v 0`: mode, bytes per row, rows, data.
    Raster {
        mode: u8,
        row_bytes: u16,
        rows: u16,
        data: Vec<u8>,
    },
    QrModel(u8),
    QrModule(u8),
    QrLevel(u8),
    QrStore(Vec<u8>),
    QrPrint,
    /// `GS V`: m (0/48 full, 1/49 partial, 65 feed+full, 66 feed+partial) and the feed for 65/66.
    Cut {
        mode: u8,
        feed: u8,
    },
    /// `DLE EOT n`: real-time status request.
    StatusRequest(u8),
    /// `GS r n`.
    TransmitStatus(u8),
    /// `GS a n`: Automatic Status Back enable bits.
    AutoStatusBack(u8),
    /// `ESC p m t1 t2`.
    Drawer,
    /// A sequence the parser does not model, consumed whole.
    Unknown(Vec<u8>),
    /// A command whose arguments are implausible; its header was skipped.
    Invalid(&'static str),
}

const ESC: u8 = 0x1B;
const GS: u8 = 0x1D;
const FS: u8 = 0x1C;
const DLE: u8 = 0x10;
const MAX_RASTER_ROW_BYTES: usize = 255;
const MAX_RASTER_ROWS: usize = 4096;
const MAX_QR_STORE: usize = 7092;

/// Streaming parser.
#[derive(Debug, Default)]
pub struct Parser {
    buf: Vec<u8>,
    at: usize,
    chinese: bool,
}

enum Step {
    Op(Op, usize),
    /// Printable bytes up to here (not yet a complete op).
    Text(usize),
    NeedMore,
}

impl Parser {
    /// `chinese_on_power_up`: whether bytes ≥ 0x81 start two-byte GBK characters before `FS &`.
    pub fn new(chinese_on_power_up: bool) -> Parser {
        Parser {
            buf: Vec::new(),
            at: 0,
            chinese: chinese_on_power_up,
        }
    }

    /// Bytes held but not yet parsed.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.at
    }

    /// Whether Chinese mode is on.
    pub fn chinese(&self) -> bool {
        self.chinese
    }

    /// Feeds bytes; returns the ops they completed. Text is returned up to the last complete
    /// character so lines can be shown as they arrive.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Op> {
        self.buf.extend_from_slice(bytes);
        let mut ops = Vec::new();
        let mut text_start: Option<usize> = None;
        loop {
            match self.step() {
                Step::Text(end) => {
                    text_start.get_or_insert(self.at);
                    self.at = end;
                }
                Step::Op(op, end) => {
                    if let Some(s) = text_start.take() {
                        ops.push(Op::Text(self.buf[s..self.at].to_vec()));
                    }
                    match op {
                        Op::ChineseMode(on) => self.chinese = on,
                        Op::Init => {}
                        _ => {}
                    }
                    ops.push(op);
                    self.at = end;
                }
                Step::NeedMore => break,
            }
        }
        if let Some(s) = text_start {
            ops.push(Op::Text(self.buf[s..self.at].to_vec()));
        }
        self.buf.drain(..self.at);
        self.at = 0;
        ops
    }

    fn step(&self) -> Step {
        let b = &self.buf[self.at..];
        let Some(&first) = b.first() else {
            return Step::NeedMore;
        };
        let need = |n: usize| b.len() < n;
        let op = |op: Op, len: usize| Step::Op(op, self.at + len);
        match first {
            0x0A => op(Op::LineFeed, 1),
            ESC => {
                if need(2) {
                    return Step::NeedMore;
                }
                match b[1] {
                    b'@' => op(Op::Init, 2),
                    b'a' | b'E' | b'd' => {
                        if need(3) {
                            return Step::NeedMore;
                        }
                        match b[1] {
                            b'a' => op(Op::Align(b[2] % 48), 3),
                            b'E' => op(Op::Bold(b[2] & 1 == 1), 3),
                            _ => op(Op::Feed(b[2]), 3),
                        }
                    }
                    b'p' => {
                        if need(5) {
                            return Step::NeedMore;
                        }
                        op(Op::Drawer, 5)
                    }
                    _ => {
                        if need(3) {
                            return Step::NeedMore;
                        }
                        op(Op::Unknown(b[..3].to_vec()), 3)
                    }
                }
            }
            FS => {
                if need(2) {
                    return Step::NeedMore;
                }
                match b[1] {
                    b'&' => op(Op::ChineseMode(true), 2),
                    b'.' => op(Op::ChineseMode(false), 2),
                    b'W' => {
                        if need(3) {
                            return Step::NeedMore;
                        }
                        op(Op::ChineseQuad(b[2] & 1 == 1), 3)
                    }
                    _ => {
                        if need(3) {
                            return Step::NeedMore;
                        }
                        op(Op::Unknown(b[..3].to_vec()), 3)
                    }
                }
            }
            DLE => {
                if need(3) {
                    return Step::NeedMore;
                }
                match b[1] {
                    0x04 => op(Op::StatusRequest(b[2]), 3),
                    _ => op(Op::Unknown(b[..3].to_vec()), 3),
                }
            }
            GS => self.gs(b),
            // Other control characters are ignored (CR, HT, …).
            0x00..=0x1F => op(Op::Unknown(vec![first]), 1),
            _ => self.text_char(b),
        }
    }

    fn gs(&self, b: &[u8]) -> Step {
        let op = |op: Op, len: usize| Step::Op(op, self.at + len);
        if b.len() < 3 {
            return Step::NeedMore;
        }
        match b[1] {
            b'!' => op(Op::Size(((b[2] >> 4) & 7) + 1, (b[2] & 7) + 1), 3),
            b'r' => op(Op::TransmitStatus(b[2]), 3),
            b'a' => op(Op::AutoStatusBack(b[2]), 3),
            b'V' => match b[2] {
                65 | 66 => {
                    if b.len() < 4 {
                        return Step::NeedMore;
                    }
                    op(
                        Op::Cut {
                            mode: b[2],
                            feed: b[3],
                        },
                        4,
                    )
                }
                m => op(Op::Cut { mode: m, feed: 0 }, 3),
            },
            b'v' if b[2] == 0x30 => {
                if b.len() < 8 {
                    return Step::NeedMore;
                }
                let x = usize::from(u16::from_le_bytes([b[4], b[5]]));
                let y = usize::from(u16::from_le_bytes([b[6], b[7]]));
                if x == 0 || y == 0 || x > MAX_RASTER_ROW_BYTES || y > MAX_RASTER_ROWS {
                    return op(Op::Invalid("raster size out of range"), 8);
                }
                let total = 8 + x * y;
                if b.len() < total {
                    return Step::NeedMore;
                }
                op(
                    Op::Raster {
                        mode: b[3],
                        row_bytes: x as u16,
                        rows: y as u16,
                        data: b[8..total].to_vec(),
                    },
                    total,
                )
            }
            b'(' if b[2] == b'k' => {
                if b.len() < 5 {
                    return Step::NeedMore;
                }
                let len = usize::from(u16::from_le_bytes([b[3], b[4]]));
                if len > MAX_QR_STORE + 3 {
                    return op(Op::Invalid("2D symbol data too long"), 5);
                }
                if b.len() < 5 + len {
                    return Step::NeedMore;
                }
                let args = &b[5..5 + len];
                let parsed = match args {
                    [0x31, 0x41, n, ..] => Op::QrModel(*n),
                    [0x31, 0x43, n, ..] => Op::QrModule(*n),
                    [0x31, 0x45, n, ..] => Op::QrLevel(*n),
                    [0x31, 0x50, 0x30, data @ ..] => Op::QrStore(data.to_vec()),
                    [0x31, 0x51, 0x30, ..] => Op::QrPrint,
                    _ => Op::Unknown(b[..5 + len].to_vec()),
                };
                op(parsed, 5 + len)
            }
            b'(' => {
                // Other GS ( x pL pH … functions: length-prefixed.
                if b.len() < 5 {
                    return Step::NeedMore;
                }
                let len = usize::from(u16::from_le_bytes([b[3], b[4]]));
                if b.len() < 5 + len {
                    return Step::NeedMore;
                }
                op(Op::Unknown(b[..5 + len].to_vec()), 5 + len)
            }
            _ => op(Op::Unknown(b[..3].to_vec()), 3),
        }
    }

    /// One printable character: a byte, or in Chinese mode a GBK pair (lead 0x81–0xFE).
    fn text_char(&self, b: &[u8]) -> Step {
        let lead = b[0];
        if self.chinese && (0x81..=0xFE).contains(&lead) {
            if b.len() < 2 {
                return Step::NeedMore;
            }
            return Step::Text(self.at + 2);
        }
        Step::Text(self.at + 1)
    }
}

/// Decodes printed text bytes as the printer would show them: GBK in Chinese mode (a 4-byte
/// GB18030 sequence prints as garbage, shown here as U+FFFD), ASCII otherwise.
pub fn decode_text(bytes: &[u8], chinese: bool) -> String {
    if chinese {
        // GB18030 decoding would accept 4-byte sequences the printer cannot print: refuse them.
        let mut out = String::new();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b < 0x80 {
                out.push(char::from(b));
                i += 1;
            } else if i + 1 < bytes.len() && (0x30..=0x39).contains(&bytes[i + 1]) {
                out.push('\u{FFFD}');
                i += 2;
            } else {
                let end = (i + 2).min(bytes.len());
                let (s, _, _) = encoding_rs::GBK.decode(&bytes[i..end]);
                out.push_str(&s);
                i = end;
            }
        }
        out
    } else {
        bytes
            .iter()
            .map(|&b| if b < 0x80 { char::from(b) } else { '\u{FFFD}' })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printer::raster::Bitmap;
    use crate::printer::receipt::{encode, Align, Profile, Receipt};

    #[test]
    fn a_receipt_parses_back_into_its_commands() {
        let r = Receipt::new()
            .styled("受理回执", Align::Centre, (2, 2), true)
            .qr("HK-1", 6)
            .image(Bitmap::new(16, 3), Align::Left)
            .feed(2);
        let bytes = encode(&r, &Profile::generic_80mm(), None).unwrap();
        let ops = Parser::new(true).push(&bytes);
        assert_eq!(ops[0], Op::Init);
        assert!(ops.contains(&Op::Align(1)));
        assert!(ops.contains(&Op::Size(2, 2)));
        assert!(ops.contains(&Op::Bold(true)));
        let text = ops.iter().find_map(|o| match o {
            Op::Text(t) => Some(decode_text(t, true)),
            _ => None,
        });
        assert_eq!(text.as_deref(), Some("受理回执"));
        assert!(ops.contains(&Op::QrModel(50)));
        assert!(ops.contains(&Op::QrModule(6)));
        assert!(ops.contains(&Op::QrStore(b"HK-1".to_vec())));
        assert!(ops.contains(&Op::QrPrint));
        assert!(ops.contains(&Op::Raster {
            mode: 0,
            row_bytes: 2,
            rows: 3,
            data: vec![0; 6]
        }));
        assert!(ops.contains(&Op::Feed(2)));
        assert_eq!(ops.last(), Some(&Op::Cut { mode: 66, feed: 3 }));
        assert!(!ops
            .iter()
            .any(|o| matches!(o, Op::Unknown(_) | Op::Invalid(_))));
    }

    #[test]
    fn any_split_gives_the_same_ops() {
        let r = Receipt::new().text("张小三 No.9").qr("HK-2", 4).feed(1);
        let bytes = encode(&r, &Profile::generic_80mm(), None).unwrap();
        let whole = Parser::new(true).push(&bytes);
        for chunk in [1, 2, 3, 7, 64] {
            let mut p = Parser::new(true);
            let mut ops: Vec<Op> = Vec::new();
            for c in bytes.chunks(chunk) {
                ops.extend(p.push(c));
            }
            // Text may arrive in pieces: join adjacent runs before comparing.
            let mut joined: Vec<Op> = Vec::new();
            for op in ops {
                match (joined.last_mut(), op) {
                    (Some(Op::Text(a)), Op::Text(b)) => a.extend(b),
                    (_, op) => joined.push(op),
                }
            }
            assert_eq!(joined, whole, "chunk {chunk}");
            assert_eq!(p.pending(), 0);
        }
    }

    #[test]
    fn status_commands_and_unknown_sequences() {
        let ops = Parser::new(false).push(&[
            0x10, 0x04, 0x04, 0x1D, 0x72, 0x01, 0x1D, 0x61, 0x0F, 0x1B, 0x74, 0x10, b'A', 0x1C,
            0x26, 0x1B, 0x70, 0, 25, 250,
        ]);
        assert_eq!(
            ops,
            vec![
                Op::StatusRequest(4),
                Op::TransmitStatus(1),
                Op::AutoStatusBack(0x0F),
                Op::Unknown(vec![0x1B, 0x74, 0x10]),
                Op::Text(b"A".to_vec()),
                Op::ChineseMode(true),
                Op::Drawer,
            ]
        );
    }

    #[test]
    fn implausible_sizes_are_invalid_not_waited_for() {
        let ops =
            Parser::new(true).push(&[0x1D, 0x76, 0x30, 0, 0xFF, 0xFF, 0xFF, 0xFF, b'x', b'\n']);
        assert_eq!(ops[0], Op::Invalid("raster size out of range"));
        assert!(ops.contains(&Op::LineFeed));
    }

    #[test]
    fn four_byte_gb18030_is_shown_as_garbage() {
        let (bytes, _, _) = encoding_rs::GB18030.encode("李㛃");
        assert_eq!(decode_text(&bytes, true), "李\u{FFFD}\u{FFFD}");
        assert_eq!(decode_text(b"ok\xB0\xA1", false), "ok\u{FFFD}\u{FFFD}");
    }
}
