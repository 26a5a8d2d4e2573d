//! The routing [`Kiosk`]: which page shows, whose session it is, language and elder mode, the
//! idle countdown, notices and device faults. Each page's own rules live in its module
//! ([`guide`](super::guide), [`apply`](super::apply), [`ticket`](super::ticket),
//! [`progress`](super::progress), [`rating`](super::rating),
//! [`maintenance`](super::maintenance)); the kiosk routes to them and keeps what spans pages.
//!
//! # How to drive it
//!
//! `Kiosk` is a plain state machine in the manner of a sans-IO protocol: it owns no clock, no
//! thread and no device, so every rule runs in a unit test.
//!
//! **Inputs** — call these as things happen, on one thread:
//! - [`Kiosk::intent`] for what the citizen did on the screen ([`Intent`]; a page's own intents
//!   are wrapped, e.g. `Intent::Apply(ApplyIntent::Next)`); every intent counts as activity;
//! - [`Kiosk::device_event`] for what a device service reported, with today's local date (card
//!   expiry);
//! - [`Kiosk::tick`] with the time elapsed since the last tick (the idle countdown, notices);
//! - [`Kiosk::done`] with the answer to an effect it asked for earlier.
//!
//! **Outputs** — after each input:
//! - [`Kiosk::take_effects`]: the work to run (oldest first): photos, saving, printing, lookups;
//!   run each and feed its [`Done`] back through `done`, in any order;
//! - the state accessors ([`Kiosk::page`], [`Kiosk::session`], [`Kiosk::application`],
//!   [`Kiosk::ticket`], …) to draw the screen; [`Kiosk::camera_preview`] says whether the
//!   document camera's live view should run.
//!
//! Personal data lives in the [`Session`] (the card) and the [`Application`] (what was typed and
//! photographed); ending the session drops both, and their `Zeroize` impls wipe the memory.

use super::apply::{Application, ApplyIntent, ApplyStep};
use super::effect::{Done, Effect, ProgressLookup};
use super::guide::{GuideIntent, GuideState};
use super::identify::IdentifyStatus;
use super::idle::{IdleSignal, IdleTimer};
use super::maintenance::{Maintenance, MaintenanceIntent};
use super::progress::ProgressStep;
use super::rating::{RateIntent, RatingDesk};
use super::route;
use super::session::Session;
use super::ticket::{TicketDesk, TicketIntent};
use crate::shared::admin::{CardKey, PinCheck, PinGate};
use crate::shared::catalog::{Catalog, ServiceItem};
use crate::shared::config::{Config, Locale};
use crate::shared::config::{QueueCategory, Sha256Hex};
use hallkiosk_drivers::event::{DeviceEvent, DeviceKind};
use hallkiosk_drivers::printer::PrinterStatus;
use hallkiosk_drivers::scanner::route::{Router, ScanKind};
use std::collections::BTreeMap;
use std::time::Duration;

/// The pages of the kiosk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Home,
    Identify,
    Guide,
    Apply,
    Progress,
    Ticket,
    Rate,
    /// Technicians only: PIN pad, then device states and outbox numbers.
    Maintenance,
}

/// The five entries on the home page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    Apply,
    Progress,
    Ticket,
    Rate,
    Guide,
}

impl Entry {
    fn page(self) -> Page {
        match self {
            Entry::Apply => Page::Apply,
            Entry::Progress => Page::Progress,
            Entry::Ticket => Page::Ticket,
            Entry::Rate => Page::Rate,
            Entry::Guide => Page::Guide,
        }
    }

    /// Applying needs an identified citizen, and so does a ticket (实名取号). Progress does not: a
    /// scanned receipt is enough, and the progress page takes a card itself.
    fn needs_identity(self) -> bool {
        matches!(self, Entry::Apply | Entry::Ticket)
    }
}

/// A short message shown over any page until the next touch or a few seconds pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// The session ended because nobody touched the screen.
    SessionTimedOut,
    /// A scanned code is not one the kiosk knows.
    CodeNotUnderstood,
    /// A card was read while the citizen was elsewhere; they are now identified.
    Identified,
}

