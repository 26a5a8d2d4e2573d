//! Receipts as a small document model, and their ESC/POS bytes for a printer profile
//! (devices.md §3.2–3.3), sans-IO.
//!
//! - Text goes out in Chinese mode as GBK (`FS &` … ; GBK's encoder never emits 4-byte GB18030, which
//!   many printers cannot print). A line with a character outside GBK's two-byte set (a rare name
//!   character, 生僻字) is drawn with a CJK font and sent as a raster image instead.
//! - QR codes use the printer's native `GS ( k` when the profile says it has one, else a raster.
//! - Images (the logo) are dithered to 1 bit and sent as `GS v 0` bands.

use super::raster::{Bitmap, TextRaster};
use std::fmt;

/// Horizontal alignment (`ESC a n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Align {
    #[default]
    Left = 0,
    Centre = 1,
    Right = 2,
}

/// QR error correction level (`GS ( k` fn 69: 48–51).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QrLevel {
    L,
    #[default]
    M,
    Q,
    H,
}

impl QrLevel {
    fn escpos(self) -> u8 {
        match self {
            QrLevel::L => 48,
            QrLevel::M => 49,
            QrLevel::Q => 50,
            QrLevel::H => 51,
        }
    }

    fn qrcode(self) -> qrcode::EcLevel {
        match self {
            QrLevel::L => qrcode::EcLevel::L,
            QrLevel::M => qrcode::EcLevel::M,
            QrLevel::Q => qrcode::EcLevel::Q,
            QrLevel::H => qrcode::EcLevel::H,
        }
    }
}

/// How the paper is cut at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CutMode {
    Full,
    #[default]
    Partial,
    /// No cutter: feed only.
    None,
}

/// One block of a receipt.
#[derive(Clone, PartialEq, Eq)]
pub enum Block {
    Text {
        text: String,
        align: Align,
        /// Width and height multipliers, 1–8.
        size: (u8, u8),
        bold: bool,
    },
    Qr {
        data: String,
        /// Module size in dots, 1–16.
        module: u8,
        level: QrLevel,
        align: Align,
    },
    Image {
        bitmap: Bitmap,
        align: Align,
    },
    Feed(u8),
}

impl fmt::Debug for Block {
    /// Receipts carry names and tracking codes: `Debug` shows shapes, not content.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Block::Text { text, .. } => write!(f, "Text({} chars)", text.chars().count()),
            Block::Qr { data, .. } => write!(f, "Qr({} bytes)", data.len()),
            Block::Image { bitmap, .. } => write!(f, "Image({}x{})", bitmap.width, bitmap.height),
            Block::Feed(n) => write!(f, "Feed({n})"),
        }
    }
}

/// A receipt: blocks, then feed and cut.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Receipt {
    pub blocks: Vec<Block>,
}

impl Receipt {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.blocks.push(Block::Text {
            text: text.into(),
            align: Align::Left,
            size: (1, 1),
            bold: false,
        });
        self
    }

    pub fn styled(
        mut self,
        text: impl Into<String>,
        align: Align,
        size: (u8, u8),
        bold: bool,
    ) -> Self {
        self.blocks.push(Block::Text {
            text: text.into(),
            align,
            size,
            bold,
        });
        self
    }

    pub fn qr(mut self, data: impl Into<String>, module: u8) -> Self {
        self.blocks.push(Block::Qr {
            data: data.into(),
            module,
            level: QrLevel::M,
            align: Align::Centre,
        });
        self
    }

    pub fn image(mut self, bitmap: Bitmap, align: Align) -> Self {
        self.blocks.push(Block::Image { bitmap, align });
        self
    }

    pub fn feed(mut self, lines: u8) -> Self {
        self.blocks.push(Block::Feed(lines));
        self
    }
}

/// What differs between printer models.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Profile {
    pub name: String,
    /// Printable width in dots (58 mm: 384, 80 mm: 576, Epson 80 mm: 512).
    pub width_dots: u32,
    /// Whether the printer starts in Chinese mode; if not, the receipt enters it with `FS &`.
    pub chinese_on_power_up: bool,
    /// Whether `GS ( k` QR codes print natively.
    pub native_qr: bool,
    pub cut: CutMode,
    /// Largest raster band height in dots (some models take at most 255 rows per `GS v 0`).
    pub max_band_rows: u32,
}

