//! The citizen's session: who is in front of the kiosk (the card read from the reader).
//!
//! Personal data in memory lives in these places, all owned by the routing `Kiosk` and all dropped —
//! and zeroized by their `ZeroizeOnDrop` — when the session ends (idle timeout, card removed and
//! not continued, finish, going home, a new card):
//!
//! | what | where | also wiped |
//! |---|---|---|
//! | the card (name, number, address, dates, photo bytes) | [`Session`] | — |
//! | the form's values (copied from the card, typed) and pinyin letters | `apply::Application::fields`, `pinyin` | on saving (the screen shows only the tracking code) |
//! | material photos | `apply::Application::materials` | on saving |
//! | the ID number for a progress lookup | `effect::ProgressLookup::Person` (`Zeroizing`) | when the lookup is answered |
//! | a submission on its way to the outbox | `Effect::Save` (sealed by the store thread) | once written |
//! | the maintenance PIN as typed | `maintenance::Maintenance::pin` (`Zeroizing`) | on 确定 |
//!
//! Every such type shows only masked values in `Debug`.

use hallkiosk_drivers::idcard::IdCard;
use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// How the citizen identified.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Session {
    card: Option<IdCard>,
}

impl Session {
    pub fn with_card(card: IdCard) -> Self {
        Session { card: Some(card) }
    }

    pub fn card(&self) -> Option<&IdCard> {
        self.card.as_ref()
    }

    /// The greeting name, masked (张*三).
    pub fn greeting_name(&self) -> String {
        self.card
            .as_ref()
            .map(IdCard::masked_name)
            .unwrap_or_default()
    }

    /// Whether anything personal is held.
    pub fn is_empty(&self) -> bool {
        self.card.is_none()
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session").field("card", &self.card).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hallkiosk_drivers::sim::fixtures::CardFixture;

    #[test]
    fn zeroize_wipes_the_card() {
        let mut s = Session::with_card(CardFixture::Resident.card());
        assert_eq!(s.greeting_name(), "张*三");
        s.zeroize();
        assert!(s.is_empty());
        assert_eq!(s.greeting_name(), "");
    }

    #[test]
    fn debug_is_masked() {
        let card = CardFixture::Resident.card();
        let number = card.id_number.clone();
        let s = Session::with_card(card);
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("张小三") && !shown.contains(&number),
            "{shown}"
        );
    }
}
