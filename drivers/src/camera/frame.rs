//! Frames as cameras deliver them and their conversion to the grayscale image the decoder reads,
//! or to colour for photographs of materials (a red seal must stay red).

use image::{GrayImage, RgbImage};
use std::fmt;
use std::path::Path;

/// The pixel formats the kiosk accepts from a camera. YUYV and MJPEG cover practically every UVC
/// camera; GREY is what the file source and some industrial cameras deliver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PixelFormat {
    /// 4:2:2 packed, Y0 U Y1 V: two bytes a pixel, luma at even offsets.
    Yuyv,
    /// One JPEG image a frame (some cameras leave out the Huffman tables).
    Mjpeg,
    /// 8-bit luma, one byte a pixel.
    Grey,
    /// 8-bit R, G, B: three bytes a pixel (the file source in colour).
    Rgb24,
}

impl PixelFormat {
    /// The V4L2 FourCC.
    pub fn fourcc(self) -> [u8; 4] {
        match self {
            PixelFormat::Yuyv => *b"YUYV",
            PixelFormat::Mjpeg => *b"MJPG",
            PixelFormat::Grey => *b"GREY",
            PixelFormat::Rgb24 => *b"RGB3",
        }
    }

    pub fn from_fourcc(fourcc: [u8; 4]) -> Option<Self> {
        match &fourcc {
            b"YUYV" => Some(PixelFormat::Yuyv),
            b"MJPG" => Some(PixelFormat::Mjpeg),
            b"GREY" => Some(PixelFormat::Grey),
            b"RGB3" => Some(PixelFormat::Rgb24),
            _ => None,
        }
    }
}

impl fmt::Display for PixelFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(std::str::from_utf8(&self.fourcc()).unwrap_or("????"))
    }
}

/// One captured frame: the bytes as the device gave them.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    pub format: PixelFormat,
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Frame({} {}x{}, {} bytes)",
            self.format,
            self.width,
            self.height,
            self.data.len()
        )
    }
}

/// Why a frame could not be turned into an image. Reported; the next frame is tried.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    #[error("frame of {got} bytes is too short for {format} {width}x{height} (needs {needed})")]
    Truncated {
        format: PixelFormat,
        width: u32,
        height: u32,
        got: usize,
        needed: usize,
    },
    #[error("frame has no pixels ({width}x{height})")]
    Empty { width: u32, height: u32 },
    /// The camera reported a size no frame can have (its pixel count overflows memory sizes).
    #[error("frame size {width}x{height} is impossible")]
    TooLarge { width: u32, height: u32 },
    #[error("bad JPEG frame: {0}")]
    BadJpeg(String),
}

impl Frame {
    /// The plane of `bytes_per_pixel`-byte pixels, or why the frame cannot hold one.
    fn plane(&self, bytes_per_pixel: usize) -> Result<&[u8], FrameError> {
        let (width, height) = (self.width, self.height);
        let needed = (width as usize)
            .checked_mul(height as usize)
            .and_then(|pixels| pixels.checked_mul(bytes_per_pixel))
            .ok_or(FrameError::TooLarge { width, height })?;
        if needed == 0 {
            return Err(FrameError::Empty { width, height });
        }
        self.data.get(..needed).ok_or(FrameError::Truncated {
            format: self.format,
            width,
            height,
            got: self.data.len(),
            needed,
        })
    }

    /// The luma plane.
    pub fn to_gray(&self) -> Result<GrayImage, FrameError> {
        let (width, height) = (self.width, self.height);
        let luma = match self.format {
            PixelFormat::Grey => self.plane(1)?.to_vec(),
            PixelFormat::Yuyv => self.plane(2)?.iter().step_by(2).copied().collect(),
            PixelFormat::Rgb24 => self
                .plane(3)?
                .chunks_exact(3)
                .map(|p| luma(p[0], p[1], p[2]))
                .collect(),
            PixelFormat::Mjpeg => return Ok(decode_jpeg_image(&self.data)?.to_luma8()),
        };
        Ok(GrayImage::from_raw(width, height, luma).expect("sized plane"))
    }

