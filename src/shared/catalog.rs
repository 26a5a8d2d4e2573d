//! The service catalog (办事指南): categories, themes and service items with their materials, fees,
//! time limits, place and online level.
//!
//! The catalog is versioned data. A copy ships with the kiosk (`data/catalog/catalog.json`, compiled
//! in); the sync daemon stores newer versions from the platform under `<data_dir>/catalog/`, and the
//! kiosk uses the newest one that validates. A broken file never takes the kiosk down: a cached file
//! that fails validation is skipped with a logged reason, and an explicitly configured file that
//! fails is a start-up error naming the file and the problems.
//!
//! Search matches Chinese text, English text, full pinyin and pinyin initials (`sbk` → 社保卡…);
//! polyphonic characters match under any of their readings.

use crate::shared::config::Locale;
use pinyin::ToPinyinMulti;
use serde::Deserialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The catalog compiled into the binary.
pub const BUNDLED: &str = include_str!("../../data/catalog/catalog.json");

/// A text in both languages of the kiosk.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub zh: String,
    pub en: String,
}

impl Text {
    pub fn get(&self, locale: Locale) -> &str {
        match locale {
            Locale::ZhCn => &self.zh,
            Locale::En => &self.en,
        }
    }
}

/// 个人办事 or 法人办事.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Personal,
    LegalPerson,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Theme {
    pub code: String,
    pub name: Text,
    pub categories: Vec<Category>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ServiceItem {
    pub id: String,
    pub category: Category,
    pub theme: String,
    pub name: Text,
    pub department: Text,
    pub materials: Vec<Text>,
    pub fee: Text,
    /// Legal time limit in working days; 0 means 当场办结 (done on the spot).
    pub legal_days: u32,
    /// The hall's promised time limit in working days (≤ the legal one).
    pub promised_days: u32,
    pub location: Text,
    /// Whether the whole service can be done at the kiosk.
    pub kiosk_complete: bool,
    /// 网上办理深度 1–4 (4: 全程网办).
    pub online_level: u8,
    #[serde(default)]
    pub keywords: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    version: String,
    published: String,
    themes: Vec<Theme>,
    items: Vec<ServiceItem>,
}

/// A validated catalog with its search index. The pinyin index is built on the first search, not at
/// start-up: the pinyin tables are large and a kiosk that is never searched should not pay for them.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub version: String,
    pub published: String,
    pub themes: Vec<Theme>,
    pub items: Vec<ServiceItem>,
    index: std::sync::OnceLock<Vec<SearchKeys>>,
}

/// Why a catalog was refused: every problem found, each naming the item or theme.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("service catalog {origin} is invalid:\n  - {}", problems.join("\n  - "))]
pub struct CatalogError {
    pub origin: String,
    pub problems: Vec<String>,
}

impl Catalog {
    /// The catalog the kiosk uses: the configured file, else the newest valid one the sync daemon
    /// cached under the data directory, else the bundled one.
    pub fn load_configured(config: &crate::shared::config::Config) -> anyhow::Result<Catalog> {
        if let Some(file) = &config.catalog.file {
            return Ok(Catalog::from_file(file)?);
        }
        let (catalog, skipped) = Catalog::newest(&config.data_dir().join("catalog"))?;
        for e in skipped {
            tracing::warn!("skipping cached catalog: {e}");
        }
        Ok(catalog)
    }

    /// Parses and validates a catalog; `origin` names it in errors.
    pub fn parse(json: &str, origin: &str) -> Result<Catalog, CatalogError> {
        let fail = |problems| CatalogError {
            origin: origin.to_string(),
            problems,
        };
        let file: CatalogFile =
            serde_json::from_str(json).map_err(|e| fail(vec![e.to_string()]))?;
        let problems = validate(&file);
        if !problems.is_empty() {
            return Err(fail(problems));
        }
        Ok(Catalog {
            version: file.version,
            published: file.published,
            themes: file.themes,
            items: file.items,
            index: std::sync::OnceLock::new(),
        })
    }

    pub fn bundled() -> Result<Catalog, CatalogError> {
        Catalog::parse(BUNDLED, "bundled catalog")
    }

