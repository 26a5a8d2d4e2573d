//! The printer test page technicians print when installing a kiosk: Chinese text in the printer's
//! font, a line with rare characters drawn as a raster, a dithered logo, a QR code and a cut.

use super::raster::Bitmap;
use super::receipt::{Align, Receipt};

/// The hall emblem used on test pages: a grey-shaded ring with a star, dithered to 1 bit.
pub fn emblem(size: u32) -> Bitmap {
    let c = size as f32 / 2.0;
    let img = image::GrayImage::from_fn(size, size, |x, y| {
        let (dx, dy) = (x as f32 + 0.5 - c, y as f32 + 0.5 - c);
        let r = (dx * dx + dy * dy).sqrt() / c;
        let angle = dy.atan2(dx);
        // Five-pointed star: radius varies with the angle.
        let star = 0.32 + 0.18 * (2.5 * angle).cos().abs().powf(3.0);
        let v = if r > 0.98 {
            255.0
        } else if r > 0.82 {
            40.0
        } else if r < star {
            0.0
        } else {
            // A soft gradient inside the ring, so dithering shows.
            120.0 + 120.0 * r
        };
        image::Luma([v as u8])
    });
    Bitmap::dither(&img, size)
}

/// The test page. `marker` goes into the QR code and the last line, so a technician can tell
/// one page from another.
pub fn test_page(kiosk: &str, marker: &str) -> Receipt {
    Receipt::new()
        .image(emblem(160), Align::Centre)
        .styled("打印机测试页", Align::Centre, (2, 2), true)
        .styled("Printer test page", Align::Centre, (1, 1), false)
        .text(format!("终端：{kiosk}"))
        .text("中文：政务服务自助终端 受理回执 取号 评价")
        .text("ASCII: 0123456789 ABCDEFGHIJ abcdefghij")
        .text("生僻字（栅格）：李㛃 王𠮷")
        .styled("倍宽倍高 2x2", Align::Left, (2, 2), false)
        .styled("加粗 Bold", Align::Left, (1, 1), true)
        .styled("右对齐 Right", Align::Right, (1, 1), false)
        .qr(marker, 6)
        .styled(marker, Align::Centre, (1, 1), false)
        .feed(1)
}
