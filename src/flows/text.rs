//! A static text in both languages, Chinese and English side by side. Citizen words live in the UI
//! (`@tr` in `ui/`, the flows hand it enums such as a field or problem kind) and in the catalog
//! data; the one text left here is the consent text (`CONSENT_TEXT` in `flows::apply`), a versioned
//! legal text: its words are tied to `CONSENT_VERSION`, recorded with every submission, so they stay
//! next to that version in Rust rather than in a translation file.

use crate::shared::config::Locale;

/// A static text in both languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text2 {
    pub zh: &'static str,
    pub en: &'static str,
}

impl Text2 {
    pub fn get(&self, locale: Locale) -> &'static str {
        match locale {
            Locale::ZhCn => self.zh,
            Locale::En => self.en,
        }
    }
}