    /// Reads a catalog file.
    pub fn from_file(path: &Path) -> Result<Catalog, CatalogError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| CatalogError {
            origin: origin.clone(),
            problems: vec![e.to_string()],
        })?;
        Catalog::parse(&text, &origin)
    }

    /// The newest valid catalog among the bundled one and the `*.json` files in `dir` (versions
    /// compare as dotted numbers). Invalid files are returned beside it so the caller can log them.
    pub fn newest(dir: &Path) -> Result<(Catalog, Vec<CatalogError>), CatalogError> {
        let mut best = Catalog::bundled()?;
        let mut skipped = Vec::new();
        let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(_) => Vec::new(),
        };
        files.retain(|p| p.extension().is_some_and(|e| e == "json"));
        files.sort();
        for path in files {
            match Catalog::from_file(&path) {
                Ok(c) if version_key(&c.version) > version_key(&best.version) => best = c,
                Ok(_) => {}
                Err(e) => skipped.push(e),
            }
        }
        Ok((best, skipped))
    }

    pub fn themes_of(&self, category: Category) -> impl Iterator<Item = &Theme> {
        self.themes
            .iter()
            .filter(move |t| t.categories.contains(&category))
    }

    pub fn items_in(&self, category: Category, theme: &str) -> impl Iterator<Item = &ServiceItem> {
        let theme = theme.to_string();
        self.items
            .iter()
            .filter(move |i| i.category == category && i.theme == theme)
    }

    pub fn item(&self, id: &str) -> Option<&ServiceItem> {
        self.items.iter().find(|i| i.id == id)
    }

    pub fn theme(&self, code: &str) -> Option<&Theme> {
        self.themes.iter().find(|t| t.code == code)
    }

    /// Items matching `query`, best first: Chinese name, then keywords and department, then pinyin
    /// (initials or full), then English. An empty query matches nothing.
    pub fn search(&self, query: &str) -> Vec<&ServiceItem> {
        let q = query.trim().to_lowercase();
        if q.is_empty() {
            return Vec::new();
        }
        let mut scored: Vec<(u8, usize)> = self
            .index
            .get_or_init(|| self.items.iter().map(SearchKeys::of).collect())
            .iter()
            .enumerate()
            .filter_map(|(i, keys)| keys.score(&self.items[i], &q).map(|s| (s, i)))
            .collect();
        scored.sort_by_key(|&(score, i)| (score, i));
        scored.into_iter().map(|(_, i)| &self.items[i]).collect()
    }
}

/// Precomputed pinyin of an item's name and keywords.
#[derive(Debug, Clone)]
struct SearchKeys {
    /// Per character, its possible initial letters (all readings); ASCII characters as themselves.
    initials: Vec<Vec<Vec<char>>>,
    /// Per text, the concatenated plain pinyin of its default reading.
    full: Vec<String>,
}

impl SearchKeys {
    fn of(item: &ServiceItem) -> SearchKeys {
        let texts: Vec<&str> = std::iter::once(item.name.zh.as_str())
            .chain(item.keywords.iter().map(String::as_str))
            .collect();
        SearchKeys {
            initials: texts.iter().map(|t| initials_of(t)).collect(),
            full: texts.iter().map(|t| full_pinyin(t)).collect(),
        }
    }

    fn score(&self, item: &ServiceItem, q: &str) -> Option<u8> {
        if item.name.zh.contains(q) {
            return Some(0);
        }
        if item.keywords.iter().any(|k| k.to_lowercase().contains(q))
            || item.department.zh.contains(q)
        {
            return Some(1);
        }
        if q.chars().all(|c| c.is_ascii_alphanumeric()) {
            let letters: Vec<char> = q.chars().collect();
            if self
                .initials
                .iter()
                .any(|text| matches_window(text, &letters))
            {
                return Some(2);
            }
            if q.len() >= 2 && self.full.iter().any(|f| f.contains(q)) {
                return Some(3);
            }
        }
        if item.name.en.to_lowercase().contains(q) {
            return Some(4);
        }
        None
    }
}

fn initials_of(text: &str) -> Vec<Vec<char>> {
    text.chars()
        .zip(text.to_pinyin_multi())
        .filter_map(|(c, multi)| match multi {
            Some(readings) => {
                let mut set: Vec<char> = readings
                    .into_iter()
                    .filter_map(|p| p.first_letter().chars().next())
                    .collect();
                set.dedup();
                Some(set)
            }
            None if c.is_ascii_alphanumeric() => Some(vec![c.to_ascii_lowercase()]),
            None => None,
        })
        .collect()
}

