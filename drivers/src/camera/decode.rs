//! The QR decoder pipeline: one grayscale image in, at most one payload out.
//!
//! Two decoders are used: rxing (its port of zxing-cpp's QR reader, with a hybrid local binarizer)
//! first, rqrr second. Each attempt runs on a variant of the image — as it is (normal and inverted contrast),
//! scaled down, scaled up, or treated as a clean, centred code — and the pipeline stops at the first
//! valid decode or when its time budget is spent. A QR symbol carries Reed–Solomon error correction,
//! so a decode that passes it is taken as valid; a symbol that is only one part of a structured-append
//! message is reported as a [`Decode::Part`], never as the payload.
//!
//! Third-party decoders run inside `catch_unwind`: a panic in one (rqrr asserts on some degenerate
//! geometries) counts as "nothing found" for that attempt and never reaches the caller.
//!
//! Two entry points:
//! - [`QrDecoder::decode`] runs every attempt within the budget — for snapshots, files, `qr decode`;
//! - [`QrDecoder::decode_live`] runs the cheap attempt only — for a camera's live frames, where the
//!   next frame is the retry.

use image::{imageops, GrayImage};
use rxing::common::HybridBinarizer;
use rxing::qrcode::cpp_port::QrReader;
use rxing::{
    BinaryBitmap, DecodeHints, Luma8Source, RXingResultMetadataType, RXingResultMetadataValue,
    Reader,
};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

/// The longest side an image is reduced to before decoding. Larger inputs (a 4K still) are scaled
/// down first, which keeps the time of one attempt bounded.
pub const MAX_SIDE: u32 = 2048;

/// The longest side the [`Attempt::Fit`] variant reduces an image to: large codes in large photos
/// have modules too big for the binarizer's local window.
const FIT_SIDE: u32 = 400;

/// Which variant of the image and which decoder found the code (reported by `qr decode --json` and
/// used by the benchmark to show what each retry is worth).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// rxing on the image as given, normal and inverted contrast.
    Direct,
    /// rxing on the image scaled to one half.
    Half,
    /// rxing on the image scaled by 2 (small images only: longest side at most 320 pixels).
    Double,
    /// rqrr on the image as given.
    Rqrr,
    /// rxing on the image shrunk to about 400 pixels a side (large photos with large modules).
    Fit,
    /// rxing assuming one clean, unrotated code filling the image.
    Pure,
}

impl Attempt {
    /// The order of the full pipeline: cheapest and most productive first. Measured on the corpus
    /// (`hallkiosk qr decode --json` reports the attempt): direct 121, half 6, rqrr 2; the others
    /// rescue nothing there and stay as cheap last resorts for other kinds of damage. Tried and
    /// dropped: rxing at 0.75 and 1.5 (1.5 found the same 2 codes as rqrr at 3x its cost), at 2 for
    /// larger images, rqrr on inverted images (rxing already tries inverted contrast) — together
    /// they tripled the time spent on images without a code.
    pub const ALL: [Attempt; 6] = [
        Attempt::Direct,
        Attempt::Half,
        Attempt::Rqrr,
        Attempt::Fit,
        Attempt::Double,
        Attempt::Pure,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Attempt::Direct => "direct",
            Attempt::Half => "half",
            Attempt::Double => "double",
            Attempt::Rqrr => "rqrr",
            Attempt::Fit => "fit",
            Attempt::Pure => "pure",
        }
    }
}

/// What the pipeline made of an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decode {
    /// A complete code.
    Code { text: String, attempt: Attempt },
    /// One symbol of a structured-append message (several codes that only together carry the
    /// payload). A kiosk never acts on a part.
    Part { index: u8, attempt: Attempt },
    /// Nothing decodable within the budget.
    Nothing,
}

impl Decode {
    pub fn text(&self) -> Option<&str> {
        match self {
            Decode::Code { text, .. } => Some(text),
            _ => None,
        }
    }
}

/// The decoder with its time budget. Cheap to build; holds no state between images.
#[derive(Debug, Clone)]
pub struct QrDecoder {
    budget: Duration,
}

impl Default for QrDecoder {
    fn default() -> Self {
        QrDecoder {
            budget: Duration::from_millis(800),
        }
    }
}