impl Profile {
    /// A common 80 mm Chinese thermal printer.
    pub fn generic_80mm() -> Profile {
        Profile {
            name: "generic-80mm".into(),
            width_dots: 576,
            chinese_on_power_up: true,
            native_qr: true,
            cut: CutMode::Partial,
            max_band_rows: 255,
        }
    }

    /// A 58 mm printer without native QR.
    pub fn generic_58mm() -> Profile {
        Profile {
            name: "generic-58mm".into(),
            width_dots: 384,
            chinese_on_power_up: false,
            native_qr: false,
            cut: CutMode::None,
            max_band_rows: 255,
        }
    }

    /// Epson-style 80 mm head (512 dots), partial cut.
    pub fn epson_80mm() -> Profile {
        Profile {
            name: "epson-80mm".into(),
            width_dots: 512,
            chinese_on_power_up: false,
            native_qr: true,
            cut: CutMode::Partial,
            max_band_rows: 255,
        }
    }

    pub fn by_name(name: &str) -> Option<Profile> {
        [
            Self::generic_80mm(),
            Self::generic_58mm(),
            Self::epson_80mm(),
        ]
        .into_iter()
        .find(|p| p.name == name)
    }
}

/// Why a receipt could not be turned into bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("a line has characters outside GBK and no CJK font is loaded to draw them")]
    NoFont,
    #[error("the QR data does not fit a QR code: {0}")]
    Qr(String),
    #[error("an image is {0} dots wide; the printer prints {1}")]
    TooWide(u32, u32),
}

pub const ESC_INIT: [u8; 2] = [0x1B, 0x40];
pub const FS_CHINESE_ON: [u8; 2] = [0x1C, 0x26];
pub const FS_CHINESE_OFF: [u8; 2] = [0x1C, 0x2E];

/// Whether every character of `text` prints as ASCII or two-byte GBK.
pub fn fits_gbk(text: &str) -> bool {
    gbk(text).is_some()
}

/// `text` in GBK (never 4-byte GB18030), or `None` when a character has no two-byte code.
pub fn gbk(text: &str) -> Option<Vec<u8>> {
    let (bytes, _, had_unmappable) = encoding_rs::GBK.encode(text);
    (!had_unmappable).then(|| bytes.into_owned())
}

/// The ESC/POS bytes of `receipt` for `profile`. `font` draws lines GBK cannot encode.
pub fn encode(
    receipt: &Receipt,
    profile: &Profile,
    font: Option<&TextRaster>,
) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(2048);
    out.extend(ESC_INIT);
    if !profile.chinese_on_power_up {
        out.extend(FS_CHINESE_ON);
    }
    for block in &receipt.blocks {
        match block {
            Block::Text {
                text,
                align,
                size,
                bold,
            } => {
                out.extend([0x1B, 0x61, *align as u8]);
                let (w, h) = (size.0.clamp(1, 8), size.1.clamp(1, 8));
                match gbk(text) {
                    Some(bytes) => {
                        out.extend([0x1D, 0x21, ((w - 1) << 4) | (h - 1)]);
                        out.extend([0x1B, 0x45, u8::from(*bold)]);
                        out.extend(bytes);
                        out.push(b'\n');
                        out.extend([0x1D, 0x21, 0x00, 0x1B, 0x45, 0x00]);
                    }
                    None => {
                        let font = font.ok_or(EncodeError::NoFont)?;
                        let bitmap =
                            font.render_line(text, 24 * u32::from(h), *bold, profile.width_dots);
                        raster(&mut out, &bitmap, profile)?;
                    }
                }
            }
            Block::Qr {
                data,
                module,
                level,
                align,
            } => {
                out.extend([0x1B, 0x61, *align as u8]);
                let module = (*module).clamp(1, 16);
                if profile.native_qr {
                    native_qr(&mut out, data.as_bytes(), module, *level)?;
                } else {
                    let bitmap = qr_bitmap(data.as_bytes(), module, *level)?;
                    raster(&mut out, &bitmap, profile)?;
                }
            }
            Block::Image { bitmap, align } => {
                out.extend([0x1B, 0x61, *align as u8]);
                raster(&mut out, bitmap, profile)?;
            }
            Block::Feed(n) => out.extend([0x1B, 0x64, *n]),
        }
    }
    out.extend([0x1B, 0x61, 0x00]);
    match profile.cut {
        // Feed to the cutter plus 3 units, then cut.
        CutMode::Full => out.extend([0x1D, 0x56, 65, 3]),
        CutMode::Partial => out.extend([0x1D, 0x56, 66, 3]),
        CutMode::None => out.extend([0x1B, 0x64, 4]),
    }
    Ok(out)
}