    /// The frame in colour (a gray frame as gray pixels).
    pub fn to_rgb(&self) -> Result<RgbImage, FrameError> {
        let (width, height) = (self.width, self.height);
        let rgb = match self.format {
            PixelFormat::Grey => self.plane(1)?.iter().flat_map(|&v| [v, v, v]).collect(),
            PixelFormat::Rgb24 => self.plane(3)?.to_vec(),
            PixelFormat::Yuyv => {
                let plane = self.plane(2)?;
                let mut out = Vec::with_capacity(plane.len() / 2 * 3);
                // Y0 U Y1 V: two pixels share one chroma pair. The last pixel of an odd width
                // has its pair's chroma too.
                for quad in plane.chunks(4) {
                    let (u, v) = (quad.get(1).copied(), quad.get(3).copied());
                    let (u, v) = (u.unwrap_or(128), v.unwrap_or(128));
                    out.extend_from_slice(&yuv_to_rgb(quad[0], u, v));
                    if quad.len() == 4 {
                        out.extend_from_slice(&yuv_to_rgb(quad[2], u, v));
                    }
                }
                out
            }
            PixelFormat::Mjpeg => return Ok(decode_jpeg_image(&self.data)?.to_rgb8()),
        };
        Ok(RgbImage::from_raw(width, height, rgb).expect("sized plane"))
    }
}

/// BT.601 luma of an sRGB pixel, in integers (the weights sum to 256).
pub fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((77 * u32::from(r) + 150 * u32::from(g) + 29 * u32::from(b) + 128) >> 8) as u8
}

/// One YCbCr pixel as UVC cameras send it (BT.601, studio range: Y 16–235, Cb/Cr 16–240) to RGB.
fn yuv_to_rgb(y: u8, u: u8, v: u8) -> [u8; 3] {
    let c = (i32::from(y) - 16).max(0) * 298;
    let d = i32::from(u) - 128;
    let e = i32::from(v) - 128;
    let clamp = |x: i32| ((x + 128) >> 8).clamp(0, 255) as u8;
    [
        clamp(c + 409 * e),
        clamp(c - 100 * d - 208 * e),
        clamp(c + 516 * d),
    ]
}

/// Decodes a JPEG (an MJPEG frame) to luma, supplying the standard Huffman tables when the frame
/// has none (UVC cameras may leave them out and rely on the MJPEG convention).
pub fn decode_jpeg(data: &[u8]) -> Result<GrayImage, FrameError> {
    Ok(decode_jpeg_image(data)?.to_luma8())
}

fn decode_jpeg_image(data: &[u8]) -> Result<image::DynamicImage, FrameError> {
    let with_tables;
    let data = if needs_huffman_tables(data) {
        with_tables = insert_huffman_tables(data)
            .ok_or_else(|| FrameError::BadJpeg("no start-of-scan marker".into()))?;
        &with_tables[..]
    } else {
        data
    };
    image::load_from_memory_with_format(data, image::ImageFormat::Jpeg)
        .map_err(|e| FrameError::BadJpeg(e.to_string()))
}

/// Loads an image file (PNG, JPEG, WebP) as luma.
pub fn load_gray(path: &Path) -> Result<GrayImage, image::ImageError> {
    Ok(load(path)?.to_luma8())
}

/// Loads an image file (PNG, JPEG, WebP) in colour.
pub fn load_rgb(path: &Path) -> Result<RgbImage, image::ImageError> {
    Ok(load(path)?.to_rgb8())
}

fn load(path: &Path) -> Result<image::DynamicImage, image::ImageError> {
    image::ImageReader::open(path)?
        .with_guessed_format()?
        .decode()
}

/// Walks the JPEG marker segments before the scan; true when none is a DHT (FF C4).
fn needs_huffman_tables(data: &[u8]) -> bool {
    let mut at = 2; // after SOI
    while at + 4 <= data.len() {
        if data[at] != 0xFF {
            return false; // not a marker stream we understand; let the decoder judge it
        }
        let marker = data[at + 1];
        match marker {
            0xC4 => return false,
            0xDA => return true,
            0xD8 | 0x01 | 0xD0..=0xD7 => at += 2,
            0xFF => at += 1,
            _ => {
                let length = usize::from(u16::from_be_bytes([data[at + 2], data[at + 3]]));
                at += 2 + length;
            }
        }
    }
    false
}

/// Inserts the standard tables (ITU-T T.81 Annex K.3) just before the start of scan.
fn insert_huffman_tables(data: &[u8]) -> Option<Vec<u8>> {
    let sos = data.windows(2).position(|w| w == [0xFF, 0xDA])?;
    let mut out = Vec::with_capacity(data.len() + STANDARD_DHT.len());
    out.extend_from_slice(&data[..sos]);
    out.extend_from_slice(&STANDARD_DHT);
    out.extend_from_slice(&data[sos..]);
    Some(out)
}

