//! What a printer puts on paper, from parsed ESC/POS [`Op`]s: a page model, a JSON transcript, and
//! a PNG render (text with a CJK font, rasters, QR modules, cut marks). The simulator and
//! `hallkiosk print preview` use it; it is the independent judge of the encoder's bytes.

use super::parse::{decode_text, Op};
use super::raster::{Bitmap, TextRaster};
use super::receipt::{qr_bitmap, QrLevel};
use serde_json::json;

/// Dots per text line: 24-dot characters plus the default 6-dot spacing (ESC 2 ≈ 1/6 inch).
pub const LINE_DOTS: u32 = 30;
const CHAR_DOTS: u32 = 24;

/// A run of text with one style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub text: String,
    pub bold: bool,
    pub size: (u8, u8),
}

/// One thing on the paper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Line {
        runs: Vec<Run>,
        align: u8,
    },
    Raster {
        bitmap: Bitmap,
        align: u8,
    },
    Qr {
        data: Vec<u8>,
        module: u8,
        level: u8,
        align: u8,
    },
    Feed(u32),
    Cut(u8),
}

/// The printed page and the printer's text state.
#[derive(Debug, Clone)]
pub struct Page {
    pub width_dots: u32,
    pub items: Vec<Item>,
    /// One JSON object per command applied.
    pub transcript: Vec<serde_json::Value>,
    chinese: bool,
    align: u8,
    bold: bool,
    size: (u8, u8),
    line: Vec<Run>,
    qr_module: u8,
    qr_level: u8,
    qr_data: Vec<u8>,
}

impl Page {
    pub fn new(width_dots: u32, chinese_on_power_up: bool) -> Page {
        Page {
            width_dots,
            items: Vec::new(),
            transcript: Vec::new(),
            chinese: chinese_on_power_up,
            align: 0,
            bold: false,
            size: (1, 1),
            line: Vec::new(),
            qr_module: 3,
            qr_level: 48,
            qr_data: Vec::new(),
        }
    }

    /// The text lines printed so far, in order (for tests and logs of the simulator).
    pub fn text_lines(&self) -> Vec<String> {
        self.items
            .iter()
            .filter_map(|i| match i {
                Item::Line { runs, .. } => Some(runs.iter().map(|r| r.text.as_str()).collect()),
                _ => None,
            })
            .collect()
    }

    /// Number of cuts so far.
    pub fn cuts(&self) -> usize {
        self.items
            .iter()
            .filter(|i| matches!(i, Item::Cut(_)))
            .count()
    }

    fn flush_line(&mut self) {
        let runs = std::mem::take(&mut self.line);
        self.items.push(Item::Line {
            runs,
            align: self.align,
        });
    }

