//! Arbitrary bytes into the QR decoder entry points: as a raw grayscale image (first four bytes
//! width and height, capped at 640×640, the rest the pixels, repeated), and as a camera frame
//! (MJPEG, YUYV) or an image file (PNG/JPEG/WebP through the same loaders). None may panic, and no
//! decode of a capped image may take longer than one second in a release build. The fuzz build
//! (coverage instrumentation, debug assertions) runs the decoders 3-4x slower, so the target stops
//! at `HALLKIOSK_FUZZ_LIMIT_MS` (default 3000); every input it reports goes to
//! tests/data/qr-adversarial, where the normal test build enforces the one second.
#![no_main]

use hallkiosk_drivers::camera::frame::{Frame, PixelFormat};
use hallkiosk_drivers::camera::QrDecoder;
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, Instant};

fuzz_target!(|data: &[u8]| {
    if data.len() < 5 {
        return;
    }
    let limit = std::env::var("HALLKIOSK_FUZZ_LIMIT_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_secs(3), Duration::from_millis);
    let decoder = QrDecoder::default();
    let width = u32::from(u16::from_le_bytes([data[0], data[1]])) % 641;
    let height = u32::from(u16::from_le_bytes([data[2], data[3]])) % 641;
    let pixels = &data[4..];
    let raw: Vec<u8> = pixels.iter().copied().cycle().take((width * height) as usize).collect();
    if let Some(image) = image::GrayImage::from_raw(width, height, raw) {
        let started = Instant::now();
        let _ = decoder.decode(&image);
        assert!(started.elapsed() < limit, "{width}x{height} took {:?}", started.elapsed());
    }
    for format in [PixelFormat::Mjpeg, PixelFormat::Yuyv] {
        let frame = Frame { format, width, height, data: pixels.to_vec() };
        if let Ok(image) = frame.to_gray() {
            if image.width() <= 640 && image.height() <= 640 {
                let _ = decoder.decode_live(&image);
            }
        }
    }
    if let Ok(image) = image::load_from_memory(pixels) {
        let gray = image.to_luma8();
        if gray.width() <= 640 && gray.height() <= 640 {
            let _ = decoder.decode_live(&gray);
        }
    }
});
