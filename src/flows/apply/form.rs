//! The application form: fields pre-filled from the card, the two on-screen keyboards (a digits
//! pad and a full keyboard with pinyin input), and validation as a [`FieldProblem`] the UI words.

use super::pinyin;
use super::Application;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Longest text a text field takes, in characters.
pub const TEXT_MAX: usize = 60;
/// How many pinyin candidates the keyboard shows at once (one row, paged).
pub const CANDIDATES: usize = 5;
/// How many candidates can be paged through.
const CANDIDATES_MAX: usize = 60;
/// Most letters the pinyin line takes (a long name or address word).
const PINYIN_MAX: usize = 24;

/// The form's fields (their labels are in the UI: `FieldKind` in ui/pages/apply.slint).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKey {
    Name,
    Gender,
    Nation,
    BirthDate,
    Address,
    IdNumber,
    Phone,
    MailingAddress,
    /// A foreign permanent resident's Latin name, as the card has it.
    EnglishName,
    /// A foreign permanent resident's nationality (ISO 3166-1 alpha-3, as the card has it).
    Nationality,
}

/// Which keyboard a field uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyboard {
    /// Read from the card, not editable.
    None,
    Digits,
    /// Full keyboard with pinyin input.
    Pinyin,
}

impl FieldKey {
    /// The name of the field in the submission sent to the platform.
    pub fn wire_name(self) -> &'static str {
        match self {
            FieldKey::Name => "name",
            FieldKey::Gender => "gender",
            FieldKey::Nation => "nation",
            FieldKey::BirthDate => "birth_date",
            FieldKey::Address => "address",
            FieldKey::IdNumber => "id_number",
            FieldKey::Phone => "phone",
            FieldKey::MailingAddress => "mailing_address",
            FieldKey::EnglishName => "english_name",
            FieldKey::Nationality => "nationality",
        }
    }

    pub fn keyboard(self) -> Keyboard {
        match self {
            FieldKey::Phone => Keyboard::Digits,
            FieldKey::MailingAddress => Keyboard::Pinyin,
            _ => Keyboard::None,
        }
    }
}

/// What is wrong with a field; the UI says it in plain words (`FieldProblemKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldProblem {
    Missing,
    PhoneFormat,
    TooLong,
}

#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Field {
    #[zeroize(skip)]
    pub key: FieldKey,
    pub value: String,
    #[zeroize(skip)]
    pub problem: Option<FieldProblem>,
}

impl Field {
    /// The value as the screen shows it: the ID number masked. In English, the card's gender and
    /// nation words (kept in Chinese for the submission) are shown in English.
    pub fn shown(&self, locale: crate::shared::config::Locale) -> String {
        use hallkiosk_drivers::idcard::{nation_name, nation_name_en, Gender};
        let english = locale == crate::shared::config::Locale::En;
        match self.key {
            FieldKey::IdNumber => hallkiosk_drivers::idcard::mask_middle(&self.value, 3, 4),
            FieldKey::Gender if english => [
                Gender::Male,
                Gender::Female,
                Gender::Unstated,
                Gender::Unknown,
            ]
            .into_iter()
            .find(|g| g.zh() == self.value)
            .map_or_else(|| self.value.clone(), |g| g.en().to_string()),
            FieldKey::Nation if english => (1..=98)
                .map(|n| format!("{n:02}"))
                .find(|code| {
                    nation_name(code).is_some_and(|zh| {
                        self.value == zh || self.value.strip_suffix('族') == Some(zh)
                    })
                })
                .and_then(|code| nation_name_en(&code))
                .map_or_else(|| self.value.clone(), str::to_string),
            _ => self.value.clone(),
        }
    }

    pub(super) fn check(&self) -> Option<FieldProblem> {
        let v = self.value.trim();
        match self.key {
            FieldKey::Phone => {
                if v.is_empty() {
                    Some(FieldProblem::Missing)
                } else if v.len() != 11
                    || !v.starts_with('1')
                    || !v.bytes().all(|b| b.is_ascii_digit())
                {
                    Some(FieldProblem::PhoneFormat)
                } else {
                    None
                }
            }
            FieldKey::MailingAddress => {
                if v.is_empty() {
                    Some(FieldProblem::Missing)
                } else if v.chars().count() > TEXT_MAX {
                    Some(FieldProblem::TooLong)
                } else {
                    None
                }
            }
            _ => None,
        }
    }
}