/// The printer as the citizen needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaperState {
    Ok,
    NearEnd,
    Out,
}

/// What a citizen did on the screen: moves between pages here, a page's own taps wrapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    Open(Entry),
    /// Go home, ending the session.
    Home,
    Back,
    SetLocale(Locale),
    SetElder(bool),
    /// After the greeting, go on to what the citizen came for.
    IdentifyContinue,
    /// 不用证件取号 on the identify page: a queue ticket for the windows without identifying (an
    /// expired or unreadable card, or none). The ticket names nobody; the window checks papers.
    TicketWithoutCard,
    /// "还需要更多时间" on the idle countdown.
    StillHere,
    /// The card was removed mid-flow and the citizen wants to go on.
    ContinueAfterRemoval,
    /// End the session now (from the card-removed question).
    EndSession,
    /// Apply for this item (from the apply page's list or the guide's 在此办理): may need the
    /// citizen identified first.
    ApplyFor(String),
    /// The hidden way to the maintenance screen (a tap on the kiosk id).
    OpenMaintenance,
    /// A touch that is not any of the above (scrolling, typing).
    Activity,
    Guide(GuideIntent),
    Apply(ApplyIntent),
    Ticket(TicketIntent),
    Rate(RateIntent),
    Maintenance(MaintenanceIntent),
}

/// Timeouts and defaults the flow needs from the configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlowSettings {
    pub idle: Duration,
    pub countdown: Duration,
    pub elder_factor: f64,
    pub default_locale: Locale,
}

impl FlowSettings {
    pub fn from_config(config: &Config) -> Self {
        let t = &config.timeouts;
        FlowSettings {
            idle: Duration::from_secs(t.idle_secs.0.into()),
            countdown: Duration::from_secs(t.countdown_secs.0.into()),
            elder_factor: t.elder_factor.0,
            default_locale: config.kiosk.locale,
        }
    }
}

/// One citizen's visit, from the first card or tap to the wipe. Effects are run off the UI thread
/// and answered later; an answer is fed back with the visit that asked ([`Kiosk::done_for`]), and
/// an answer for an earlier visit is dropped, so nothing asked for one citizen reaches the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visit(u64);

impl Visit {
    /// A new kiosk's first visit.
    pub const FIRST: Visit = Visit(0);
}

/// How long a notice stays.
const NOTICE_TIME: Duration = Duration::from_secs(6);

/// The kiosk's state.
#[derive(Debug)]
pub struct Kiosk {
    settings: FlowSettings,
    catalog: Catalog,
    page: Page,
    history: Vec<Page>,
    session: Option<Session>,
    identify_status: IdentifyStatus,
    identify_target: Entry,
    guide: GuideState,
    locale: Locale,
    elder: bool,
    idle: IdleTimer,
    card_removed_prompt: bool,
    reader_fault: bool,
    paper: PaperState,
    notice: Option<(Notice, Duration)>,
    router: Router,
    apply: Option<Application>,
    /// An item chosen in the guide before the citizen identified.
    pending_item: Option<String>,
    effects: Vec<Effect>,
    hall: HallSetup,
    ticket: Option<TicketDesk>,
    progress: Option<ProgressStep>,
    rating: Option<RatingDesk>,
    maintenance: Option<Maintenance>,
    /// Devices' last fault reasons (device words only), for the maintenance screen.
    faults: BTreeMap<DeviceKind, String>,
    /// Counts wipes: answers to effects of an earlier visit are dropped.
    visit: u64,
}

/// What the flows need from the `[hall]` configuration.
#[derive(Debug, Clone, Default)]
pub struct HallSetup {
    pub queue_categories: Vec<QueueCategory>,
    /// The PIN pad's gate (Argon2id, lockout kept in the data directory); the default opens for
    /// no PIN.
    pub pin: PinCheck,
    /// The admin-card key and the technicians' cards' HMACs under it.
    pub card_key: Option<CardKey>,
    pub admin_cards: Vec<Sha256Hex>,
}