    /// Applies one op. Status ops are the caller's business and only recorded.
    pub fn apply(&mut self, op: &Op) {
        let t = match op {
            Op::Init => {
                let chinese = self.chinese;
                *self = Page {
                    items: std::mem::take(&mut self.items),
                    transcript: std::mem::take(&mut self.transcript),
                    ..Page::new(self.width_dots, chinese)
                };
                json!({"op": "init"})
            }
            Op::ChineseMode(on) => {
                self.chinese = *on;
                json!({"op": "chinese_mode", "on": on})
            }
            Op::ChineseQuad(on) => json!({"op": "chinese_quad", "on": on}),
            Op::Align(a) => {
                self.align = (*a).min(2);
                json!({"op": "align", "value": a})
            }
            Op::Bold(b) => {
                self.bold = *b;
                json!({"op": "bold", "on": b})
            }
            Op::Size(w, h) => {
                self.size = (*w, *h);
                json!({"op": "size", "width": w, "height": h})
            }
            Op::Text(bytes) => {
                let text = decode_text(bytes, self.chinese);
                self.line.push(Run {
                    text: text.clone(),
                    bold: self.bold,
                    size: self.size,
                });
                json!({"op": "text", "text": text})
            }
            Op::LineFeed => {
                self.flush_line();
                json!({"op": "line_feed"})
            }
            Op::Feed(n) => {
                if !self.line.is_empty() {
                    self.flush_line();
                }
                self.items.push(Item::Feed(u32::from(*n) * LINE_DOTS));
                json!({"op": "feed", "lines": n})
            }
            Op::Raster {
                mode,
                row_bytes,
                rows,
                data,
            } => {
                let mut bitmap =
                    Bitmap::from_raster(u32::from(*row_bytes), u32::from(*rows), data.clone());
                let m = *mode % 48;
                if m != 0 {
                    bitmap = scale(&bitmap, 1 + u32::from(m & 1), 1 + u32::from((m >> 1) & 1));
                }
                self.items.push(Item::Raster {
                    bitmap,
                    align: self.align,
                });
                json!({"op": "raster", "mode": mode, "row_bytes": row_bytes, "rows": rows})
            }
            Op::QrModel(n) => json!({"op": "qr_model", "model": n}),
            Op::QrModule(n) => {
                self.qr_module = (*n).clamp(1, 16);
                json!({"op": "qr_module", "size": n})
            }
            Op::QrLevel(n) => {
                self.qr_level = *n;
                json!({"op": "qr_level", "level": n})
            }
            Op::QrStore(data) => {
                self.qr_data = data.clone();
                json!({"op": "qr_store", "data": String::from_utf8_lossy(data)})
            }
            Op::QrPrint => {
                self.items.push(Item::Qr {
                    data: self.qr_data.clone(),
                    module: self.qr_module,
                    level: self.qr_level,
                    align: self.align,
                });
                json!({"op": "qr_print"})
            }
            Op::Cut { mode, feed } => {
                if !self.line.is_empty() {
                    self.flush_line();
                }
                if matches!(mode, 65 | 66) {
                    self.items
                        .push(Item::Feed(u32::from(*feed) + 3 * LINE_DOTS));
                }
                self.items.push(Item::Cut(*mode));
                let kind = match mode {
                    0 | 48 | 65 => "full",
                    _ => "partial",
                };
                json!({"op": "cut", "mode": mode, "kind": kind, "feed": feed})
            }
            Op::StatusRequest(n) => json!({"op": "dle_eot", "n": n}),
            Op::TransmitStatus(n) => json!({"op": "gs_r", "n": n}),
            Op::AutoStatusBack(n) => json!({"op": "asb", "enable": n}),
            Op::Drawer => json!({"op": "drawer"}),
            Op::Unknown(bytes) => json!({"op": "unknown", "bytes": hex(bytes)}),
            Op::Invalid(why) => json!({"op": "invalid", "reason": why}),
        };
        self.transcript.push(t);
    }

    /// Draws the page: white paper, black dots, `width_dots` wide. Without a font, text is drawn
    /// as filled boxes of the right size.
    pub fn render(&self, font: Option<&TextRaster>) -> image::GrayImage {
        let mut blocks: Vec<(Bitmap, u8)> = Vec::new();
        for item in &self.items {
            match item {
                Item::Line { runs, align } => blocks.push((self.render_line(runs, font), *align)),
                Item::Raster { bitmap, align } => blocks.push((bitmap.clone(), *align)),
                Item::Qr {
                    data,
                    module,
                    level,
                    align,
                } => {
                    let level = match level {
                        48 => QrLevel::L,
                        50 => QrLevel::Q,
                        51 => QrLevel::H,
                        _ => QrLevel::M,
                    };
                    if let Ok(b) = qr_bitmap(data, *module, level) {
                        blocks.push((b, *align));
                    }
                }
                Item::Feed(dots) => blocks.push((Bitmap::new(1, *dots), 0)),
                Item::Cut(_) => {
                    let mut b = Bitmap::new(self.width_dots, 9);
                    for x in (0..self.width_dots).filter(|x| x % 12 < 6) {
                        b.set(x, 4, true);
                    }
                    blocks.push((b, 0));
                }
            }
        }
        let height: u32 = blocks.iter().map(|(b, _)| b.height).sum::<u32>().max(1);
        let mut img = image::GrayImage::from_pixel(self.width_dots, height, image::Luma([255]));
        let mut y0 = 0;
        for (b, align) in blocks {
            let w = b.width.min(self.width_dots);
            let x0 = match align {
                1 => (self.width_dots - w) / 2,
                2 => self.width_dots - w,
                _ => 0,
            };
            for y in 0..b.height {
                for x in 0..w {
                    if b.get(x, y) {
                        img.put_pixel(x0 + x, y0 + y, image::Luma([0]));
                    }
                }
            }
            y0 += b.height;
        }
        img
    }

