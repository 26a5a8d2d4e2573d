//! Resident ID cards and the other cards the SAM reader reads (GA/T 467, GB 11643).
//!
//! - [`frame`]: the SAM frame codec (commands, SW3 codes, a streaming decoder), sans-IO, shared by
//!   the driver and the simulator;
//! - [`text`]: the 256-byte text block of the four card layouts, both ways;
//! - [`number`]: GB 11643 ID numbers and the per-layout number rules;
//! - [`photo`]: the opaque WLT photo and the pluggable decoder trait (no decoder is shipped);
//! - [`reader`]: one reader over a [`reader::SamLink`] (serial or USB), blocking, every wait bounded;
//! - [`service`]: the async task that polls the reader and emits [`crate::DeviceEvent`]s.
//!
//! An [`IdCard`] is personal data: it is zeroized when dropped and never prints its contents in
//! `Debug`. Use [`IdCard::masked_name`] and [`IdCard::masked_number`] for anything shown or logged.

pub mod frame;
pub mod number;
pub mod photo;
pub mod reader;
pub mod serial;
pub mod service;
pub mod text;
pub mod usb;

use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Which layout the card's text block uses (type tag at byte 248 of the text block).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CardType {
    /// 居民身份证.
    #[default]
    Resident,
    /// 港澳台居民居住证 ('J').
    HkMoTw,
    /// 外国人永久居留身份证, 2017 version ('I').
    Foreign2017,
    /// 外国人永久居留身份证, 2023 version ('Y').
    Foreign2023,
}

impl CardType {
    /// The name used in JSON output and configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            CardType::Resident => "resident",
            CardType::HkMoTw => "hk_mo_tw",
            CardType::Foreign2017 => "foreign_2017",
            CardType::Foreign2023 => "foreign_2023",
        }
    }

    /// The document's name, as forms and receipts name it: (Chinese, English).
    pub fn document(self) -> (&'static str, &'static str) {
        match self {
            CardType::Resident => ("居民身份证", "Resident ID card"),
            CardType::HkMoTw => (
                "港澳台居民居住证",
                "Residence permit for Hong Kong, Macao and Taiwan residents",
            ),
            CardType::Foreign2017 | CardType::Foreign2023 => {
                ("外国人永久居留身份证", "Foreign permanent resident ID card")
            }
        }
    }

    /// Whether the holder is a foreign national (an English name and a nationality on the card,
    /// a permit number instead of a 公民身份号码).
    pub fn is_foreign(self) -> bool {
        matches!(self, CardType::Foreign2017 | CardType::Foreign2023)
    }
}

/// Gender code of GB/T 2261.1 as stored on the chip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Gender {
    #[default]
    Unknown,
    Male,
    Female,
    Unstated,
}

impl Gender {
    /// Decodes the one-digit code; anything else is not a gender code.
    pub fn from_code(code: char) -> Option<Gender> {
        match code {
            '0' => Some(Gender::Unknown),
            '1' => Some(Gender::Male),
            '2' => Some(Gender::Female),
            '9' => Some(Gender::Unstated),
            _ => None,
        }
    }

    /// The one-digit code.
    pub fn code(self) -> char {
        match self {
            Gender::Unknown => '0',
            Gender::Male => '1',
            Gender::Female => '2',
            Gender::Unstated => '9',
        }
    }

    /// The word on English forms.
    pub fn en(self) -> &'static str {
        match self {
            Gender::Unknown => "Unknown",
            Gender::Male => "Male",
            Gender::Female => "Female",
            Gender::Unstated => "Not stated",
        }
    }

    /// The name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Unknown => "unknown",
            Gender::Male => "male",
            Gender::Female => "female",
            Gender::Unstated => "unstated",
        }
    }

    /// The word printed on forms.
    pub fn zh(self) -> &'static str {
        match self {
            Gender::Unknown => "未知",
            Gender::Male => "男",
            Gender::Female => "女",
            Gender::Unstated => "未说明",
        }
    }
}