impl HallSetup {
    pub fn from_config(config: &Config) -> Self {
        let card_key = match CardKey::configured(config) {
            Ok(k) => k,
            Err(e) => {
                tracing::error!("admin cards are disabled: no usable admin-card key: {e}");
                None
            }
        };
        if card_key.is_none() && !config.hall.admin_cards_hmac.is_empty() {
            tracing::error!("admin cards are configured but no admin-card key is provisioned");
        }
        HallSetup {
            queue_categories: config.hall.queue_categories.clone(),
            pin: PinCheck::new(PinGate::from_config(config)),
            card_key,
            admin_cards: config.hall.admin_cards_hmac.clone(),
        }
    }

    fn admin_card(&self, id_number: &str) -> bool {
        self.card_key
            .as_ref()
            .is_some_and(|k| self.admin_cards.iter().any(|h| k.matches(&h.0, id_number)))
    }
}

impl Kiosk {
    pub fn new(settings: FlowSettings, catalog: Catalog) -> Self {
        Kiosk {
            settings,
            catalog,
            page: Page::Home,
            history: Vec::new(),
            session: None,
            identify_status: IdentifyStatus::Waiting,
            identify_target: Entry::Apply,
            guide: GuideState::default(),
            locale: settings.default_locale,
            elder: false,
            idle: IdleTimer::new(settings.idle, settings.countdown),
            card_removed_prompt: false,
            reader_fault: false,
            paper: PaperState::Ok,
            notice: None,
            router: route::router(None),
            apply: None,
            pending_item: None,
            effects: Vec::new(),
            hall: HallSetup {
                queue_categories: crate::shared::config::HallSection::default().queue_categories,
                ..HallSetup::default()
            },
            ticket: None,
            progress: None,
            rating: None,
            maintenance: None,
            faults: Default::default(),
            visit: 0,
        }
    }

    /// Sets the hall's queue categories and maintenance access.
    pub fn with_hall(mut self, hall: HallSetup) -> Self {
        self.hall = hall;
        self
    }

    /// Sets this kiosk's id, so its own receipts are recognised as such.
    pub fn with_kiosk_id(mut self, kiosk: &str) -> Self {
        self.router = route::router(Some(kiosk));
        self
    }

    // ---- input ----

    /// A citizen's action on the screen. Every action counts as activity for the idle timer.
    pub fn intent(&mut self, intent: Intent) {
        self.idle.activity();
        if !matches!(intent, Intent::Activity) {
            self.notice = None;
        }
        match intent {
            Intent::Open(entry) => self.open(entry),
            Intent::Home => self.end_session(),
            Intent::Back => self.back(),
            Intent::SetLocale(locale) => self.locale = locale,
            Intent::SetElder(on) => {
                self.elder = on;
                self.apply_idle_limits();
            }
            Intent::IdentifyContinue => {
                if self.page == Page::Identify && self.session.is_some() {
                    let target = self.identify_target;
                    self.page = target.page();
                    match target {
                        Entry::Apply => self.begin_application(),
                        Entry::Ticket => self.ticket = Some(TicketDesk::new()),
                        _ => {}
                    }
                }
            }
            Intent::TicketWithoutCard => {
                if self.page == Page::Identify && self.offers_ticket_without_card() {
                    self.go(Page::Ticket);
                    self.ticket = Some(TicketDesk::new());
                }
            }
            Intent::StillHere | Intent::Activity => {}
            Intent::ApplyFor(id) => self.apply_for(id),
            Intent::OpenMaintenance => {
                if self.page != Page::Maintenance {
                    // The technicians' screen is nobody's session: a citizen's is ended first,
                    // so a technician sees nothing of theirs and back leads to a fresh home. The
                    // language and mode stay as the technician found them.
                    self.forget_visit();
                    self.page = Page::Home;
                    self.history.clear();
                    self.maintenance = Some(Maintenance::locked());
                    self.go(Page::Maintenance);
                }
            }
            Intent::ContinueAfterRemoval => self.card_removed_prompt = false,
            Intent::EndSession => self.end_session(),
            // A page's own taps count only while that page shows.
            Intent::Guide(i) => {
                if self.page == Page::Guide {
                    self.guide.handle(i, &self.catalog);
                }
            }
            Intent::Apply(i) => {
                let catalog = &self.catalog;
                if let (Page::Apply, Some(a)) = (self.page, self.apply.as_mut()) {
                    let effect = a.handle(i, |code| catalog.theme(code).is_some());
                    self.effects.extend(effect);
                }
            }
            Intent::Ticket(i) => {
                if let (Page::Ticket, Some(desk)) = (self.page, self.ticket.as_mut()) {
                    let effect = desk.handle(i, &self.hall.queue_categories, self.locale);
                    self.effects.extend(effect);
                }
            }
            Intent::Rate(i) => {
                if let (Page::Rate, Some(desk)) = (self.page, self.rating.as_mut()) {
                    self.effects.extend(desk.handle(i));
                }
            }
            Intent::Maintenance(i) => {
                let hall = &self.hall;
                if let (Page::Maintenance, Some(m)) = (self.page, self.maintenance.as_mut()) {
                    let effect = m.handle(i, |pin| hall.pin.check(pin), &self.faults);
                    self.effects.extend(effect);
                }
            }
        }
    }