/// One DHT segment holding the four standard tables: luma DC (class 0, id 0), luma AC (1, 0),
/// chroma DC (0, 1), chroma AC (1, 1). Each: class/id byte, 16 code-length counts, the symbols.
const STANDARD_DHT: [u8; 4 + (1 + 16 + 12) * 2 + (1 + 16 + 162) * 2] = {
    const LEN: usize = 2 + (1 + 16 + 12) * 2 + (1 + 16 + 162) * 2;
    let mut out = [0u8; 4 + (1 + 16 + 12) * 2 + (1 + 16 + 162) * 2];
    out[0] = 0xFF;
    out[1] = 0xC4;
    out[2] = (LEN >> 8) as u8;
    out[3] = LEN as u8;
    let tables: [(u8, &[u8; 16], &[u8]); 4] = [
        (0x00, &DC_LUMA_COUNTS, &DC_SYMBOLS),
        (0x10, &AC_LUMA_COUNTS, &AC_LUMA_SYMBOLS),
        (0x01, &DC_CHROMA_COUNTS, &DC_SYMBOLS),
        (0x11, &AC_CHROMA_COUNTS, &AC_CHROMA_SYMBOLS),
    ];
    let mut at = 4;
    let mut t = 0;
    while t < 4 {
        let (class_id, counts, symbols) = tables[t];
        out[at] = class_id;
        at += 1;
        let mut i = 0;
        while i < 16 {
            out[at] = counts[i];
            at += 1;
            i += 1;
        }
        let mut i = 0;
        while i < symbols.len() {
            out[at] = symbols[i];
            at += 1;
            i += 1;
        }
        t += 1;
    }
    out
};

