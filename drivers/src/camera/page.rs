//! Document pages from the document camera (高拍仪): find the page in the frame, crop to it, and
//! compress it for the outbox (JPEG, at most [`MAX_BYTES`]). Pages are kept in colour — a red
//! seal (公章) or a coloured certificate must stay recognisable — unless the camera is gray.
//!
//! The page is found the way the halls' cameras are set up: a light sheet on a darker, matte base.
//! Rows and columns are scanned on a reduced copy; the page spans those where most pixels are
//! brighter than an Otsu threshold. A frame where no such region covers a sensible share of the
//! picture has no page, and the citizen is asked to lay the document flat and try again.

use image::{imageops, GrayImage, Rgb, RgbImage};

/// The most a stored page may take.
pub const MAX_BYTES: usize = 300 * 1024;
/// Long side of a stored page: enough for A4 text to stay legible (≈ 190 dpi).
pub const MAX_SIDE: u32 = 2200;

/// Why no page came out of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("no document page found in the picture")]
    NoPage,
    #[error("the page could not be compressed below the size limit")]
    TooLarge,
}

/// A page cropped and compressed.
#[derive(Clone, PartialEq, Eq)]
pub struct PageImage {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

impl std::fmt::Debug for PageImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PageImage({}x{}, {} bytes)",
            self.width,
            self.height,
            self.jpeg.len()
        )
    }
}

fn otsu(img: &GrayImage) -> u8 {
    let mut hist = [0u64; 256];
    for p in img.pixels() {
        hist[p.0[0] as usize] += 1;
    }
    let total: u64 = hist.iter().sum();
    let sum_all: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, &n)| i as f64 * n as f64)
        .sum();
    let (mut w_b, mut sum_b, mut best, mut threshold) = (0u64, 0f64, 0f64, 0u8);
    for (t, &n) in hist.iter().enumerate() {
        w_b += n;
        if w_b == 0 {
            continue;
        }
        let w_f = total - w_b;
        if w_f == 0 {
            break;
        }
        sum_b += t as f64 * n as f64;
        let m_b = sum_b / w_b as f64;
        let m_f = (sum_all - sum_b) / w_f as f64;
        let between = w_b as f64 * w_f as f64 * (m_b - m_f).powi(2);
        if between > best {
            best = between;
            threshold = t as u8;
        }
    }
    threshold
}

/// Fills gaps of `false` shorter than `max_gap` between two `true`s (text lines on a page).
fn close_gaps(v: &mut [bool], max_gap: usize) {
    let mut last_true: Option<usize> = None;
    for i in 0..v.len() {
        if v[i] {
            if let Some(j) = last_true {
                if i - j - 1 <= max_gap {
                    v[j + 1..i].iter_mut().for_each(|b| *b = true);
                }
            }
            last_true = Some(i);
        }
    }
}

/// The longest run of `true` in `v`, as a half-open range.
fn longest_run(v: &[bool]) -> Option<(usize, usize)> {
    let mut best: Option<(usize, usize)> = None;
    let mut start = None;
    for (i, &on) in v.iter().chain(std::iter::once(&false)).enumerate() {
        match (on, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if best.is_none_or(|(a, b)| i - s > b - a) {
                    best = Some((s, i));
                }
                start = None;
            }
            _ => {}
        }
    }
    best
}