    /// Time passed. Returns true when the session was wiped by the idle timeout.
    pub fn tick(&mut self, elapsed: Duration) -> bool {
        if let Some((_, age)) = &mut self.notice {
            *age += elapsed;
            if *age >= NOTICE_TIME {
                self.notice = None;
            }
        }
        if !self.has_something_to_wipe() {
            self.idle.activity();
            return false;
        }
        match self.idle.tick(elapsed) {
            Some(IdleSignal::Expire) => {
                self.end_session();
                self.notice = Some((Notice::SessionTimedOut, Duration::ZERO));
                true
            }
            Some(IdleSignal::Warn) | None => false,
        }
    }

    /// The visit effects taken now belong to: keep it with each effect and give it back to
    /// [`Kiosk::done_for`] with the answer.
    pub fn visit(&self) -> Visit {
        Visit(self.visit)
    }

    /// The answer to an effect taken during `visit`: dropped when that visit has ended (the
    /// citizen who asked is gone, their data wiped).
    pub fn done_for(&mut self, visit: Visit, done: Done) {
        if visit == self.visit() {
            self.done(done);
        }
    }

    /// The answer to an effect of the current visit, routed to the page that asked.
    pub fn done(&mut self, done: Done) {
        match done {
            Done::TicketIssued(_) | Done::TicketPrinted(_) => {
                let effect = self.ticket.as_mut().and_then(|t| t.done(done));
                self.effects.extend(effect);
            }
            Done::ProgressFound(r) => {
                if let Some(p) = self.progress.as_mut() {
                    p.found(r);
                }
            }
            Done::RatingSaved(_) => {
                if let Some(d) = self.rating.as_mut() {
                    d.done(done);
                }
            }
            Done::Stats(_) | Done::StatusPrinted(_) => {
                if let Some(m) = self.maintenance.as_mut() {
                    m.done(done);
                }
            }
            Done::Captured { .. } | Done::Saved(_) | Done::Printed(_) => {
                let locale = self.locale;
                let effect = self.apply.as_mut().and_then(|a| a.done(done, locale));
                self.effects.extend(effect);
            }
        }
    }

    // ---- internals ----

    /// A fresh application (or the one in progress), started at a guide item if one was chosen.
    fn begin_application(&mut self) {
        if self
            .apply
            .as_ref()
            .is_none_or(|a| a.step == ApplyStep::Submitted)
        {
            self.apply = Some(Application::new());
        }
        if let Some(id) = self.pending_item.take() {
            self.start_item(&id);
        }
    }

    fn apply_for(&mut self, id: String) {
        let Some(item) = self.catalog.item(&id) else {
            return;
        };
        if !item.kiosk_complete {
            return;
        }
        if self.session.is_none() {
            self.pending_item = Some(id);
            self.open(Entry::Apply);
            return;
        }
        if self.page != Page::Apply {
            self.go(Page::Apply);
            self.apply = Some(Application::new());
        }
        self.start_item(&id);
    }