fn native_qr(
    out: &mut Vec<u8>,
    data: &[u8],
    module: u8,
    level: QrLevel,
) -> Result<(), EncodeError> {
    // Check it fits a QR symbol at all (version 40, byte mode), as the printer would silently
    // print nothing.
    let capacity = match level {
        QrLevel::L => 2953,
        QrLevel::M => 2331,
        QrLevel::Q => 1663,
        QrLevel::H => 1273,
    };
    if data.len() > capacity {
        return Err(EncodeError::Qr(format!(
            "{} bytes; at most {capacity} fit at this error-correction level",
            data.len()
        )));
    }
    let store_len =
        u16::try_from(data.len() + 3).map_err(|_| EncodeError::Qr("too long".into()))?;
    out.extend([0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 50, 0x00]);
    out.extend([0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, module]);
    out.extend([0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, level.escpos()]);
    out.extend([0x1D, 0x28, 0x6B]);
    out.extend(store_len.to_le_bytes());
    out.extend([0x31, 0x50, 0x30]);
    out.extend_from_slice(data);
    out.extend([0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30]);
    Ok(())
}

/// A QR symbol as a bitmap with a 4-module quiet zone.
pub fn qr_bitmap(data: &[u8], module: u8, level: QrLevel) -> Result<Bitmap, EncodeError> {
    let code = qrcode::QrCode::with_error_correction_level(data, level.qrcode())
        .map_err(|e| EncodeError::Qr(e.to_string()))?;
    let n = code.width() as u32;
    let m = u32::from(module);
    let quiet = 4;
    let side = (n + 2 * quiet) * m;
    let mut bitmap = Bitmap::new(side, side);
    let colors = code.to_colors();
    for y in 0..n {
        for x in 0..n {
            if colors[(y * n + x) as usize] == qrcode::Color::Dark {
                for dy in 0..m {
                    for dx in 0..m {
                        bitmap.set((x + quiet) * m + dx, (y + quiet) * m + dy, true);
                    }
                }
            }
        }
    }
    Ok(bitmap)
}