impl Application {
    /// The keyboard the focused field uses.
    pub fn keyboard(&self) -> Keyboard {
        self.focus
            .and_then(|i| self.fields.get(i))
            .map_or(Keyboard::None, |f| f.key.keyboard())
    }

    /// The pinyin candidates on the row's current page.
    pub fn candidates(&self) -> Vec<String> {
        self.all_candidates()
            .into_iter()
            .skip(self.candidate_page * CANDIDATES)
            .take(CANDIDATES)
            .map(|c| c.text)
            .collect()
    }

    fn all_candidates(&self) -> Vec<pinyin::Candidate> {
        pinyin::phrase_candidates(&self.pinyin, CANDIDATES_MAX)
    }

    /// Whether the candidate row has a page before / after the current one.
    pub fn candidate_pages(&self) -> (bool, bool) {
        let n = self.all_candidates().len();
        (
            self.candidate_page > 0,
            (self.candidate_page + 1) * CANDIDATES < n,
        )
    }

    pub(super) fn page_candidates(&mut self, forward: bool) {
        let (previous, next) = self.candidate_pages();
        if forward && next {
            self.candidate_page += 1;
        } else if !forward && previous {
            self.candidate_page -= 1;
        }
    }

    pub fn focus(&mut self, index: usize) {
        if self
            .fields
            .get(index)
            .is_some_and(|f| f.key.keyboard() != Keyboard::None)
        {
            self.focus = Some(index);
            self.pinyin.clear();
            self.candidate_page = 0;
        }
    }

    /// The keyboard closes (完成): the field keeps what was typed; pinyin not yet turned into a
    /// character is dropped, as when another field is tapped.
    pub fn done_typing(&mut self) {
        self.focus = None;
        self.pinyin.clear();
        self.candidate_page = 0;
    }

    /// A key on the on-screen keyboard: a digit on the digits pad, a letter (pinyin) or a digit on
    /// the full keyboard.
    pub fn key(&mut self, c: char) {
        let Some(i) = self.focus else { return };
        let keyboard = self.keyboard();
        let Some(field) = self.fields.get_mut(i) else {
            return;
        };
        match keyboard {
            Keyboard::None => {}
            Keyboard::Digits => {
                if c.is_ascii_digit() && field.value.len() < 11 {
                    field.value.push(c);
                    field.problem = None;
                }
            }
            Keyboard::Pinyin => {
                if c.is_ascii_alphabetic() {
                    let mut next = self.pinyin.clone();
                    next.push(c.to_ascii_lowercase());
                    // Letters that still split into syllables (beijing), the last one unfinished.
                    if next.len() <= PINYIN_MAX && pinyin::segment(&next).is_some() {
                        self.pinyin = next;
                        self.candidate_page = 0;
                    }
                } else if field.value.chars().count() < TEXT_MAX
                    && (c.is_ascii_digit() || "-#（）()、，,".contains(c))
                {
                    field.value.push(c);
                    field.problem = None;
                }
            }
        }
    }

    /// A candidate picked: it goes into the field, and the syllables it stands for leave the typed
    /// letters (picking 张 from `zhangxiaosan` leaves `xiaosan`).
    pub fn pick(&mut self, text: &str) {
        let Some(i) = self.focus else { return };
        if self.keyboard() != Keyboard::Pinyin {
            return;
        }
        let Some(candidate) = self.all_candidates().into_iter().find(|c| c.text == text) else {
            return;
        };
        let Some(field) = self.fields.get_mut(i) else {
            return;
        };
        if field.value.chars().count() + text.chars().count() <= TEXT_MAX {
            field.value.push_str(text);
            field.problem = None;
        }
        let rest: String = pinyin::segment(&self.pinyin)
            .map(|parts| parts.into_iter().skip(candidate.syllables).collect())
            .unwrap_or_default();
        self.pinyin.zeroize();
        self.pinyin = rest;
        self.candidate_page = 0;
    }

    /// Backspace: a typed pinyin letter first, else the field's last character.
    pub fn backspace(&mut self) {
        let Some(i) = self.focus else { return };
        if self.pinyin.pop().is_some() {
            self.candidate_page = 0;
            return;
        }
        if self.keyboard() != Keyboard::None {
            self.fields[i].value.pop();
        }
    }

    /// Clears the focused field (a long address the citizen wants to retype).
    pub fn clear_field(&mut self) {
        let Some(i) = self.focus else { return };
        if self.keyboard() != Keyboard::None {
            self.fields[i].value.zeroize();
            self.pinyin.clear();
            self.candidate_page = 0;
        }
    }
}