    fn start_item(&mut self, id: &str) {
        let (Some(item), Some(card), Some(a)) = (
            self.catalog.item(id),
            self.session.as_ref().and_then(Session::card),
            self.apply.as_mut(),
        ) else {
            return;
        };
        if item.kiosk_complete && matches!(a.step, ApplyStep::Choose) {
            a.start(item, card);
        }
    }

    /// Anything a next citizen should not inherit: a page, a session, a changed language or mode.
    fn has_something_to_wipe(&self) -> bool {
        self.page != Page::Home
            || self.session.is_some()
            || self.locale != self.settings.default_locale
            || self.elder
    }

    fn open(&mut self, entry: Entry) {
        if entry.needs_identity() && self.session.is_none() {
            self.identify_target = entry;
            self.show_identify(if self.reader_fault {
                IdentifyStatus::ReaderFault
            } else {
                IdentifyStatus::Waiting
            });
            return;
        }
        if entry == Entry::Guide {
            self.guide = GuideState::default();
        }
        self.go(entry.page());
        match entry {
            Entry::Ticket => self.ticket = Some(TicketDesk::new()),
            Entry::Progress => self.lookup_person(),
            Entry::Rate => {
                let (item, code) = self
                    .apply
                    .as_ref()
                    .and_then(|a| {
                        a.submitted
                            .as_ref()
                            .map(|s| (Some(a.item_id.clone()), Some(s.tracking_code.clone())))
                    })
                    .unwrap_or((None, None));
                self.rating = Some(RatingDesk::new(item, code));
            }
            Entry::Apply | Entry::Guide => {}
        }
        if entry == Entry::Apply {
            self.begin_application();
        }
    }

    fn show_identify(&mut self, status: IdentifyStatus) {
        self.identify_status = status;
        if self.page != Page::Identify {
            self.go(Page::Identify);
        }
    }

    fn go(&mut self, page: Page) {
        if page == self.page {
            return;
        }
        if self.page == Page::Maintenance {
            // Leaving the technicians' screen locks it, and back never returns to it.
            self.maintenance = None;
        } else {
            self.history.push(self.page);
        }
        self.page = page;
    }

    fn back(&mut self) {
        if self.page == Page::Apply {
            if let Some(a) = self.apply.as_mut() {
                if a.back() {
                    return;
                }
            }
        }
        if self.page == Page::Guide && self.guide.back() {
            return;
        }
        if self.page == Page::Maintenance {
            // Leaving the technicians' screen locks it again.
            self.maintenance = None;
        }
        self.page = self.history.pop().unwrap_or(Page::Home);
        if self.page == Page::Home {
            self.history.clear();
            if self.session.is_none() {
                // Home without an owner looks fresh, so it must be: a scanned receipt's progress,
                // a rating, a guide position are forgotten.
                self.forget_visit();
            }
        }
    }

    /// Ends the session: personal data zeroized, every mode back to the hall's default, home.
    fn end_session(&mut self) {
        self.forget_visit();
        self.maintenance = None;
        self.page = Page::Home;
        self.history.clear();
        self.locale = self.settings.default_locale;
        self.elder = false;
        self.apply_idle_limits();
    }

    /// Forgets everything of this visit that belongs to a citizen, and starts a new visit so that
    /// answers still on their way for this one are dropped. The page, language and mode stay.
    fn forget_visit(&mut self) {
        // Dropping the session zeroizes the card (ZeroizeOnDrop), dropping the application
        // everything typed and photographed.
        self.session = None;
        self.apply = None;
        self.pending_item = None;
        self.ticket = None;
        self.progress = None;
        self.rating = None;
        self.guide = GuideState::default();
        self.identify_status = IdentifyStatus::Waiting;
        self.identify_target = Entry::Apply;
        self.card_removed_prompt = false;
        self.effects.clear();
        self.visit += 1;
    }

    fn apply_idle_limits(&mut self) {
        let f = if self.elder {
            self.settings.elder_factor
        } else {
            1.0
        };
        self.idle.set_limits(
            self.settings.idle.mul_f64(f),
            self.settings.countdown.mul_f64(f),
        );
    }
}

mod devices;
#[cfg(test)]
mod isolation;
#[cfg(test)]
mod tests;
mod view;