/// `GS v 0` bands of at most `max_band_rows` rows.
fn raster(out: &mut Vec<u8>, bitmap: &Bitmap, profile: &Profile) -> Result<(), EncodeError> {
    if bitmap.width > profile.width_dots {
        return Err(EncodeError::TooWide(bitmap.width, profile.width_dots));
    }
    let row_bytes = bitmap.bytes_per_row();
    let band = profile.max_band_rows.max(1);
    let mut y = 0;
    while y < bitmap.height {
        let rows = band.min(bitmap.height - y);
        out.extend([0x1D, 0x76, 0x30, 0x00]);
        out.extend(u16::try_from(row_bytes).unwrap_or(u16::MAX).to_le_bytes());
        out.extend(u16::try_from(rows).unwrap_or(u16::MAX).to_le_bytes());
        let start = (y * row_bytes) as usize;
        out.extend_from_slice(&bitmap.bits[start..start + (rows * row_bytes) as usize]);
        y += rows;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_receipt_has_exact_bytes() {
        let r = Receipt::new()
            .styled("受理回执", Align::Centre, (2, 2), true)
            .text("No.1")
            .feed(2);
        let bytes = encode(&r, &Profile::generic_58mm(), None).unwrap();
        let mut want = vec![0x1B, 0x40, 0x1C, 0x26];
        want.extend([0x1B, 0x61, 1, 0x1D, 0x21, 0x11, 0x1B, 0x45, 1]);
        want.extend([0xCA, 0xDC, 0xC0, 0xED, 0xBB, 0xD8, 0xD6, 0xB4, b'\n']); // 受理回执 in GBK
        want.extend([0x1D, 0x21, 0, 0x1B, 0x45, 0]);
        want.extend([0x1B, 0x61, 0, 0x1D, 0x21, 0x00, 0x1B, 0x45, 0]);
        want.extend(b"No.1\n");
        want.extend([0x1D, 0x21, 0, 0x1B, 0x45, 0]);
        want.extend([0x1B, 0x64, 2]);
        want.extend([0x1B, 0x61, 0, 0x1B, 0x64, 4]);
        assert_eq!(bytes, want);
    }

    #[test]
    fn native_qr_follows_the_function_numbers() {
        let r = Receipt::new().qr("HK-1", 6);
        let bytes = encode(&r, &Profile::generic_80mm(), None).unwrap();
        let qr = [
            0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 50, 0x00, // model 2
            0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 6, // module 6
            0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 49, // level M
            0x1D, 0x28, 0x6B, 7, 0, 0x31, 0x50, 0x30, b'H', b'K', b'-', b'1', // store k+3 = 7
            0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30, // print
        ];
        assert!(bytes.windows(qr.len()).any(|w| w == qr), "{bytes:02X?}");
        assert!(
            bytes.ends_with(&[0x1D, 0x56, 66, 3]),
            "partial cut after feed"
        );
    }

    #[test]
    fn qr_data_that_cannot_fit_is_refused() {
        let long = "x".repeat(2332);
        let r = Receipt::new().qr(long.as_str(), 2);
        assert!(matches!(
            encode(&r, &Profile::generic_80mm(), None),
            Err(EncodeError::Qr(_))
        ));
        assert!(matches!(
            encode(&r, &Profile::generic_58mm(), None),
            Err(EncodeError::Qr(_))
        ));
        let fits = Receipt::new().qr("x".repeat(2331), 2);
        assert!(encode(&fits, &Profile::generic_80mm(), None).is_ok());
    }

    #[test]
    fn qr_without_native_support_is_a_raster() {
        let r = Receipt::new().qr("HK-1", 4);
        let bytes = encode(&r, &Profile::generic_58mm(), None).unwrap();
        assert!(!bytes.windows(3).any(|w| w == [0x1D, 0x28, 0x6B]));
        let at = bytes
            .windows(4)
            .position(|w| w == [0x1D, 0x76, 0x30, 0])
            .unwrap();
        // 21 modules + 8 quiet = 29 × 4 = 116 dots → 15 bytes per row, 116 rows.
        assert_eq!(&bytes[at + 4..at + 8], &[15, 0, 116, 0]);
    }

    #[test]
    fn tall_images_go_in_bands_and_wide_ones_are_refused() {
        let r = Receipt::new().image(Bitmap::new(64, 600), Align::Centre);
        let bytes = encode(&r, &Profile::generic_80mm(), None).unwrap();
        let bands = bytes
            .windows(4)
            .filter(|w| *w == [0x1D, 0x76, 0x30, 0])
            .count();
        assert_eq!(bands, 3, "255 + 255 + 90 rows");
        let wide = Receipt::new().image(Bitmap::new(600, 8), Align::Left);
        assert_eq!(
            encode(&wide, &Profile::generic_80mm(), None),
            Err(EncodeError::TooWide(600, 576))
        );
    }

    #[test]
    fn gbk_detects_what_needs_a_raster() {
        assert!(fits_gbk("张小三 No.1 ￥"));
        assert!(
            fits_gbk("䶮堃喆"),
            "GB18030's two-byte extras print from the printer's font"
        );
        assert!(!fits_gbk("李㛃"), "U+36C3 needs a 4-byte GB18030 code");
        assert!(
            !fits_gbk("𠮷"),
            "supplementary-plane characters need 4 bytes in GB18030"
        );
        let r = Receipt::new().text("李㛃");
        assert_eq!(
            encode(&r, &Profile::generic_80mm(), None),
            Err(EncodeError::NoFont)
        );
    }
}