/// The English names of the nations of GB/T 3304 (its romanised names), by the chip's code.
pub fn nation_name_en(code: &str) -> Option<&'static str> {
    const NATIONS: [&str; 56] = [
        "Han",
        "Mongol",
        "Hui",
        "Tibetan",
        "Uyghur",
        "Miao",
        "Yi",
        "Zhuang",
        "Bouyei",
        "Korean",
        "Manchu",
        "Dong",
        "Yao",
        "Bai",
        "Tujia",
        "Hani",
        "Kazakh",
        "Dai",
        "Li",
        "Lisu",
        "Va",
        "She",
        "Gaoshan",
        "Lahu",
        "Shui",
        "Dongxiang",
        "Naxi",
        "Jingpo",
        "Kyrgyz",
        "Tu",
        "Daur",
        "Mulao",
        "Qiang",
        "Blang",
        "Salar",
        "Maonan",
        "Gelao",
        "Xibe",
        "Achang",
        "Pumi",
        "Tajik",
        "Nu",
        "Uzbek",
        "Russian",
        "Evenki",
        "De'ang",
        "Bonan",
        "Yugur",
        "Gin",
        "Tatar",
        "Derung",
        "Oroqen",
        "Hezhen",
        "Monba",
        "Lhoba",
        "Jino",
    ];
    nation_lookup(
        code,
        &NATIONS,
        ["Other", "Chinese citizen of foreign origin"],
    )
}

/// A two-digit nation code's entry: 01–56 from `nations`, 97 and 98 from `others`.
fn nation_lookup(
    code: &str,
    nations: &[&'static str; 56],
    others: [&'static str; 2],
) -> Option<&'static str> {
    if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match code {
        "97" => Some(others[0]),
        "98" => Some(others[1]),
        _ => {
            let n: usize = code.parse().ok()?;
            nations.get(n.checked_sub(1)?).copied()
        }
    }
}

/// The nations of GB/T 3304 as the chip codes them (01–56, 97 其他, 98 外国血统中国籍人士).
pub fn nation_name(code: &str) -> Option<&'static str> {
    const NATIONS: [&str; 56] = [
        "汉",
        "蒙古",
        "回",
        "藏",
        "维吾尔",
        "苗",
        "彝",
        "壮",
        "布依",
        "朝鲜",
        "满",
        "侗",
        "瑶",
        "白",
        "土家",
        "哈尼",
        "哈萨克",
        "傣",
        "黎",
        "傈僳",
        "佤",
        "畲",
        "高山",
        "拉祜",
        "水",
        "东乡",
        "纳西",
        "景颇",
        "柯尔克孜",
        "土",
        "达斡尔",
        "仫佬",
        "羌",
        "布朗",
        "撒拉",
        "毛南",
        "仡佬",
        "锡伯",
        "阿昌",
        "普米",
        "塔吉克",
        "怒",
        "乌孜别克",
        "俄罗斯",
        "鄂温克",
        "德昂",
        "保安",
        "裕固",
        "京",
        "塔塔尔",
        "独龙",
        "鄂伦春",
        "赫哲",
        "门巴",
        "珞巴",
        "基诺",
    ];
    nation_lookup(code, &NATIONS, ["其他", "外国血统中国籍人士"])
}

/// The last day a card is valid.
#[derive(Clone, PartialEq, Eq)]
pub enum ValidTo {
    /// A date `YYYY-MM-DD`.
    Date(String),
    /// 长期: valid without end.
    LongTerm,
}

