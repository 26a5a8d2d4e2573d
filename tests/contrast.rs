//! Text contrast, computed from the theme's own colours (ui/theme.slint) in both themes, standard
//! and elder (长辈模式): every text colour the pages use on every background it is drawn on reaches
//! WCAG 2.x's 4.5:1 (the figure the MIIT 适老化 rules for apps and web sites take up). A colour
//! written into a page instead of the theme must be listed here with its background.

use std::collections::BTreeMap;

/// (text colour, background) pairs drawn by the pages, as theme property names.
const PAIRS: &[(&str, &str)] = &[
    ("text", "background"),
    ("text", "surface"),
    ("text", "warning-bg"),
    ("text", "danger-bg"),
    ("text", "selected"),
    ("muted", "background"),
    ("muted", "surface"),
    ("muted", "selected"),
    ("primary", "background"),
    ("primary", "surface"),
    ("accent", "background"),
    ("accent", "surface"),
    ("accent", "danger-bg"),
    ("accent", "warning-bg"),
    ("on-primary", "primary"),
    ("on-primary", "modal-backdrop"),
];

/// Colours written into page files, with what they are drawn on (the dev dock is not the
/// citizen's and is left out).
const LITERALS: &[(&str, &str, &str)] = &[
    // The camera area's caption: white on the dark camera frame.
    ("ui/pages/apply.slint", "#ffffff", "#30343a"),
    // 张*三 正在办理 in the top bar.
    ("ui/widgets/top-bar.slint", "#000000", "owner-bg"),
];

type Palette = BTreeMap<String, String>;

/// The theme's colours: (standard, elder).
fn palettes() -> (Palette, Palette) {
    let theme = std::fs::read_to_string("ui/theme.slint").unwrap();
    let (mut standard, mut elder) = (Palette::new(), Palette::new());
    for line in theme.lines() {
        let Some(rest) = line.trim().strip_prefix("out property <color> ") else {
            continue;
        };
        let (name, value) = rest.split_once(':').unwrap();
        let value = value.trim().trim_end_matches(';').trim();
        let (e, s) = match value.strip_prefix("elder ?") {
            Some(choice) => {
                let (e, s) = choice.split_once(':').unwrap();
                (e.trim(), s.trim())
            }
            None => (value, value),
        };
        for c in [e, s] {
            assert!(
                c.starts_with('#') && c.len() == 7,
                "{name}: {c} is not #rrggbb"
            );
        }
        standard.insert(name.trim().to_string(), s.to_string());
        elder.insert(name.trim().to_string(), e.to_string());
    }
    (standard, elder)
}

fn luminance(hex: &str) -> f64 {
    let channel = |i: usize| {
        let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap()) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
}

fn contrast(a: &str, b: &str) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

fn resolve<'a>(p: &'a Palette, c: &'a str) -> &'a str {
    if c.starts_with('#') {
        c
    } else {
        p.get(c)
            .unwrap_or_else(|| panic!("no theme colour {c}"))
            .as_str()
    }
}

#[test]
fn every_text_colour_reaches_4_5_to_1_on_its_background_in_both_themes() {
    let (standard, elder) = palettes();
    let mut low = Vec::new();
    for (theme, p) in [("standard", &standard), ("elder", &elder)] {
        let pairs = PAIRS
            .iter()
            .map(|&(f, b)| (f, b))
            .chain(LITERALS.iter().map(|&(_, f, b)| (f, b)));
        for (fg, bg) in pairs {
            let c = contrast(resolve(p, fg), resolve(p, bg));
            if c < 4.5 {
                low.push(format!("{theme}: {fg} on {bg} is {c:.2}:1"));
            }
        }
    }
    assert!(low.is_empty(), "below 4.5:1:\n{}", low.join("\n"));
}

#[test]
fn the_contrast_formula_matches_wcag_reference_values() {
    assert!((contrast("#000000", "#ffffff") - 21.0).abs() < 1e-9);
    assert!((contrast("#777777", "#ffffff") - 4.48).abs() < 0.01);
}

/// A text colour written into a citizen's page instead of the theme is listed in LITERALS.
#[test]
fn pages_take_text_colours_from_the_theme() {
    let mut unlisted = Vec::new();
    for dir in ["ui/pages", "ui/widgets"] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let file = path.to_string_lossy().to_string();
            if file.ends_with("dev-dock.slint") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for line in text.lines() {
                let Some(v) = line.trim().strip_prefix("color: #") else {
                    continue;
                };
                let colour = format!("#{}", &v[..6]);
                if !LITERALS.iter().any(|&(f, c, _)| f == file && c == colour) {
                    unlisted.push(format!("{file}: {}", line.trim()));
                }
            }
        }
    }
    assert!(
        unlisted.is_empty(),
        "unlisted text colours:\n{}",
        unlisted.join("\n")
    );
}