fn full_pinyin(text: &str) -> String {
    text.to_pinyin_multi()
        .filter_map(|m| {
            m.and_then(|r| r.into_iter().next())
                .map(|p| p.plain().to_string())
        })
        .collect()
}

/// Whether `letters` appear at consecutive characters, each among that character's initials.
fn matches_window(text: &[Vec<char>], letters: &[char]) -> bool {
    letters.len() <= text.len()
        && text
            .windows(letters.len())
            .any(|w| w.iter().zip(letters).all(|(set, l)| set.contains(l)))
}

fn version_key(v: &str) -> Vec<u64> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

fn validate(file: &CatalogFile) -> Vec<String> {
    let mut problems = Vec::new();
    if file.version.trim().is_empty() || !file.version.split('.').all(|p| p.parse::<u64>().is_ok())
    {
        problems.push(format!(
            "version `{}` is not a dotted number like 2026.11.1",
            file.version
        ));
    }
    let mut codes = HashSet::new();
    for t in &file.themes {
        if !codes.insert(t.code.as_str()) {
            problems.push(format!("theme `{}` appears twice", t.code));
        }
        check_text(&mut problems, &format!("theme `{}` name", t.code), &t.name);
        if t.categories.is_empty() {
            problems.push(format!("theme `{}` belongs to no category", t.code));
        }
    }
    let mut ids = HashSet::new();
    for item in &file.items {
        let at = format!("item `{}`", item.id);
        if item.id.trim().is_empty() {
            problems.push("an item has an empty id".into());
        }
        if !ids.insert(item.id.as_str()) {
            problems.push(format!("{at} appears twice"));
        }
        match file.themes.iter().find(|t| t.code == item.theme) {
            None => problems.push(format!("{at}: theme `{}` is not defined", item.theme)),
            Some(t) if !t.categories.contains(&item.category) => problems.push(format!(
                "{at}: theme `{}` is not in its category",
                item.theme
            )),
            Some(_) => {}
        }
        check_text(&mut problems, &format!("{at} name"), &item.name);
        check_text(&mut problems, &format!("{at} department"), &item.department);
        check_text(&mut problems, &format!("{at} fee"), &item.fee);
        check_text(&mut problems, &format!("{at} location"), &item.location);
        if item.materials.is_empty() {
            problems.push(format!("{at} lists no materials"));
        }
        for m in &item.materials {
            check_text(&mut problems, &format!("{at} material"), m);
        }
        if !(1..=4).contains(&item.online_level) {
            problems.push(format!(
                "{at}: online_level {} is not 1–4",
                item.online_level
            ));
        }
        if item.promised_days > item.legal_days {
            problems.push(format!(
                "{at}: promised_days {} exceeds legal_days {}",
                item.promised_days, item.legal_days
            ));
        }
    }
    if file.items.is_empty() {
        problems.push("the catalog has no items".into());
    }
    problems
}

