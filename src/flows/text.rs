//! The bilingual static text the flows still carry (Chinese and English side by side). Citizen
//! words are moving into the UI (`@tr` in `ui/`) and the catalog data; what is left here are texts
//! chosen by a flow rule (a validation problem, a state's plain words, the consent text) that the
//! bridge hands to the window as they are.

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