/// The page's bounding box in `img` as (x, y, width, height).
pub fn find_page(img: &GrayImage) -> Result<(u32, u32, u32, u32), PageError> {
    let (w, h) = img.dimensions();
    if w < 16 || h < 16 {
        return Err(PageError::NoPage);
    }
    let scale = (w.max(h) as f64 / 400.0).max(1.0);
    let (sw, sh) = (
        ((w as f64 / scale) as u32).max(1),
        ((h as f64 / scale) as u32).max(1),
    );
    let small = imageops::resize(img, sw, sh, imageops::FilterType::Triangle);
    let t = otsu(&small);
    // A uniform picture (nothing on the base, or only paper) has no contrast to find a page by.
    let (lo, hi) = small
        .pixels()
        .fold((255u8, 0u8), |(lo, hi), p| (lo.min(p.0[0]), hi.max(p.0[0])));
    if hi.saturating_sub(lo) < 40 {
        return Err(PageError::NoPage);
    }
    let bright = |x: u32, y: u32| small.get_pixel(x, y).0[0] > t;
    let mut rows: Vec<bool> = (0..sh)
        .map(|y| (0..sw).filter(|&x| bright(x, y)).count() * 10 >= sw as usize * 3)
        .collect();
    close_gaps(&mut rows, sh as usize / 12);
    let (y0, y1) = longest_run(&rows).ok_or(PageError::NoPage)?;
    let mut cols: Vec<bool> = (0..sw)
        .map(|x| (y0 as u32..y1 as u32).filter(|&y| bright(x, y)).count() * 10 >= (y1 - y0) * 6)
        .collect();
    close_gaps(&mut cols, sw as usize / 12);
    let (x0, x1) = longest_run(&cols).ok_or(PageError::NoPage)?;
    let area = ((x1 - x0) * (y1 - y0)) as f64 / (sw * sh) as f64;
    if !(0.12..=0.995).contains(&area) {
        return Err(PageError::NoPage);
    }
    let to_full = |v: usize, max: u32| ((v as f64 * scale).round() as u32).min(max);
    let (fx0, fy0) = (to_full(x0, w), to_full(y0, h));
    let (fx1, fy1) = (to_full(x1, w), to_full(y1, h));
    Ok((fx0, fy0, (fx1 - fx0).max(1), (fy1 - fy0).max(1)))
}

/// Crops `img` to its page and compresses it to a JPEG of at most `max_bytes`. The page is found
/// on the luma; the crop keeps the colour.
pub fn capture_page(img: &RgbImage, max_bytes: usize) -> Result<PageImage, PageError> {
    let (x, y, w, h) = find_page(&imageops::grayscale(img))?;
    let mut page = imageops::crop_imm(img, x, y, w, h).to_image();
    if page.width().max(page.height()) > MAX_SIDE {
        let f = MAX_SIDE as f64 / page.width().max(page.height()) as f64;
        page = imageops::resize(
            &page,
            ((page.width() as f64 * f) as u32).max(1),
            ((page.height() as f64 * f) as u32).max(1),
            imageops::FilterType::Triangle,
        );
    }
    compress(page, max_bytes)
}

/// A frame for the live preview on the material step: scaled down to at most `max_side` pixels,
/// with the page the capture would crop outlined in green (no outline when no page is found, so
/// the citizen sees at once whether the material lies where it should).
pub fn preview(img: &RgbImage, max_side: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    let f = (max_side.max(1) as f64 / w.max(h).max(1) as f64).min(1.0);
    let (sw, sh) = (
        ((w as f64 * f) as u32).max(1),
        ((h as f64 * f) as u32).max(1),
    );
    let mut out = if (sw, sh) == (w, h) {
        img.clone()
    } else {
        imageops::thumbnail(img, sw, sh)
    };
    if let Ok((x, y, pw, ph)) = find_page(&imageops::grayscale(&out)) {
        let green = Rgb([0x2e, 0xcc, 0x40]);
        let thick = (sw.max(sh) / 160).max(2);
        for yy in y..(y + ph).min(sh) {
            for xx in x..(x + pw).min(sw) {
                let edge = xx < x + thick
                    || yy < y + thick
                    || xx + thick >= x + pw
                    || yy + thick >= y + ph;
                if edge {
                    out.put_pixel(xx, yy, green);
                }
            }
        }
    }
    out
}