/// A card as read from the chip. Dates are `YYYY-MM-DD`. Fields a layout does not have are empty.
///
/// | field | resident | 港澳台 'J' | 2017 PR 'I' | 2023 PR 'Y' |
/// |---|---|---|---|---|
/// | `name` | 姓名 | 姓名 | 中文姓名 (may be empty) | 中文姓名 |
/// | `english_name` | – | – | 英文姓名 | 英文姓名 + 续 |
/// | `nation_code` | 民族 | – | – | – |
/// | `address` | 住址 | 住址 | – | – |
/// | `issuer` | 签发机关 | 签发机关 | – | – |
/// | `pass_number`, `issue_count` | – | 通行证号码, 签发次数 | – | – |
/// | `nationality` | – | – | 国籍 (alpha-3) | 国籍 |
/// | `card_version`, `authority_code` | – | – | 证件版本号, 受理机关代码 | – |
/// | `renew_count`, `previous_number_link` | – | – | – | 换证次数, 既往证件关联项 |
#[derive(Clone, PartialEq, Eq, Default, Zeroize, ZeroizeOnDrop)]
pub struct IdCard {
    #[zeroize(skip)]
    pub card_type: CardType,
    pub name: String,
    /// Latin name for foreign permanent-residence cards (empty otherwise).
    pub english_name: String,
    #[zeroize(skip)]
    pub gender: Gender,
    /// Two-digit nation code (GB/T 3304); empty where the layout has none.
    pub nation_code: String,
    pub birth_date: String,
    pub address: String,
    pub id_number: String,
    pub issuer: String,
    pub valid_from: String,
    pub valid_to: ValidTo,
    pub pass_number: String,
    pub issue_count: String,
    pub nationality: String,
    pub card_version: String,
    pub authority_code: String,
    pub renew_count: String,
    pub previous_number_link: String,
    /// The newest appended address (30 03), when one was read.
    pub appended_address: String,
    /// The 1024-byte WLT photo, opaque (see [`photo`]).
    pub photo: Vec<u8>,
    /// Two 512-byte fingerprint templates when read with 30 10; empty otherwise.
    pub fingerprints: Vec<u8>,
}

impl Default for ValidTo {
    fn default() -> Self {
        ValidTo::Date(String::new())
    }
}

impl Zeroize for ValidTo {
    fn zeroize(&mut self) {
        if let ValidTo::Date(d) = self {
            d.zeroize();
        }
        *self = ValidTo::LongTerm;
    }
}

impl IdCard {
    /// The name as shown in a greeting: first and last character kept, the rest starred
    /// (`张三` → `张*`, `张小三` → `张*三`). Latin names keep each word's first letter.
    pub fn masked_name(&self) -> String {
        let name = if self.name.trim().is_empty() {
            &self.english_name
        } else {
            &self.name
        };
        mask_name(name)
    }

    /// The Latin name masked (each word's first letter kept), empty when the card has none.
    pub fn masked_english_name(&self) -> String {
        mask_name(&self.english_name)
    }

    /// The ID number with all but the first three and last four characters starred.
    pub fn masked_number(&self) -> String {
        mask_middle(&self.id_number, 3, 4)
    }

    /// Whether the card is expired on `today` (`YYYY-MM-DD`). Dates compare as strings because
    /// both are zero-padded ISO dates.
    pub fn is_expired_on(&self, today: &str) -> bool {
        match &self.valid_to {
            ValidTo::LongTerm => false,
            ValidTo::Date(d) => d.as_str() < today,
        }
    }
}

impl fmt::Debug for IdCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdCard")
            .field("card_type", &self.card_type)
            .field("name", &self.masked_name())
            .field("id_number", &self.masked_number())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for ValidTo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValidTo::Date(_) => f.write_str("Date(..)"),
            ValidTo::LongTerm => f.write_str("LongTerm"),
        }
    }
}