fn check_text(problems: &mut Vec<String>, what: &str, text: &Text) {
    if text.zh.trim().is_empty() || text.en.trim().is_empty() {
        problems.push(format!("{what} needs both zh and en text"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled() -> Catalog {
        Catalog::bundled().expect("the bundled catalog validates")
    }

    /// Items for employers (单位, 企业, 职工, 纳税人 as a business) are filed under 法人办事 and
    /// their ids say so; a citizen's card never leads to them on the apply page.
    #[test]
    fn bundled_items_are_filed_under_the_right_category() {
        for i in &bundled().items {
            let employer = ["单位", "企业", "职工", "公章", "个体工商户", "增值税"]
                .iter()
                .any(|w| i.name.zh.contains(w));
            if employer || i.id.starts_with("L-") {
                assert_eq!(i.category, Category::LegalPerson, "{} {}", i.id, i.name.zh);
            }
            let prefix = if i.category == Category::Personal {
                "P-"
            } else {
                "L-"
            };
            assert!(
                i.id.starts_with(prefix),
                "{} filed as {:?}",
                i.id,
                i.category
            );
        }
    }

    #[test]
    fn bundled_catalog_is_large_and_covers_both_categories_and_every_theme() {
        let c = bundled();
        assert!(c.items.len() >= 40, "{} items", c.items.len());
        for cat in [Category::Personal, Category::LegalPerson] {
            assert!(
                c.items.iter().filter(|i| i.category == cat).count() >= 8,
                "{cat:?}"
            );
        }
        for theme in &c.themes {
            assert!(
                c.items.iter().any(|i| i.theme == theme.code),
                "theme {} has no items",
                theme.code
            );
        }
        for name in [
            "婚育收养",
            "教育培训",
            "求职执业",
            "纳税缴费",
            "就医保健",
            "社会保险",
            "户籍证件",
            "不动产",
            "交通出行",
            "企业开办",
        ] {
            assert!(
                c.themes.iter().any(|t| t.name.zh == name),
                "missing theme {name}"
            );
        }
    }

    #[test]
    fn pinyin_initials_find_the_social_security_card() {
        let c = bundled();
        let hits = c.search("sbk");
        assert!(!hits.is_empty());
        assert!(
            hits[0].name.zh.contains("社保卡")
                || hits[0].keywords.iter().any(|k| k.contains("社保卡")),
            "{:?}",
            hits[0].name
        );
    }

    #[test]
    fn chinese_english_and_full_pinyin_search() {
        let c = bundled();
        assert!(c.search("结婚").iter().any(|i| i.name.zh.contains("结婚")));
        assert!(c
            .search("Marriage")
            .iter()
            .any(|i| i.name.zh.contains("结婚")));
        assert!(c
            .search("jiehun")
            .iter()
            .any(|i| i.name.zh.contains("结婚")));
        assert!(c.search("").is_empty());
        assert!(c.search("zzzzqqq").is_empty());
    }

    #[test]
    fn chinese_name_hits_rank_before_initials() {
        let c = bundled();
        let hits = c.search("驾驶证");
        assert!(hits.len() >= 2);
        assert!(hits.iter().take(2).all(|i| i.name.zh.contains("驾驶证")));
    }

    #[test]
    fn polyphonic_characters_match_any_reading() {
        let keys = initials_of("银行");
        assert!(matches_window(&keys, &['y', 'h']));
        assert!(matches_window(&keys, &['y', 'x']));
    }

    #[test]
    fn broken_catalogs_list_every_problem() {
        let json = r#"{"version":"x","published":"2026-01-01","themes":[{"code":"t","name":{"zh":"主题","en":""},"categories":["personal"]}],
            "items":[{"id":"a","category":"legal_person","theme":"t","name":{"zh":"甲","en":"A"},"department":{"zh":"局","en":"Bureau"},
            "materials":[],"fee":{"zh":"免费","en":"Free"},"legal_days":1,"promised_days":3,"location":{"zh":"一楼","en":"1F"},
            "kiosk_complete":false,"online_level":7}]}"#;
        let e = Catalog::parse(json, "test.json").unwrap_err();
        let all = e.problems.join("\n");
        for needle in [
            "version",
            "needs both",
            "not in its category",
            "no materials",
            "online_level 7",
            "promised_days 3",
        ] {
            assert!(all.contains(needle), "missing {needle}: {all}");
        }
        assert!(e.to_string().contains("test.json"));
        let e = Catalog::parse("{not json", "x.json").unwrap_err();
        assert_eq!(e.problems.len(), 1);
    }

    #[test]
    fn the_newest_valid_cached_version_wins_and_broken_ones_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let newer = BUNDLED.replacen(
            &format!("\"version\": \"{}\"", bundled().version),
            "\"version\": \"9999.1.1\"",
            1,
        );
        assert_ne!(newer, BUNDLED, "the version line must be replaceable");
        std::fs::write(dir.path().join("a.json"), newer).unwrap();
        std::fs::write(dir.path().join("b.json"), "{ broken").unwrap();
        let (c, skipped) = Catalog::newest(dir.path()).unwrap();
        assert_eq!(c.version, "9999.1.1");
        assert_eq!(skipped.len(), 1);
        let (c, _) = Catalog::newest(&dir.path().join("missing")).unwrap();
        assert_eq!(c.version, bundled().version);
    }
}