/// JPEG at falling quality, then smaller, until it fits `max_bytes`. A page without colour (a
/// gray camera, a black-and-white document) is stored as gray: a third of the data.
pub fn compress(page: RgbImage, max_bytes: usize) -> Result<PageImage, PageError> {
    let mut page = if page.pixels().all(|p| p.0[0] == p.0[1] && p.0[1] == p.0[2]) {
        image::DynamicImage::ImageLuma8(image::DynamicImage::ImageRgb8(page).to_luma8())
    } else {
        image::DynamicImage::ImageRgb8(page)
    };
    for _ in 0..6 {
        for quality in [85u8, 75, 65, 55, 45] {
            let mut out = Vec::new();
            let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
            let (w, h) = (page.width(), page.height());
            let written =
                image::ImageEncoder::write_image(enc, page.as_bytes(), w, h, page.color().into());
            if written.is_err() {
                return Err(PageError::TooLarge);
            }
            if out.len() <= max_bytes {
                return Ok(PageImage {
                    jpeg: out,
                    width: page.width(),
                    height: page.height(),
                });
            }
        }
        let (w, h) = (page.width() * 3 / 4, page.height() * 3 / 4);
        if w < 64 || h < 64 {
            break;
        }
        page = page.resize_exact(w, h, imageops::FilterType::Triangle);
    }
    Err(PageError::TooLarge)
}

/// A simulated document camera's picture: a light page with lines of "text" and a red seal on a
/// dark base, slightly off-centre. `seed` varies the text.
pub fn simulated_document(width: u32, height: u32, seed: u32) -> RgbImage {
    let gray = |v: u8| Rgb([v, v, v]);
    let mut img = RgbImage::from_pixel(width, height, gray(48));
    let (pw, ph) = (width * 11 / 20, height * 4 / 5);
    let (px, py) = (width / 4, height / 12);
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let mut rand = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    for y in py..py + ph {
        for x in px..px + pw {
            // Paper with a little texture.
            let v = 232 + (rand() % 12) as u8;
            img.put_pixel(x, y, gray(v));
        }
    }
    let line = (ph / 28).max(3);
    let mut y = py + line * 2;
    while y + line < py + ph - line * 2 {
        let end = px + pw / 10 + (rand() % (pw * 8 / 10)).max(pw / 3);
        let mut x = px + pw / 10;
        while x < end.min(px + pw - pw / 10) {
            let word = 4 + rand() % (line * 3);
            for yy in y..y + line * 2 / 3 {
                for xx in x..(x + word).min(px + pw - pw / 10) {
                    img.put_pixel(xx, yy, gray(30));
                }
            }
            x += word + line / 2 + 1;
        }
        y += line + line / 2;
    }
    // The seal: a red ring, lower right, over the text.
    let (cx, cy, r) = (
        (px + pw * 3 / 4) as i64,
        (py + ph * 4 / 5) as i64,
        (pw / 8).max(4) as i64,
    );
    let ring = (r / 8).max(2);
    for y in (cy - r).max(0)..(cy + r).min(height as i64) {
        for x in (cx - r).max(0)..(cx + r).min(width as i64) {
            let d2 = (x - cx).pow(2) + (y - cy).pow(2);
            if d2 <= r * r && d2 >= (r - ring).pow(2) {
                img.put_pixel(x as u32, y as u32, SEAL_RED);
            }
        }
    }
    img
}