    fn render_line(&self, runs: &[Run], font: Option<&TextRaster>) -> Bitmap {
        let height = runs.iter().map(|r| u32::from(r.size.1)).max().unwrap_or(1) * CHAR_DOTS
            + (LINE_DOTS - CHAR_DOTS);
        let mut pieces = Vec::new();
        for r in runs {
            let px = CHAR_DOTS * u32::from(r.size.1);
            let piece = match font {
                Some(f) => {
                    let b = f.render_line(&r.text, px, r.bold, self.width_dots);
                    if r.size.0 != r.size.1 {
                        let wx = u32::from(r.size.0);
                        let hy = u32::from(r.size.1);
                        stretch_x(&b, wx, hy)
                    } else {
                        b
                    }
                }
                None => boxes(&r.text, r.size),
            };
            pieces.push(piece);
        }
        let width = pieces
            .iter()
            .map(|p| p.width)
            .sum::<u32>()
            .clamp(1, self.width_dots);
        let mut line = Bitmap::new(width, height);
        let mut x0 = 0;
        for p in pieces {
            let top = height - (LINE_DOTS - CHAR_DOTS) - p.height.min(height);
            for y in 0..p.height.min(height) {
                for x in 0..p.width {
                    if p.get(x, y) {
                        line.set(x0 + x, top + y, true);
                    }
                }
            }
            x0 += p.width;
        }
        line
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn scale(b: &Bitmap, sx: u32, sy: u32) -> Bitmap {
    let mut out = Bitmap::new(b.width * sx, b.height * sy);
    for y in 0..out.height {
        for x in 0..out.width {
            if b.get(x / sx, y / sy) {
                out.set(x, y, true);
            }
        }
    }
    out
}

fn stretch_x(b: &Bitmap, w: u32, h: u32) -> Bitmap {
    let width = (b.width * w / h).max(1);
    let mut out = Bitmap::new(width, b.height);
    for y in 0..b.height {
        for x in 0..width {
            if b.get(x * h / w, y) {
                out.set(x, y, true);
            }
        }
    }
    out
}

/// Text without a font: a filled box per character (12 dots for ASCII, 24 for others).
fn boxes(text: &str, size: (u8, u8)) -> Bitmap {
    let (w, h) = (u32::from(size.0), u32::from(size.1));
    let widths: Vec<u32> = text
        .chars()
        .map(|c| if c.is_ascii() { 12 } else { 24 } * w)
        .collect();
    let mut b = Bitmap::new(widths.iter().sum::<u32>().max(1), CHAR_DOTS * h);
    let mut x0 = 0;
    for (c, cw) in text.chars().zip(widths) {
        if !c.is_whitespace() {
            for y in 2..b.height - 2 {
                for x in x0 + 2..x0 + cw - 2 {
                    b.set(x, y, true);
                }
            }
        }
        x0 += cw;
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printer::parse::Parser;
    use crate::printer::receipt::{encode, Align, Profile, Receipt};

    fn page_of(r: &Receipt, p: &Profile) -> Page {
        let mut page = Page::new(p.width_dots, p.chinese_on_power_up);
        for op in Parser::new(p.chinese_on_power_up).push(&encode(r, p, None).unwrap()) {
            page.apply(&op);
        }
        page
    }

    #[test]
    fn text_qr_and_cut_land_on_the_page() {
        let r = Receipt::new()
            .styled("受理回执", Align::Centre, (2, 2), true)
            .text("编号 HK-0001")
            .qr("HK-0001", 5);
        let page = page_of(&r, &Profile::generic_80mm());
        assert_eq!(page.text_lines(), vec!["受理回执", "编号 HK-0001"]);
        assert_eq!(page.cuts(), 1);
        assert!(page
            .items
            .iter()
            .any(|i| matches!(i, Item::Qr { data, module: 5, .. } if data == b"HK-0001")));
        let t = serde_json::to_string(&page.transcript).unwrap();
        assert!(t.contains(r#""kind":"partial""#), "{t}");
        let img = page.render(None);
        assert_eq!(img.width(), 576);
        assert!(img.pixels().any(|p| p.0[0] == 0));
    }
}
