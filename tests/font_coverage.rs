//! The bundled UI font (ui/fonts, made by scripts/make-ui-font) draws every character the kiosk
//! itself shows — UI strings, translations, the bundled catalog — in both weights, and all of
//! GB 2312, so no fixed text can ever show a missing-glyph box. (Card data outside GB 2312 falls
//! back to the system's CJK font.) When this fails, run scripts/make-ui-font.

use std::collections::BTreeSet;
use std::path::Path;

const FONTS: [&str; 2] = [
    "ui/fonts/HallKioskSansSC-Regular.otf",
    "ui/fonts/HallKioskSansSC-Bold.otf",
];

fn files_under(dir: &Path, ext: &str, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

fn gb2312_characters() -> Vec<char> {
    let mut chars = Vec::new();
    for hi in 0xB0u8..=0xF7 {
        for lo in 0xA1u8..=0xFE {
            let bytes = [hi, lo];
            let (text, _, bad) = encoding_rs::GBK.decode(&bytes);
            // GBK maps the unassigned GB 2312 codes (e.g. D7FA–D7FE) to the private use area.
            if !bad {
                chars.extend(
                    text.chars()
                        .filter(|c| !('\u{E000}'..='\u{F8FF}').contains(c)),
                );
            }
        }
    }
    chars
}

#[test]
fn the_bundled_font_covers_every_character_the_kiosk_shows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    files_under(&root.join("ui"), "slint", &mut files);
    files_under(&root.join("ui/lang"), "po", &mut files);
    files_under(&root.join("data/catalog"), "json", &mut files);
    let used: BTreeSet<char> = files
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .chars()
                .collect::<Vec<_>>()
        })
        .filter(|c| !c.is_control())
        .collect();
    let gb2312 = gb2312_characters();
    assert!(gb2312.len() > 6700, "GB 2312 hanzi: {}", gb2312.len());

    for font in FONTS {
        let data = std::fs::read(root.join(font)).unwrap();
        let face = ttf_parser::Face::parse(&data, 0).unwrap();
        let family = face
            .names()
            .into_iter()
            .find(|n| n.name_id == ttf_parser::name_id::FAMILY)
            .and_then(|n| n.to_string());
        assert_eq!(
            family.as_deref(),
            Some("HallKiosk Sans SC"),
            "{font}: the family name main.slint asks for"
        );
        let missing: String = used
            .iter()
            .filter(|c| face.glyph_index(**c).is_none())
            .collect();
        assert!(
            missing.is_empty(),
            "{font} lacks characters the UI uses: {missing} — run scripts/make-ui-font"
        );
        let missing_gb: String = gb2312
            .iter()
            .filter(|c| face.glyph_index(**c).is_none())
            .take(20)
            .collect();
        assert!(
            missing_gb.is_empty(),
            "{font} lacks GB 2312 characters: {missing_gb}"
        );
    }
}
