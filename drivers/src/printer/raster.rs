//! 1-bit bitmaps for `GS v 0` rasters (MSB = leftmost dot, 1 = black), dithering for logos, and
//! drawing text with a CJK font for characters the printer cannot print from its own font.

use ab_glyph::{point, Font, FontVec, PxScale, ScaleFont};
use std::fmt;
use std::path::Path;

/// A 1-bit image, rows padded to whole bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Bitmap {
    pub width: u32,
    pub height: u32,
    pub bits: Vec<u8>,
}

impl fmt::Debug for Bitmap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bitmap({}x{})", self.width, self.height)
    }
}

impl Bitmap {
    pub fn new(width: u32, height: u32) -> Bitmap {
        Bitmap {
            width,
            height,
            bits: vec![0; (width.div_ceil(8) * height) as usize],
        }
    }

    pub fn bytes_per_row(&self) -> u32 {
        self.width.div_ceil(8)
    }

    /// From raw `GS v 0` data (`row_bytes` × `rows`).
    pub fn from_raster(row_bytes: u32, rows: u32, bits: Vec<u8>) -> Bitmap {
        Bitmap {
            width: row_bytes * 8,
            height: rows,
            bits,
        }
    }

    pub fn set(&mut self, x: u32, y: u32, black: bool) {
        if x >= self.width || y >= self.height {
            return;
        }
        let i = (y * self.bytes_per_row() + x / 8) as usize;
        let mask = 0x80 >> (x % 8);
        if black {
            self.bits[i] |= mask;
        } else {
            self.bits[i] &= !mask;
        }
    }

    pub fn get(&self, x: u32, y: u32) -> bool {
        if x >= self.width || y >= self.height {
            return false;
        }
        self.bits[(y * self.bytes_per_row() + x / 8) as usize] & (0x80 >> (x % 8)) != 0
    }

    /// Floyd–Steinberg dithering of a grey image (0 black … 255 white), scaled down to at most
    /// `max_width` dots.
    pub fn dither(image: &image::GrayImage, max_width: u32) -> Bitmap {
        let image = if image.width() > max_width {
            let h = (u64::from(image.height()) * u64::from(max_width) / u64::from(image.width()))
                .max(1);
            image::imageops::resize(
                image,
                max_width,
                h as u32,
                image::imageops::FilterType::Triangle,
            )
        } else {
            image.clone()
        };
        let (w, h) = image.dimensions();
        let mut err: Vec<f32> = image.pixels().map(|p| f32::from(p.0[0])).collect();
        let mut out = Bitmap::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let i = (y * w + x) as usize;
                let old = err[i];
                let black = old < 128.0;
                out.set(x, y, black);
                let e = old - if black { 0.0 } else { 255.0 };
                let mut spread = |dx: i32, dy: u32, k: f32| {
                    let nx = x as i32 + dx;
                    if nx >= 0 && (nx as u32) < w && y + dy < h {
                        err[((y + dy) * w + nx as u32) as usize] += e * k;
                    }
                };
                spread(1, 0, 7.0 / 16.0);
                spread(-1, 1, 3.0 / 16.0);
                spread(0, 1, 5.0 / 16.0);
                spread(1, 1, 1.0 / 16.0);
            }
        }
        out
    }

    /// A grey image of the bitmap (black dots 0, paper 255).
    pub fn to_gray(&self) -> image::GrayImage {
        image::GrayImage::from_fn(self.width, self.height, |x, y| {
            image::Luma([if self.get(x, y) { 0 } else { 255 }])
        })
    }
}

/// Where Debian's fonts-noto-cjk puts the CJK font, and the face index of Simplified Chinese.
pub const SYSTEM_CJK_FONT: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";
const SC_FACE: u32 = 2;

/// Draws text lines with a CJK font.
pub struct TextRaster {
    font: FontVec,
}

impl fmt::Debug for TextRaster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TextRaster")
    }
}

impl TextRaster {
    /// Loads face `index` of a font file (`.ttf`, `.otf` or a `.ttc` collection).
    pub fn from_file(path: &Path, index: u32) -> std::io::Result<TextRaster> {
        let data = std::fs::read(path)?;
        let font = FontVec::try_from_vec_and_index(data, index).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        })?;
        Ok(TextRaster { font })
    }

    /// The system's Noto Sans CJK SC (installed by `scripts/setup` and in kiosk images).
    pub fn system() -> std::io::Result<TextRaster> {
        Self::from_file(Path::new(SYSTEM_CJK_FONT), SC_FACE)
    }

    /// Whether the font has a glyph for every character of `text`.
    pub fn covers(&self, text: &str) -> bool {
        text.chars()
            .all(|c| c.is_whitespace() || self.font.glyph_id(c).0 != 0)
    }

    /// Draws `text` on one line `px` dots tall, clipped to `max_width` dots.
    pub fn render_line(&self, text: &str, px: u32, bold: bool, max_width: u32) -> Bitmap {
        let scale = PxScale::from(px as f32);
        let scaled = self.font.as_scaled(scale);
        let width: f32 = text
            .chars()
            .map(|c| scaled.h_advance(scaled.glyph_id(c)))
            .sum();
        let width = (width.ceil() as u32 + u32::from(bold)).clamp(1, max_width.max(1));
        let mut bitmap = Bitmap::new(width, px);
        let mut x = 0.0f32;
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            let glyph = id.with_scale_and_position(scale, point(x, scaled.ascent()));
            x += scaled.h_advance(id);
            if let Some(outline) = self.font.outline_glyph(glyph) {
                let b = outline.px_bounds();
                outline.draw(|gx, gy, coverage| {
                    if coverage > 0.45 {
                        let px_x = b.min.x as i32 + gx as i32;
                        let px_y = b.min.y as i32 + gy as i32;
                        if px_x >= 0 && px_y >= 0 {
                            bitmap.set(px_x as u32, px_y as u32, true);
                            if bold {
                                bitmap.set(px_x as u32 + 1, px_y as u32, true);
                            }
                        }
                    }
                });
            }
        }
        bitmap
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_msb_first_and_rows_padded() {
        let mut b = Bitmap::new(10, 2);
        assert_eq!(b.bytes_per_row(), 2);
        b.set(0, 0, true);
        b.set(9, 1, true);
        assert_eq!(b.bits, vec![0x80, 0, 0, 0x40]);
        assert!(b.get(9, 1) && !b.get(8, 1) && !b.get(100, 0));
    }

    #[test]
    fn dithering_keeps_the_grey_level() {
        let grey = image::GrayImage::from_pixel(64, 64, image::Luma([128]));
        let b = Bitmap::dither(&grey, 576);
        let black = (0..64)
            .flat_map(|y| (0..64).map(move |x| (x, y)))
            .filter(|&(x, y)| b.get(x, y))
            .count();
        let share = black as f64 / 4096.0;
        assert!((0.4..0.6).contains(&share), "{share}");
        let wide = image::GrayImage::from_pixel(1000, 100, image::Luma([0]));
        assert_eq!(Bitmap::dither(&wide, 576).width, 576);
    }
}