impl QrDecoder {
    /// A decoder that starts no new attempt after `budget` has passed. One attempt on an image of
    /// at most [`MAX_SIDE`] pixels a side is not interrupted, so the bound is budget + one attempt.
    pub fn with_budget(budget: Duration) -> Self {
        QrDecoder { budget }
    }

    /// Runs the full pipeline.
    pub fn decode(&self, image: &GrayImage) -> Decode {
        self.run(image, &Attempt::ALL)
    }

    /// Runs the cheap first attempt only (live camera frames).
    pub fn decode_live(&self, image: &GrayImage) -> Decode {
        self.run(image, &[Attempt::Direct])
    }

    /// Runs the given attempts in order (the benchmark and tests use single attempts).
    pub fn run(&self, image: &GrayImage, attempts: &[Attempt]) -> Decode {
        let started = Instant::now();
        if image.width() == 0 || image.height() == 0 {
            return Decode::Nothing;
        }
        let capped;
        let longest = image.width().max(image.height());
        let image = if longest > MAX_SIDE {
            capped = shrink(image, longest.div_ceil(MAX_SIDE));
            &capped
        } else {
            image
        };
        for &attempt in attempts {
            if started.elapsed() >= self.budget {
                break;
            }
            if let Some(found) = try_attempt(image, attempt) {
                return match found {
                    Found::Code(text) => Decode::Code { text, attempt },
                    Found::Part(index) => Decode::Part { index, attempt },
                };
            }
        }
        Decode::Nothing
    }
}

enum Found {
    Code(String),
    Part(u8),
}

fn try_attempt(image: &GrayImage, attempt: Attempt) -> Option<Found> {
    match attempt {
        Attempt::Direct => with_rxing(image, false),
        Attempt::Half => with_rxing(&scale_to(image, 0.5), false),
        Attempt::Fit => {
            let longest = image.width().max(image.height());
            if longest < 2 * FIT_SIDE {
                return None;
            }
            with_rxing(&shrink(image, longest / FIT_SIDE), false)
        }
        Attempt::Double => {
            if image.width().max(image.height()) > 320 {
                return None;
            }
            with_rxing(&scale_to(image, 2.0), false)
        }
        Attempt::Pure => with_rxing(image, true),
        Attempt::Rqrr => with_rqrr(image.clone()),
    }
}

/// Shrinks by an integer factor, each output pixel the mean of a `factor`×`factor` block (fast,
/// and it keeps thin lines that sampling would drop). Edge blocks are partial.
fn shrink(image: &GrayImage, factor: u32) -> GrayImage {
    let factor = factor.max(1);
    let (width, height) = image.dimensions();
    let (out_w, out_h) = (width.div_ceil(factor), height.div_ceil(factor));
    let mut sums = vec![0u32; (out_w * out_h) as usize];
    let mut counts = vec![0u32; (out_w * out_h) as usize];
    for (y, row) in image.as_raw().chunks_exact(width as usize).enumerate() {
        let base = (y as u32 / factor * out_w) as usize;
        for (x, &value) in row.iter().enumerate() {
            let i = base + x / factor as usize;
            sums[i] += u32::from(value);
            counts[i] += 1;
        }
    }
    let pixels = sums
        .iter()
        .zip(&counts)
        .map(|(s, c)| (s / c) as u8)
        .collect();
    GrayImage::from_raw(out_w, out_h, pixels).expect("buffer sized from the dimensions")
}

/// Scales by `factor`, keeping at least one pixel a side; upscaling stays within [`MAX_SIDE`].
fn scale_to(image: &GrayImage, factor: f32) -> GrayImage {
    let longest = image.width().max(image.height()) as f32;
    let factor = factor.min(MAX_SIDE as f32 / longest);
    let width = ((image.width() as f32 * factor).round() as u32).max(1);
    let height = ((image.height() as f32 * factor).round() as u32).max(1);
    imageops::resize(image, width, height, imageops::FilterType::Triangle)
}