/// Masks a personal name for display. Han names keep their first and last character; Latin names
/// keep the first letter of each word.
pub fn mask_name(name: &str) -> String {
    let name = name.trim();
    if name.is_empty() {
        return String::new();
    }
    if name.is_ascii() {
        return name
            .split_whitespace()
            .map(|word| {
                let mut chars = word.chars();
                let first = chars.next().unwrap_or('*');
                format!("{first}{}", "*".repeat(chars.count().min(3)))
            })
            .collect::<Vec<_>>()
            .join(" ");
    }
    let chars: Vec<char> = name.chars().collect();
    match chars.len() {
        1 => "*".to_string(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

/// Keeps `head` leading and `tail` trailing characters and stars the rest. Short values are starred
/// entirely so nothing identifying slips through.
pub fn mask_middle(value: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(chars.len() - head - tail));
    out.extend(&chars[chars.len() - tail..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(name: &str, number: &str) -> IdCard {
        let mut c = IdCard::default();
        c.name = name.into();
        c.gender = Gender::Male;
        c.nation_code = "01".into();
        c.birth_date = "1990-03-07".into();
        c.address = "北京市东城区测试路1号".into();
        c.id_number = number.into();
        c.issuer = "北京市公安局东城分局".into();
        c.valid_from = "2020-01-01".into();
        c.valid_to = ValidTo::Date("2040-01-01".into());
        c
    }

    #[test]
    fn masks_han_names_like_the_greeting_needs() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("张小三"), "张*三");
        assert_eq!(mask_name("欧阳娜娜"), "欧**娜");
        assert_eq!(mask_name("王"), "*");
        assert_eq!(mask_name("  "), "");
    }

    #[test]
    fn masks_latin_names_word_by_word() {
        assert_eq!(mask_name("JOHN SMITH"), "J*** S***");
        assert_eq!(mask_name("LI"), "L*");
    }

    #[test]
    fn debug_never_shows_name_or_number() {
        let c = card("张小三", "11010119900307001X");
        let shown = format!("{c:?}");
        assert!(!shown.contains("张小三"), "{shown}");
        assert!(!shown.contains("11010119900307001X"), "{shown}");
        assert!(!shown.contains("测试路"), "{shown}");
        assert!(shown.contains("110***********001X"), "{shown}");
    }

    #[test]
    fn expiry_compares_dates_and_respects_long_term() {
        let mut c = card("张三", "11010119900307001X");
        assert!(!c.is_expired_on("2039-12-31"));
        assert!(!c.is_expired_on("2040-01-01"));
        assert!(c.is_expired_on("2040-01-02"));
        c.valid_to = ValidTo::LongTerm;
        assert!(!c.is_expired_on("2999-01-01"));
    }

    #[test]
    fn gender_codes_follow_gb_t_2261() {
        assert_eq!(Gender::from_code('1'), Some(Gender::Male));
        assert_eq!(Gender::from_code('2'), Some(Gender::Female));
        assert_eq!(Gender::from_code('9'), Some(Gender::Unstated));
        assert_eq!(Gender::from_code('3'), None);
        for g in [
            Gender::Unknown,
            Gender::Male,
            Gender::Female,
            Gender::Unstated,
        ] {
            assert_eq!(Gender::from_code(g.code()), Some(g));
        }
    }

    #[test]
    fn nation_table_covers_01_to_56_97_98_and_nothing_else() {
        assert_eq!(nation_name("01"), Some("汉"));
        assert_eq!(nation_name("46"), Some("德昂"));
        assert_eq!(nation_name("56"), Some("基诺"));
        assert_eq!(nation_name("97"), Some("其他"));
        assert_eq!(nation_name("98"), Some("外国血统中国籍人士"));
        for bad in ["00", "57", "96", "99", "1", "001", "0a", ""] {
            assert_eq!(nation_name(bad), None, "{bad}");
        }
        let known = (0..100)
            .filter(|n| nation_name(&format!("{n:02}")).is_some())
            .count();
        assert_eq!(known, 58);
    }

    #[test]
    fn english_nation_names_follow_the_same_codes() {
        assert_eq!(nation_name_en("01"), Some("Han"));
        assert_eq!(nation_name_en("46"), Some("De'ang"));
        assert_eq!(nation_name_en("56"), Some("Jino"));
        assert_eq!(nation_name_en("97"), Some("Other"));
        for n in 0..100 {
            let code = format!("{n:02}");
            assert_eq!(
                nation_name(&code).is_some(),
                nation_name_en(&code).is_some(),
                "{code}"
            );
        }
    }
}