/// The simulated seal's colour.
pub const SEAL_RED: Rgb<u8> = Rgb([200, 30, 40]);

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    #[test]
    fn the_page_is_found_and_cropped() {
        let img = simulated_document(1280, 960, 1);
        let (x, y, w, h) = find_page(&imageops::grayscale(&img)).unwrap();
        // The page is at (320, 80), 704 × 768.
        assert!(x.abs_diff(320) <= 8 && y.abs_diff(80) <= 8, "{x},{y}");
        assert!(w.abs_diff(704) <= 12 && h.abs_diff(768) <= 12, "{w}x{h}");
        let page = capture_page(&img, MAX_BYTES).unwrap();
        assert!(page.jpeg.len() <= MAX_BYTES);
        assert_eq!(&page.jpeg[..2], &[0xFF, 0xD8]);
        let back = image::load_from_memory(&page.jpeg).unwrap();
        assert_eq!((back.width(), back.height()), (page.width, page.height));
        // In colour: the seal is still red (at the middle of its ring's right edge, in the crop).
        assert_eq!(back.color(), image::ColorType::Rgb8);
        let back = back.to_rgb8();
        let seal_x = (320 + 704 * 3 / 4 + 704 / 8 - 704 / 64) - x;
        let seal_y = (80 + 768 * 4 / 5) - y;
        let [r, g, b] = back.get_pixel(seal_x, seal_y).0;
        assert!(r > 150 && g < 90 && b < 90, "seal pixel {r},{g},{b}");
        // A page without colour is stored gray.
        let gray_page = image::DynamicImage::ImageLuma8(imageops::grayscale(&img)).to_rgb8();
        let page = capture_page(&gray_page, MAX_BYTES).unwrap();
        let back = image::load_from_memory(&page.jpeg).unwrap();
        assert_eq!(back.color(), image::ColorType::L8);
    }

    #[test]
    fn the_preview_is_small_and_outlines_the_page() {
        let img = simulated_document(1280, 960, 1);
        let p = preview(&img, 480);
        assert_eq!(p.dimensions(), (480, 360));
        let green = |x: u32, y: u32| p.get_pixel(x, y).0 == [0x2e, 0xcc, 0x40];
        // The page is at (120, 30), 264 × 288 in the preview: its edges are green, its middle
        // and the base around it are not.
        assert!(
            green(121, 180) && green(120 + 262, 180),
            "left and right edges"
        );
        assert!(
            green(250, 31) && green(250, 30 + 286),
            "top and bottom edges"
        );
        assert!(!green(250, 180) && !green(60, 180) && !green(450, 350));
        // Nothing on the base: no outline at all.
        let empty = preview(&RgbImage::from_pixel(640, 480, Rgb([50, 50, 50])), 480);
        assert!(empty.pixels().all(|px| px.0 == [50, 50, 50]));
        // A small frame is not blown up.
        assert_eq!(preview(&img, 4000).dimensions(), (1280, 960));
    }

    #[test]
    fn an_empty_base_or_a_flat_picture_has_no_page() {
        assert_eq!(
            find_page(&GrayImage::from_pixel(640, 480, Luma([50]))),
            Err(PageError::NoPage)
        );
        assert_eq!(
            find_page(&GrayImage::from_pixel(640, 480, Luma([240]))),
            Err(PageError::NoPage)
        );
        assert_eq!(
            find_page(&GrayImage::from_pixel(4, 4, Luma([240]))),
            Err(PageError::NoPage)
        );
        // A small bright scrap is not a page.
        let mut img = GrayImage::from_pixel(640, 480, Luma([40]));
        for y in 10..60 {
            for x in 10..60 {
                img.put_pixel(x, y, Luma([250]));
            }
        }
        assert_eq!(find_page(&img), Err(PageError::NoPage));
    }

    #[test]
    fn a_big_noisy_page_is_compressed_under_the_limit() {
        // Noise compresses worst: the encoder must step quality and size down.
        let mut s = 12345u32;
        let mut img = RgbImage::from_pixel(3000, 2400, Rgb([30, 30, 30]));
        for y in 100..2300 {
            for x in 300..2700 {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                let v = 128 + (s % 128) as u8;
                img.put_pixel(x, y, Rgb([v, v / 2, 255 - v]));
            }
        }
        let page = capture_page(&img, MAX_BYTES).unwrap();
        assert!(page.jpeg.len() <= MAX_BYTES, "{}", page.jpeg.len());
        assert!(page.width.max(page.height) <= MAX_SIDE);
        assert_eq!(
            compress(img, 100),
            Err(PageError::TooLarge),
            "an impossible limit says so"
        );
    }
}