fn with_rxing(image: &GrayImage, pure: bool) -> Option<Found> {
    let (width, height) = image.dimensions();
    let hints = DecodeHints {
        TryHarder: Some(true),
        PureBarcode: Some(pure),
        ..DecodeHints::default()
    };
    // rxing's port of zxing-cpp's QR reader only: rxing's older ZXing-Java finder (which its
    // MultiFormatReader falls back to) takes seconds on periodic patterns (found by fuzzing).
    let decode = |luma: &[u8]| {
        let source = Luma8Source::new_with_slice(luma, width, height).ok()?;
        let mut bitmap = BinaryBitmap::new(HybridBinarizer::new(source));
        QrReader.decode_with_hints(&mut bitmap, &hints).ok()
    };
    let decoded = catch_unwind(AssertUnwindSafe(|| {
        decode(image.as_raw()).or_else(|| {
            if pure {
                return None;
            }
            let inverted: Vec<u8> = image.as_raw().iter().map(|v| 255 - v).collect();
            decode(&inverted)
        })
    }));
    let result = match decoded {
        Ok(Some(result)) => result,
        Ok(None) => return None,
        Err(_) => {
            tracing::debug!("rxing panicked on a {width}x{height} image; treated as no code");
            return None;
        }
    };
    if let Some(RXingResultMetadataValue::StructuredAppendSequence(index)) = result
        .getRXingResultMetadata()
        .get(&RXingResultMetadataType::STRUCTURED_APPEND_SEQUENCE)
    {
        if *index >= 0 {
            return Some(Found::Part(*index as u8));
        }
    }
    Some(Found::Code(result.getText().to_string()))
}

fn with_rqrr(image: GrayImage) -> Option<Found> {
    let (width, height) = image.dimensions();
    let decoded = catch_unwind(AssertUnwindSafe(move || {
        let mut prepared = rqrr::PreparedImage::prepare(image);
        for grid in prepared.detect_grids() {
            if let Ok((meta, text)) = grid.decode() {
                return Some((meta, text));
            }
        }
        None
    }));
    match decoded {
        Ok(Some((_, text))) => Some(Found::Code(text)),
        Ok(None) => None,
        Err(_) => {
            tracing::debug!("rqrr panicked on a {width}x{height} image; treated as no code");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qrcode::QrCode;

    fn code_image(text: &str, module: u32, quiet: u32) -> GrayImage {
        let code = QrCode::new(text.as_bytes()).unwrap();
        let width = code.width() as u32;
        let side = (width + 2 * quiet) * module;
        let colors = code.to_colors();
        GrayImage::from_fn(side, side, |x, y| {
            let (mx, my) = (x / module, y / module);
            let dark = mx >= quiet
                && my >= quiet
                && mx < quiet + width
                && my < quiet + width
                && colors[((my - quiet) * width + (mx - quiet)) as usize] == qrcode::Color::Dark;
            image::Luma([if dark { 0 } else { 255 }])
        })
    }

    #[test]
    fn decodes_a_generated_code_directly() {
        let image = code_image("HK-2026-000123", 6, 4);
        let found = QrDecoder::default().decode(&image);
        assert_eq!(found.text(), Some("HK-2026-000123"));
        assert!(matches!(
            found,
            Decode::Code {
                attempt: Attempt::Direct,
                ..
            }
        ));
    }

    #[test]
    fn decodes_chinese_text() {
        let image = code_image("政务服务 回执 HK-1", 5, 4);
        assert_eq!(
            QrDecoder::default().decode(&image).text(),
            Some("政务服务 回执 HK-1")
        );
    }

    #[test]
    fn decodes_inverted_contrast() {
        let mut image = code_image("INVERTED-42", 6, 4);
        imageops::invert(&mut image);
        assert_eq!(
            QrDecoder::default().decode(&image).text(),
            Some("INVERTED-42")
        );
    }

    #[test]
    fn blank_and_tiny_images_decode_to_nothing() {
        let decoder = QrDecoder::default();
        for (w, h) in [(0, 0), (1, 1), (0, 7), (64, 1), (320, 240)] {
            let image = GrayImage::from_pixel(w, h, image::Luma([200]));
            assert_eq!(decoder.decode(&image), Decode::Nothing, "{w}x{h}");
        }
    }

    #[test]
    fn huge_images_are_capped_before_decoding() {
        let small = code_image("BIG", 40, 4);
        let big = imageops::resize(&small, 4200, 4200, imageops::FilterType::Nearest);
        let started = Instant::now();
        assert_eq!(QrDecoder::default().decode(&big).text(), Some("BIG"));
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn an_exhausted_budget_starts_no_attempt() {
        let image = code_image("LATE", 6, 4);
        let decoder = QrDecoder::with_budget(Duration::ZERO);
        assert_eq!(decoder.decode(&image), Decode::Nothing);
    }
}