const DC_LUMA_COUNTS: [u8; 16] = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_CHROMA_COUNTS: [u8; 16] = [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
const DC_SYMBOLS: [u8; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const AC_LUMA_COUNTS: [u8; 16] = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
const AC_LUMA_SYMBOLS: [u8; 162] = [
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
    0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
    0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
    0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
    0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
    0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
    0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
    0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
    0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
    0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
    0xf9, 0xfa,
];
const AC_CHROMA_COUNTS: [u8; 16] = [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77];
const AC_CHROMA_SYMBOLS: [u8; 162] = [
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
    0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
    0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
    0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
    0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
    0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
    0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
    0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
    0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
    0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
    0xf9, 0xfa,
];

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use image::codecs::jpeg::JpegEncoder;

    /// A JPEG of a gradient with a bar, as a camera would send it.
    pub(crate) fn sample_jpeg(width: u32, height: u32) -> Vec<u8> {
        let image = GrayImage::from_fn(width, height, |x, y| {
            image::Luma([if (x / 8) % 2 == 0 { 30 } else { (x + y) as u8 }])
        });
        let rgb = image::DynamicImage::ImageLuma8(image).to_rgb8();
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(&mut out, 90)
            .encode_image(&rgb)
            .unwrap();
        out
    }

    /// Removes every DHT segment, like cameras that rely on the MJPEG default tables.
    fn strip_huffman_tables(data: &[u8]) -> Vec<u8> {
        let mut out = data[..2].to_vec();
        let mut at = 2;
        loop {
            let marker = data[at + 1];
            if marker == 0xDA {
                out.extend_from_slice(&data[at..]);
                return out;
            }
            let length = usize::from(u16::from_be_bytes([data[at + 2], data[at + 3]]));
            if marker != 0xC4 {
                out.extend_from_slice(&data[at..at + 2 + length]);
            }
            at += 2 + length;
        }
    }

    #[test]
    fn yuyv_luma_is_every_other_byte() {
        let frame = Frame {
            format: PixelFormat::Yuyv,
            width: 2,
            height: 2,
            data: vec![10, 128, 20, 128, 30, 128, 40, 128],
        };
        assert_eq!(frame.to_gray().unwrap().into_raw(), vec![10, 20, 30, 40]);
    }

    #[test]
    fn yuyv_in_colour_is_bt601_studio_range() {
        // Two pixels: red (Y 81, Cb 90, Cr 240), then white and black sharing neutral chroma.
        let frame = Frame {
            format: PixelFormat::Yuyv,
            width: 2,
            height: 2,
            data: vec![81, 90, 81, 240, 235, 128, 16, 128],
        };
        let rgb = frame.to_rgb().unwrap();
        assert_eq!(rgb.get_pixel(0, 0).0, [255, 0, 0]);
        assert_eq!(rgb.get_pixel(1, 0).0, [255, 0, 0]);
        assert_eq!(rgb.get_pixel(0, 1).0, [255, 255, 255]);
        assert_eq!(rgb.get_pixel(1, 1).0, [0, 0, 0]);
        assert_eq!(frame.to_gray().unwrap().into_raw(), vec![81, 81, 235, 16]);
    }

    #[test]
    fn rgb_and_grey_frames_convert_both_ways() {
        let rgb = Frame {
            format: PixelFormat::Rgb24,
            width: 2,
            height: 1,
            data: vec![200, 30, 30, 255, 255, 255],
        };
        assert_eq!(rgb.to_rgb().unwrap().into_raw(), rgb.data);
        assert_eq!(
            rgb.to_gray().unwrap().into_raw(),
            vec![luma(200, 30, 30), 255]
        );
        let grey = Frame {
            format: PixelFormat::Grey,
            width: 2,
            height: 1,
            data: vec![7, 99],
        };
        assert_eq!(grey.to_rgb().unwrap().into_raw(), vec![7, 7, 7, 99, 99, 99]);
        let short = Frame {
            data: vec![1, 2, 3],
            ..rgb
        };
        assert!(matches!(
            short.to_rgb(),
            Err(FrameError::Truncated { needed: 6, .. })
        ));
    }

    #[test]
    fn mjpeg_keeps_its_colour() {
        let red = RgbImage::from_pixel(32, 16, image::Rgb([200, 20, 30]));
        let mut jpeg = Vec::new();
        JpegEncoder::new_with_quality(&mut jpeg, 95)
            .encode_image(&red)
            .unwrap();
        let frame = Frame {
            format: PixelFormat::Mjpeg,
            width: 32,
            height: 16,
            data: strip_huffman_tables(&jpeg),
        };
        let [r, g, b] = frame.to_rgb().unwrap().get_pixel(10, 8).0;
        assert!(r > 180 && g < 50 && b < 60, "{r} {g} {b}");
    }

    #[test]
    fn an_impossible_size_is_an_error_not_a_panic() {
        for format in [PixelFormat::Grey, PixelFormat::Yuyv, PixelFormat::Rgb24] {
            for (width, height) in [(u32::MAX, u32::MAX), (u32::MAX, 2), (65_536, 65_536)] {
                let frame = Frame {
                    format,
                    width,
                    height,
                    data: vec![0; 64],
                };
                assert!(frame.to_gray().is_err(), "{format} {width}x{height}");
                assert!(frame.to_rgb().is_err(), "{format} {width}x{height}");
            }
        }
    }

    #[test]
    fn truncated_and_empty_frames_are_errors() {
        let short = Frame {
            format: PixelFormat::Yuyv,
            width: 640,
            height: 480,
            data: vec![0; 1000],
        };
        assert!(matches!(
            short.to_gray(),
            Err(FrameError::Truncated { needed: 614400, .. })
        ));
        let empty = Frame {
            format: PixelFormat::Grey,
            width: 0,
            height: 480,
            data: vec![],
        };
        assert!(matches!(empty.to_gray(), Err(FrameError::Empty { .. })));
        let garbage = Frame {
            format: PixelFormat::Mjpeg,
            width: 640,
            height: 480,
            data: vec![0xFF, 0xD8, 0xFF, 0xDB, 0, 4, 1, 2, 0xFF, 0xDA, 0, 0],
        };
        assert!(matches!(garbage.to_gray(), Err(FrameError::BadJpeg(_))));
        let truncated_jpeg = Frame {
            format: PixelFormat::Mjpeg,
            width: 64,
            height: 48,
            data: sample_jpeg(64, 48)[..200].to_vec(),
        };
        assert!(truncated_jpeg.to_gray().is_err());
    }

    #[test]
    fn mjpeg_without_huffman_tables_decodes_like_the_original() {
        let original = sample_jpeg(64, 48);
        let stripped = strip_huffman_tables(&original);
        assert!(stripped.len() < original.len());
        assert!(needs_huffman_tables(&stripped));
        assert!(!needs_huffman_tables(&original));
        let expected = decode_jpeg(&original).unwrap();
        let frame = Frame {
            format: PixelFormat::Mjpeg,
            width: 64,
            height: 48,
            data: stripped,
        };
        assert_eq!(frame.to_gray().unwrap(), expected);
    }

    #[test]
    fn fourcc_round_trips() {
        for format in [
            PixelFormat::Yuyv,
            PixelFormat::Mjpeg,
            PixelFormat::Grey,
            PixelFormat::Rgb24,
        ] {
            assert_eq!(PixelFormat::from_fourcc(format.fourcc()), Some(format));
        }
        assert_eq!(PixelFormat::from_fourcc(*b"NV12"), None);
    }
}
