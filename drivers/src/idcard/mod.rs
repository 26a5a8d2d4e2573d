//! Resident ID cards and the other cards the SAM reader reads (GA/T 467, GB 11643).
//!
//! This module holds the card model the application works with, the ID-number rules ([`number`]) and
//! the SAM frame codec ([`frame`]: commands, SW3 codes, a streaming decoder). The text-block parser,
//! the serial/USB transports, the reader service and the pty simulator come with the rest of the
//! ID-card driver work; the types here are what they produce.
//!
//! An [`IdCard`] is personal data: it is zeroized when dropped and never prints its contents in
//! `Debug`. Use [`IdCard::masked_name`] and [`IdCard::masked_number`] for anything shown or logged.

pub mod frame;
pub mod number;

use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Which layout the card's text block uses (type tag at byte 248 of the text block).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CardType {
    /// 居民身份证.
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
}

/// Gender code of GB/T 2261.1 as stored on the chip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
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
}

/// The last day a card is valid.
#[derive(Clone, PartialEq, Eq)]
pub enum ValidTo {
    /// A date `YYYY-MM-DD`.
    Date(String),
    /// 长期: valid without end.
    LongTerm,
}

/// A card as read from the chip. Dates are `YYYY-MM-DD`.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
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
        IdCard {
            card_type: CardType::Resident,
            name: name.into(),
            english_name: String::new(),
            gender: Gender::Male,
            nation_code: "01".into(),
            birth_date: "1990-03-07".into(),
            address: "北京市东城区测试路1号".into(),
            id_number: number.into(),
            issuer: "北京市公安局东城分局".into(),
            valid_from: "2020-01-01".into(),
            valid_to: ValidTo::Date("2040-01-01".into()),
        }
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
    }
}
