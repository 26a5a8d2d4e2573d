//! Receipts through the whole printer path without hardware: receipt → ESC/POS bytes → the
//! simulator's parser and page → PNG → the QR on the paper decoded back (rqrr, an independent
//! decoder) to the tracking code. Uses the system CJK font that `scripts/setup` installs.

use hallkiosk_drivers::printer::page::Page;
use hallkiosk_drivers::printer::parse::Parser;
use hallkiosk_drivers::printer::raster::{Bitmap, TextRaster};
use hallkiosk_drivers::printer::receipt::{encode, Align, Profile, Receipt};

fn font() -> TextRaster {
    TextRaster::system().expect("fonts-noto-cjk is installed by scripts/setup")
}

fn print(receipt: &Receipt, profile: &Profile, font: &TextRaster) -> (Page, image::GrayImage) {
    let bytes = encode(receipt, profile, Some(font)).unwrap();
    let mut page = Page::new(profile.width_dots, profile.chinese_on_power_up);
    for op in Parser::new(profile.chinese_on_power_up).push(&bytes) {
        page.apply(&op);
    }
    let img = page.render(Some(font));
    (page, img)
}

fn decode_qrs(img: &image::GrayImage) -> Vec<String> {
    let mut prepared = rqrr::PreparedImage::prepare(img.clone());
    prepared
        .detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok().map(|(_, text)| text))
        .collect()
}

fn typical(tracking: &str) -> Receipt {
    let mut logo = Bitmap::new(96, 48);
    for y in 0..48 {
        for x in 0..96 {
            logo.set(x, y, (x / 8 + y / 8) % 2 == 0);
        }
    }
    Receipt::new()
        .image(logo, Align::Centre)
        .styled("政务服务受理回执", Align::Centre, (2, 2), true)
        .text("事项：居民身份证换领")
        .text(format!("受理编号：{tracking}"))
        .text("申请人：李㛃")
        .text("时间：2026-11-23 10:15")
        .qr(tracking, 6)
        .text("网络恢复后自动提交，请妥善保管本回执")
        .feed(1)
}

#[test]
fn the_printed_qr_decodes_back_to_the_tracking_code_on_every_profile() {
    let font = font();
    for profile in [
        Profile::generic_80mm(),
        Profile::generic_58mm(),
        Profile::epson_80mm(),
    ] {
        let (page, img) = print(&typical("HK-K001-000042-7"), &profile, &font);
        assert_eq!(img.width(), profile.width_dots);
        assert_eq!(
            decode_qrs(&img),
            vec!["HK-K001-000042-7".to_string()],
            "{}",
            profile.name
        );
        let lines = page.text_lines();
        assert!(
            lines.contains(&"受理编号：HK-K001-000042-7".to_string()),
            "{lines:?}"
        );
        assert!(
            !lines.iter().any(|l| l.contains("李")),
            "the line with a rare character went out as a raster, not text"
        );
        assert!(page.cuts() <= 1);
    }
}

#[test]
fn a_rare_character_is_drawn_not_dropped() {
    let font = font();
    assert!(font.covers("㛃"), "Noto Sans CJK SC has U+36C3");
    let only_rare = Receipt::new().text("㛃");
    let (_, img) = print(&only_rare, &Profile::generic_80mm(), &font);
    let ink = img.pixels().filter(|p| p.0[0] == 0).count();
    assert!(ink > 40, "the glyph has ink: {ink}");
}
