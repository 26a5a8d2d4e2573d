//! What the screen shows: the routing kiosk's state, read by the bridge after every input.

use super::*;

impl Kiosk {
    pub fn page(&self) -> Page {
        self.page
    }
    pub fn locale(&self) -> Locale {
        self.locale
    }
    pub fn elder(&self) -> bool {
        self.elder
    }
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }
    pub fn guide(&self) -> &GuideState {
        &self.guide
    }
    pub fn identify_status(&self) -> IdentifyStatus {
        self.identify_status
    }
    /// Whether the identify page offers 不用证件取号: when the citizen came for a ticket, or the
    /// card cannot identify them (expired, unreadable) — never a dead end.
    pub fn offers_ticket_without_card(&self) -> bool {
        self.session.is_none()
            && (self.identify_target == Entry::Ticket
                || matches!(
                    self.identify_status,
                    IdentifyStatus::Expired
                        | IdentifyStatus::Rejected
                        | IdentifyStatus::ReaderFault
                ))
    }
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }
    /// The masked name for greetings, empty when nobody is identified. In English, a card with
    /// a Latin name (a foreign permanent resident's) is greeted by that name.
    pub fn greeting_name(&self) -> String {
        self.owner().unwrap_or_default()
    }
    /// Whose session it is, masked (张*三), for the top bar on every page: None when nobody is
    /// identified. A live session is never hidden behind a fresh-looking screen.
    pub fn owner(&self) -> Option<String> {
        let session = self.session.as_ref()?;
        Some(match session.card() {
            Some(card) if self.locale == Locale::En && !card.english_name.trim().is_empty() => {
                card.masked_english_name()
            }
            _ => session.greeting_name(),
        })
    }
    pub fn idle_remaining(&self) -> Option<u64> {
        self.idle.remaining_secs()
    }
    pub fn card_removed_prompt(&self) -> bool {
        self.card_removed_prompt
    }
    pub fn paper(&self) -> PaperState {
        self.paper
    }
    pub fn notice(&self) -> Option<Notice> {
        self.notice.map(|(n, _)| n)
    }

    pub fn queue_categories(&self) -> &[QueueCategory] {
        &self.hall.queue_categories
    }
    pub fn ticket(&self) -> Option<&TicketDesk> {
        self.ticket.as_ref()
    }
    pub fn progress(&self) -> Option<&ProgressStep> {
        self.progress.as_ref()
    }
    pub fn rating(&self) -> Option<&RatingDesk> {
        self.rating.as_ref()
    }
    pub fn maintenance(&self) -> Option<&Maintenance> {
        self.maintenance.as_ref()
    }
    /// Devices with a fault now: (device, reason in device words).
    pub fn faults(&self) -> &BTreeMap<DeviceKind, String> {
        &self.faults
    }

    /// The application in progress, if the citizen is applying.
    pub fn application(&self) -> Option<&Application> {
        self.apply.as_ref()
    }

    /// The material whose document camera preview is on screen now, if any.
    pub fn camera_preview(&self) -> Option<usize> {
        if self.page != Page::Apply {
            return None;
        }
        self.apply.as_ref()?.preview_material()
    }

    /// Work for the bridge (photos, saving, printing), oldest first.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// Themes that have personal items a citizen can complete at the kiosk, for the apply page
    /// (个人办事: the card identifies a person; an employer's items are reached from the guide's
    /// 法人办事).
    pub fn apply_themes(&self) -> Vec<&crate::shared::catalog::Theme> {
        self.catalog
            .themes
            .iter()
            .filter(|t| self.catalog.items.iter().any(|i| applies(i, &t.code)))
            .collect()
    }

    /// Personal items of the chosen theme that can be completed at the kiosk.
    pub fn apply_items(&self) -> Vec<&ServiceItem> {
        let theme = self.apply.as_ref().and_then(|a| a.theme.as_deref());
        match theme {
            Some(t) => self
                .catalog
                .items
                .iter()
                .filter(|i| applies(i, t))
                .collect(),
            None => Vec::new(),
        }
    }

    /// Items the guide lists now: a search's results, or the chosen theme's items.
    pub fn guide_items(&self) -> Vec<&ServiceItem> {
        self.guide.items(&self.catalog)
    }

    pub fn guide_item(&self) -> Option<&ServiceItem> {
        self.guide.item(&self.catalog)
    }
}

/// Whether the apply page lists `item` under `theme`.
fn applies(item: &ServiceItem, theme: &str) -> bool {
    item.kiosk_complete
        && item.theme == theme
        && item.category == crate::shared::catalog::Category::Personal
}
