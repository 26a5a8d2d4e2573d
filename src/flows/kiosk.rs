//! The kiosk's top-level flow: which page shows, who is identified, the service guide's position,
//! elder mode and language, the idle countdown, and what to tell the citizen.

use super::apply::{Application, ApplyStep, Done, Effect};
use super::hall::{Maintenance, ProgressLookup, ProgressStep, RatingDesk, TicketDesk};
use super::idle::{IdleSignal, IdleTimer};
use super::route;
use super::session::Session;
use crate::shared::catalog::{Catalog, Category, ServiceItem};
use crate::shared::config::{Config, Locale};
use crate::shared::config::{QueueCategory, Sha256Hex};
use hallkiosk_drivers::event::{DeviceEvent, DeviceKind};
use hallkiosk_drivers::printer::PrinterStatus;
use hallkiosk_drivers::scanner::route::{Router, ScanKind};
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

/// What the identify page says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentifyStatus {
    /// "请将身份证放在感应区或扫描电子证照二维码".
    Waiting,
    /// "您好，张*三" with a button to go on.
    Greeting,
    /// "证件已过期".
    Expired,
    /// "请重新放置身份证".
    Rejected,
    /// "读卡器故障，请联系工作人员".
    ReaderFault,
    /// An e-ID code was scanned; it needs online verification, which this kiosk cannot do now.
    EidNeedsNetwork,
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

/// What a citizen did on the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    Open(Entry),
    /// Go home, ending the session.
    Home,
    Back,
    SetLocale(Locale),
    SetElder(bool),
    ChooseCategory(Category),
    ChooseTheme(String),
    ChooseItem(String),
    Search(String),
    /// After the greeting, go on to what the citizen came for.
    IdentifyContinue,
    /// "还需要更多时间" on the idle countdown.
    StillHere,
    /// The card was removed mid-flow and the citizen wants to go on.
    ContinueAfterRemoval,
    /// End the session now (from the card-removed question).
    EndSession,
    /// Apply: a theme on the choose step.
    ApplyTheme(String),
    /// Apply for this item (from the apply page's list or the guide's 在此办理).
    ApplyFor(String),
    /// Apply: put the keyboard on this form field.
    FocusField(usize),
    /// A key of the on-screen keyboard (digit or pinyin letter).
    Key(char),
    /// A pinyin candidate character.
    Pick(char),
    Backspace,
    ClearField,
    /// 下一步 in the application.
    Next,
    /// 拍照 / 重拍 / 到窗口补交 on a material step.
    Capture,
    Retake,
    DeferMaterial,
    SetConsent(bool),
    Submit,
    /// Print the receipt again after a printer fault.
    Reprint,
    /// A queue category (by its letter).
    ChooseQueue(String),
    /// A rating level (0 非常满意 … 4 非常不满意) and, below 满意, a reason.
    RateLevel(usize),
    RateReason(usize),
    /// The hidden way to the maintenance screen (a tap on the kiosk id).
    OpenMaintenance,
    /// 确定 on the maintenance PIN pad.
    EnterPin,
    /// Refresh the maintenance numbers / print the status page.
    RefreshStats,
    PrintStatus,
    /// A touch that is not any of the above (scrolling, typing).
    Activity,
}

/// The service guide's position: category → theme → item, or a search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuideState {
    pub category: Category,
    pub theme: Option<String>,
    pub item: Option<String>,
    pub query: String,
}

impl Default for GuideState {
    fn default() -> Self {
        GuideState {
            category: Category::Personal,
            theme: None,
            item: None,
            query: String::new(),
        }
    }
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
    faults: std::collections::BTreeMap<&'static str, String>,
}

/// What the flows need from the `[hall]` configuration.
#[derive(Debug, Clone, Default)]
pub struct HallSetup {
    pub queue_categories: Vec<QueueCategory>,
    pub admin_pin: Option<Sha256Hex>,
    /// Accept the dev dock's PIN (every device simulated, no PIN configured).
    pub dev_pin: bool,
    pub admin_cards: Vec<Sha256Hex>,
}

impl HallSetup {
    pub fn from_config(config: &Config) -> Self {
        HallSetup {
            queue_categories: config.hall.queue_categories.clone(),
            admin_pin: config.hall.admin_pin_sha256.clone(),
            dev_pin: config.hall.admin_pin_sha256.is_none() && config.all_devices_simulated(),
            admin_cards: config.hall.admin_cards_sha256.clone(),
        }
    }

    fn pin_ok(&self, pin: &str) -> bool {
        match &self.admin_pin {
            Some(h) => h.matches(pin),
            None => self.dev_pin && pin == crate::shared::config::DEV_ADMIN_PIN,
        }
    }

    fn admin_card(&self, id_number: &str) -> bool {
        self.admin_cards.iter().any(|h| h.matches(id_number))
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

    // ---- what the screen shows ----

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
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }
    /// The masked name for greetings, empty when nobody is identified.
    pub fn greeting_name(&self) -> String {
        self.session
            .as_ref()
            .map(Session::greeting_name)
            .unwrap_or_default()
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
    pub fn faults(&self) -> &std::collections::BTreeMap<&'static str, String> {
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

    /// Themes that have items a citizen can complete at the kiosk, for the apply page.
    pub fn apply_themes(&self) -> Vec<&crate::shared::catalog::Theme> {
        self.catalog
            .themes
            .iter()
            .filter(|t| {
                self.catalog
                    .items
                    .iter()
                    .any(|i| i.kiosk_complete && i.theme == t.code)
            })
            .collect()
    }

    /// Items of the chosen theme that can be completed at the kiosk.
    pub fn apply_items(&self) -> Vec<&ServiceItem> {
        let theme = self.apply.as_ref().and_then(|a| a.theme.as_deref());
        match theme {
            Some(t) => self
                .catalog
                .items
                .iter()
                .filter(|i| i.kiosk_complete && i.theme == t)
                .collect(),
            None => Vec::new(),
        }
    }

    /// Items the guide lists now: a search's results, or the chosen theme's items.
    pub fn guide_items(&self) -> Vec<&ServiceItem> {
        if !self.guide.query.trim().is_empty() {
            return self.catalog.search(&self.guide.query);
        }
        match &self.guide.theme {
            Some(theme) => self.catalog.items_in(self.guide.category, theme).collect(),
            None => Vec::new(),
        }
    }

    pub fn guide_item(&self) -> Option<&ServiceItem> {
        self.guide
            .item
            .as_deref()
            .and_then(|id| self.catalog.item(id))
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
            Intent::ChooseCategory(c) => {
                self.guide = GuideState {
                    category: c,
                    ..GuideState::default()
                };
            }
            Intent::ChooseTheme(code) => {
                if self.catalog.theme(&code).is_some() {
                    self.guide.theme = Some(code);
                    self.guide.item = None;
                    self.guide.query.clear();
                }
            }
            Intent::ChooseItem(id) => {
                if self.catalog.item(&id).is_some() {
                    self.guide.item = Some(id);
                }
            }
            Intent::Search(q) => {
                self.guide.query = q;
                self.guide.item = None;
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
            Intent::StillHere | Intent::Activity => {}
            Intent::ApplyTheme(code) => {
                if self.catalog.theme(&code).is_some() {
                    if let Some(a) = self.apply.as_mut().filter(|a| a.step == ApplyStep::Choose) {
                        a.theme = Some(code);
                    }
                }
            }
            Intent::ApplyFor(id) => self.apply_for(id),
            Intent::FocusField(i) => self.with_apply(|a| a.focus(i)),
            Intent::Key(c) if self.page == Page::Maintenance => {
                if let Some(m) = self.maintenance.as_mut() {
                    m.key(c);
                }
            }
            Intent::Backspace if self.page == Page::Maintenance => {
                if let Some(m) = self.maintenance.as_mut() {
                    m.backspace();
                }
            }
            Intent::ClearField if self.page == Page::Maintenance => {
                if let Some(m) = self.maintenance.as_mut() {
                    m.clear();
                }
            }
            Intent::Key(c) => self.with_apply(|a| a.key(c)),
            Intent::Pick(c) => self.with_apply(|a| a.pick(c)),
            Intent::Backspace => self.with_apply(Application::backspace),
            Intent::ClearField => self.with_apply(Application::clear_field),
            Intent::Next => self.with_apply(Application::next),
            Intent::Capture => self.apply_effect(Application::capture),
            Intent::Retake => self.with_apply(Application::retake),
            Intent::DeferMaterial => self.with_apply(Application::defer_material),
            Intent::SetConsent(on) => self.with_apply(|a| a.set_consent(on)),
            Intent::Submit => self.apply_effect(Application::submit),
            Intent::Reprint => self.apply_effect(Application::reprint),
            Intent::ChooseQueue(code) => {
                let category = self
                    .hall
                    .queue_categories
                    .iter()
                    .find(|c| c.code.0 == code)
                    .cloned();
                let locale = self.locale;
                if let (Page::Ticket, Some(c), Some(desk)) =
                    (self.page, category, self.ticket.as_mut())
                {
                    if let Some(e) = desk.choose(c, locale) {
                        self.effects.push(e);
                    }
                }
            }
            Intent::RateLevel(i) => {
                if let Some(e) = self.rating.as_mut().and_then(|r| r.level(i)) {
                    self.effects.push(e);
                }
            }
            Intent::RateReason(i) => {
                if let Some(e) = self.rating.as_mut().and_then(|r| r.reason(i)) {
                    self.effects.push(e);
                }
            }
            Intent::OpenMaintenance => {
                if self.maintenance.is_none() {
                    self.maintenance = Some(Maintenance::locked());
                }
                self.go(Page::Maintenance);
            }
            Intent::EnterPin => {
                let hall = &self.hall;
                if let Some(e) = self
                    .maintenance
                    .as_mut()
                    .and_then(|m| m.enter(|p| hall.pin_ok(p)))
                {
                    self.effects.push(e);
                }
            }
            Intent::RefreshStats => {
                if self.maintenance.as_ref().is_some_and(|m| m.unlocked) {
                    self.effects.push(Effect::MaintenanceStats);
                }
            }
            Intent::PrintStatus => {
                if let Some(lines) = self.status_lines() {
                    if let Some(m) = self.maintenance.as_mut() {
                        m.status_print = None;
                    }
                    self.effects.push(Effect::PrintStatusPage(lines));
                }
            }
            Intent::ContinueAfterRemoval => self.card_removed_prompt = false,
            Intent::EndSession => self.end_session(),
        }
    }

    /// An event from a device service. `today` is the local date `YYYY-MM-DD` (for card expiry).
    pub fn device_event(&mut self, event: DeviceEvent, today: &str) {
        match event {
            DeviceEvent::CardPresented(card) => {
                self.idle.activity();
                self.card_removed_prompt = false;
                if self.hall.admin_card(&card.id_number) {
                    // A technician's card opens maintenance and identifies nobody.
                    self.end_session();
                    self.maintenance = Some(Maintenance::unlocked());
                    self.go(Page::Maintenance);
                    self.effects.push(Effect::MaintenanceStats);
                    return;
                }
                if card.is_expired_on(today) {
                    // An expired card identifies nobody; whatever session there was stays as it was.
                    self.show_identify(IdentifyStatus::Expired);
                    return;
                }
                // A new card is a new person: the previous session is wiped first, and with it
                // any application in progress (unless it is saved and only its receipt shows).
                self.session = Some(Session::with_card(*card));
                if self
                    .apply
                    .as_ref()
                    .is_some_and(|a| a.step != ApplyStep::Submitted)
                {
                    self.apply = None;
                    if self.page == Page::Apply {
                        self.page = Page::Home;
                        self.history.clear();
                    }
                }
                match self.page {
                    Page::Home | Page::Identify => self.show_identify(IdentifyStatus::Greeting),
                    Page::Progress => self.lookup_person(),
                    _ => self.notice = Some((Notice::Identified, Duration::ZERO)),
                }
            }
            DeviceEvent::CardRemoved => {
                if self.session.is_some() && self.page != Page::Home {
                    self.card_removed_prompt = true;
                }
            }
            DeviceEvent::CardRejected(_) => {
                // Whatever went wrong with the read, the citizen's next step is the same.
                self.idle.activity();
                self.show_identify(IdentifyStatus::Rejected);
            }
            DeviceEvent::CodeScanned(payload) => {
                self.idle.activity();
                match self.router.classify(&payload.text) {
                    ScanKind::Eid => self.show_identify(IdentifyStatus::EidNeedsNetwork),
                    ScanKind::Receipt { tracking_code, .. } => {
                        self.go(Page::Progress);
                        self.progress = Some(ProgressStep::Looking);
                        self.effects
                            .push(Effect::LookupProgress(ProgressLookup::Code(tracking_code)));
                    }
                    ScanKind::Url | ScanKind::Other => {
                        self.notice = Some((Notice::CodeNotUnderstood, Duration::ZERO))
                    }
                }
            }
            DeviceEvent::PrinterStatus(status) => {
                self.paper = paper_state(status);
                match crate::shared::health::health_of(&DeviceEvent::PrinterStatus(status)) {
                    Some((_, crate::outbox::HealthLevel::Fault, why)) => {
                        self.faults.insert("printer", why);
                    }
                    _ => {
                        self.faults.remove("printer");
                    }
                }
            }
            DeviceEvent::DeviceFault { device, ref reason }
                if device != DeviceKind::IdCardReader =>
            {
                self.faults.insert(device_name(device), reason.clone());
            }
            DeviceEvent::DeviceRecovered { device } if device != DeviceKind::IdCardReader => {
                self.faults.remove(device_name(device));
            }
            DeviceEvent::DeviceFault {
                device: DeviceKind::IdCardReader,
                ref reason,
            } => {
                self.faults.insert("reader", reason.clone());
                self.reader_fault = true;
                if self.page == Page::Identify {
                    self.identify_status = IdentifyStatus::ReaderFault;
                }
            }
            DeviceEvent::DeviceRecovered {
                device: DeviceKind::IdCardReader,
            } => {
                self.faults.remove("reader");
                self.reader_fault = false;
                if self.identify_status == IdentifyStatus::ReaderFault {
                    self.identify_status = IdentifyStatus::Waiting;
                }
            }
            DeviceEvent::DeviceFault { .. } | DeviceEvent::DeviceRecovered { .. } => {}
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

    /// The result of an effect the bridge ran.
    pub fn done(&mut self, done: Done) {
        let locale = self.locale;
        match done {
            Done::TicketIssued(r) => {
                if let Some(e) = self.ticket.as_mut().and_then(|t| t.issued(r)) {
                    self.effects.push(e);
                }
            }
            Done::TicketPrinted(r) => {
                if let Some(t) = self.ticket.as_mut() {
                    t.printed(r);
                }
            }
            Done::ProgressFound(r) => {
                if self.progress == Some(ProgressStep::Looking) {
                    self.progress = Some(match r {
                        Ok(report) => ProgressStep::Found(report),
                        Err(e) => {
                            tracing::error!("progress lookup failed: {e}");
                            ProgressStep::Failed
                        }
                    });
                }
            }
            Done::RatingSaved(r) => {
                if let Some(d) = self.rating.as_mut() {
                    d.saved(r);
                }
            }
            Done::Stats(r) => {
                if let Some(m) = self.maintenance.as_mut().filter(|m| m.unlocked) {
                    m.stats = Some(r);
                }
            }
            Done::StatusPrinted(r) => {
                if let Some(m) = self.maintenance.as_mut() {
                    m.status_print = Some(r);
                }
            }
            other => {
                if let Some(a) = self.apply.as_mut() {
                    if let Some(next) = a.done(other, locale) {
                        self.effects.push(next);
                    }
                }
            }
        }
    }

    /// The maintenance status page's lines (device words and numbers only).
    fn status_lines(&self) -> Option<Vec<String>> {
        let m = self.maintenance.as_ref().filter(|m| m.unlocked)?;
        let mut lines = vec!["终端状态 Kiosk status".to_string()];
        for dev in ["reader", "printer", "scanner", "camera"] {
            lines.push(format!(
                "{dev}: {}",
                self.faults.get(dev).map(String::as_str).unwrap_or("ok")
            ));
        }
        if let Some(Ok(s)) = &m.stats {
            lines.push(format!("outbox waiting: {}", s.outbox_depth));
            lines.push(format!(
                "oldest waiting: {}",
                s.oldest_unacknowledged_secs
                    .map(|x| format!("{x} s"))
                    .unwrap_or_else(|| "-".into())
            ));
            lines.push(format!("rejected: {}", s.rejected));
            lines.push(format!("ratings waiting: {}", s.ratings_waiting));
            lines.push(format!(
                "platform: {}",
                if s.platform_reachable {
                    "reachable"
                } else {
                    "not reached lately"
                }
            ));
        }
        Some(lines)
    }

    fn lookup_person(&mut self) {
        let Some(number) = self
            .session
            .as_ref()
            .and_then(Session::card)
            .map(|c| zeroize::Zeroizing::new(c.id_number.clone()))
        else {
            self.progress = Some(ProgressStep::Waiting);
            return;
        };
        self.progress = Some(ProgressStep::Looking);
        self.effects
            .push(Effect::LookupProgress(ProgressLookup::Person(number)));
    }

    // ---- internals ----

    fn with_apply(&mut self, f: impl FnOnce(&mut Application)) {
        if self.page == Page::Apply {
            if let Some(a) = self.apply.as_mut() {
                f(a);
            }
        }
    }

    fn apply_effect(&mut self, f: impl FnOnce(&mut Application) -> Option<Effect>) {
        if self.page == Page::Apply {
            if let Some(effect) = self.apply.as_mut().and_then(f) {
                self.effects.push(effect);
            }
        }
    }

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
        if page != self.page {
            self.history.push(self.page);
            self.page = page;
        }
    }

    fn back(&mut self) {
        if self.page == Page::Apply {
            if let Some(a) = self.apply.as_mut() {
                if a.back() {
                    return;
                }
            }
        }
        if self.page == Page::Guide {
            let g = &mut self.guide;
            if g.item.take().is_some() {
                return;
            }
            if !g.query.is_empty() {
                g.query.clear();
                return;
            }
            if g.theme.take().is_some() {
                return;
            }
        }
        self.page = self.history.pop().unwrap_or(Page::Home);
        if self.page == Page::Home {
            self.history.clear();
        }
    }

    /// Ends the session: personal data zeroized, every mode back to the hall's default, home.
    fn end_session(&mut self) {
        // Dropping the session zeroizes the card (ZeroizeOnDrop), dropping the application
        // everything typed and photographed.
        self.session = None;
        self.apply = None;
        self.pending_item = None;
        self.ticket = None;
        self.progress = None;
        self.rating = None;
        self.maintenance = None;
        self.page = Page::Home;
        self.history.clear();
        self.guide = GuideState::default();
        self.identify_status = IdentifyStatus::Waiting;
        self.card_removed_prompt = false;
        self.locale = self.settings.default_locale;
        self.elder = false;
        self.apply_idle_limits();
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

fn device_name(d: DeviceKind) -> &'static str {
    match d {
        DeviceKind::IdCardReader => "reader",
        DeviceKind::Printer => "printer",
        DeviceKind::Scanner => "scanner",
        DeviceKind::Camera => "camera",
    }
}

fn paper_state(s: PrinterStatus) -> PaperState {
    if s.paper_end {
        PaperState::Out
    } else if s.paper_near_end {
        PaperState::NearEnd
    } else {
        PaperState::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hallkiosk_drivers::scanner::ScanPayload;
    use hallkiosk_drivers::sim::fixtures::CardFixture;

    const TODAY: &str = "2026-11-22";
    const S: Duration = Duration::from_secs(1);

    fn kiosk() -> Kiosk {
        let settings = FlowSettings {
            idle: 60 * S,
            countdown: 20 * S,
            elder_factor: 2.0,
            default_locale: Locale::ZhCn,
        };
        Kiosk::new(settings, Catalog::bundled().unwrap())
    }

    fn place(k: &mut Kiosk, f: CardFixture) {
        k.device_event(DeviceEvent::CardPresented(Box::new(f.card())), TODAY);
    }

    #[test]
    fn apply_asks_for_identity_then_greets_masked_and_continues() {
        let mut k = kiosk();
        k.intent(Intent::Open(Entry::Apply));
        assert_eq!(k.page(), Page::Identify);
        assert_eq!(k.identify_status(), IdentifyStatus::Waiting);
        place(&mut k, CardFixture::Resident);
        assert_eq!(k.identify_status(), IdentifyStatus::Greeting);
        assert_eq!(k.greeting_name(), "张*三");
        k.intent(Intent::IdentifyContinue);
        assert_eq!(k.page(), Page::Apply);
    }

    #[test]
    fn a_card_on_the_home_page_identifies() {
        let mut k = kiosk();
        place(&mut k, CardFixture::HkMoTw);
        assert_eq!(k.page(), Page::Identify);
        assert_eq!(k.greeting_name(), "陈*文");
    }

    #[test]
    fn an_expired_card_is_refused_in_plain_words() {
        let mut k = kiosk();
        k.intent(Intent::Open(Entry::Progress));
        place(&mut k, CardFixture::ResidentExpired);
        assert_eq!(k.identify_status(), IdentifyStatus::Expired);
        assert!(k.session().is_none());
        k.intent(Intent::IdentifyContinue);
        assert_eq!(
            k.page(),
            Page::Identify,
            "no way past identify without a valid card"
        );
    }

    #[test]
    fn reader_faults_and_bad_reads_are_shown() {
        let mut k = kiosk();
        k.device_event(
            DeviceEvent::DeviceFault {
                device: DeviceKind::IdCardReader,
                reason: "unplugged".into(),
            },
            TODAY,
        );
        k.intent(Intent::Open(Entry::Apply));
        assert_eq!(k.identify_status(), IdentifyStatus::ReaderFault);
        k.device_event(
            DeviceEvent::DeviceRecovered {
                device: DeviceKind::IdCardReader,
            },
            TODAY,
        );
        assert_eq!(k.identify_status(), IdentifyStatus::Waiting);
        k.device_event(
            DeviceEvent::CardRejected(hallkiosk_drivers::event::CardRejection::ReadFailed),
            TODAY,
        );
        assert_eq!(k.identify_status(), IdentifyStatus::Rejected);
    }

    #[test]
    fn scanned_codes_are_routed() {
        let mut k = kiosk();
        k.device_event(DeviceEvent::CodeScanned(ScanPayload::new("EID:abc")), TODAY);
        assert_eq!(
            (k.page(), k.identify_status()),
            (Page::Identify, IdentifyStatus::EidNeedsNetwork)
        );
        k.intent(Intent::Home);
        k.device_event(
            DeviceEvent::CodeScanned(ScanPayload::new(format!(
                "HKR1:{}",
                crate::outbox::tracking::code("DEV-0001", 7)
            ))),
            TODAY,
        );
        assert_eq!(k.page(), Page::Progress);
        k.device_event(
            DeviceEvent::CodeScanned(ScanPayload::new("https://example.org")),
            TODAY,
        );
        assert_eq!(k.notice(), Some(Notice::CodeNotUnderstood));
        k.intent(Intent::Activity);
        assert_eq!(
            k.notice(),
            Some(Notice::CodeNotUnderstood),
            "scrolling does not dismiss"
        );
        k.tick(7 * S);
        assert_eq!(k.notice(), None, "notices fade");
    }

    #[test]
    fn removing_the_card_mid_flow_asks_and_can_continue_or_end() {
        let mut k = kiosk();
        k.intent(Intent::Open(Entry::Apply));
        place(&mut k, CardFixture::Resident);
        k.intent(Intent::IdentifyContinue);
        k.device_event(DeviceEvent::CardRemoved, TODAY);
        assert!(k.card_removed_prompt());
        k.intent(Intent::ContinueAfterRemoval);
        assert!(!k.card_removed_prompt());
        assert_eq!(k.page(), Page::Apply);
        assert!(k.session().is_some());
        k.device_event(DeviceEvent::CardRemoved, TODAY);
        k.intent(Intent::EndSession);
        assert_eq!(k.page(), Page::Home);
        assert!(k.session().is_none());
    }

    #[test]
    fn idle_counts_down_then_wipes_everything() {
        let mut k = kiosk();
        k.intent(Intent::SetLocale(Locale::En));
        k.intent(Intent::Open(Entry::Apply));
        place(&mut k, CardFixture::Resident);
        k.intent(Intent::IdentifyContinue);
        assert!(!k.tick(59 * S));
        assert_eq!(k.idle_remaining(), None);
        assert!(!k.tick(S));
        assert_eq!(k.idle_remaining(), Some(20));
        k.intent(Intent::StillHere);
        assert_eq!(k.idle_remaining(), None, "more time given");
        assert!(!k.tick(60 * S));
        assert!(k.tick(20 * S), "countdown ran out");
        assert_eq!(k.page(), Page::Home);
        assert!(k.session().is_none());
        assert_eq!(
            k.locale(),
            Locale::ZhCn,
            "the next citizen starts in the hall's language"
        );
        assert_eq!(k.notice(), Some(Notice::SessionTimedOut));
    }

    #[test]
    fn the_home_page_does_not_count_down_when_nothing_is_held() {
        let mut k = kiosk();
        assert!(!k.tick(3600 * S));
        assert_eq!(k.idle_remaining(), None);
    }

    #[test]
    fn elder_mode_doubles_the_timeouts() {
        let mut k = kiosk();
        k.intent(Intent::SetElder(true));
        k.intent(Intent::Open(Entry::Guide));
        assert!(!k.tick(119 * S));
        assert_eq!(k.idle_remaining(), None);
        assert!(!k.tick(S));
        assert_eq!(k.idle_remaining(), Some(40));
        assert!(k.tick(40 * S));
        assert!(!k.elder(), "the wipe resets elder mode");
    }

    #[test]
    fn guide_walks_category_theme_item_and_back() {
        let mut k = kiosk();
        k.intent(Intent::Open(Entry::Guide));
        k.intent(Intent::ChooseCategory(Category::LegalPerson));
        k.intent(Intent::ChooseTheme("business_startup".into()));
        let items = k.guide_items();
        assert!(items.len() >= 3);
        assert!(items.iter().all(|i| i.category == Category::LegalPerson));
        let id = items[0].id.clone();
        k.intent(Intent::ChooseItem(id.clone()));
        assert_eq!(k.guide_item().map(|i| i.id.as_str()), Some(id.as_str()));
        k.intent(Intent::Back);
        assert!(k.guide_item().is_none());
        k.intent(Intent::Back);
        assert!(k.guide().theme.is_none());
        assert_eq!(k.page(), Page::Guide);
        k.intent(Intent::Back);
        assert_eq!(k.page(), Page::Home);
    }

    #[test]
    fn guide_search_by_initials() {
        let mut k = kiosk();
        k.intent(Intent::Open(Entry::Guide));
        k.intent(Intent::Search("sbk".into()));
        assert!(k
            .guide_items()
            .iter()
            .any(|i| i.name.zh.contains("社会保障卡")));
        k.intent(Intent::Back);
        assert!(k.guide().query.is_empty());
    }

    #[test]
    fn unknown_theme_or_item_ids_change_nothing() {
        let mut k = kiosk();
        k.intent(Intent::Open(Entry::Guide));
        k.intent(Intent::ChooseTheme("nope".into()));
        k.intent(Intent::ChooseItem("nope".into()));
        assert_eq!(k.guide(), &GuideState::default());
    }

    #[test]
    fn paper_states_follow_the_printer() {
        let mut k = kiosk();
        let near = PrinterStatus {
            paper_near_end: true,
            ..Default::default()
        };
        k.device_event(DeviceEvent::PrinterStatus(near), TODAY);
        assert_eq!(k.paper(), PaperState::NearEnd);
        let out = PrinterStatus {
            paper_near_end: true,
            paper_end: true,
            ..Default::default()
        };
        k.device_event(DeviceEvent::PrinterStatus(out), TODAY);
        assert_eq!(k.paper(), PaperState::Out);
    }

    #[test]
    fn a_second_card_replaces_the_first_person() {
        let mut k = kiosk();
        place(&mut k, CardFixture::Resident);
        place(&mut k, CardFixture::ResidentLongTerm);
        assert_eq!(k.greeting_name(), "李*");
    }

    #[test]
    fn a_whole_application_through_the_kiosk_flow() {
        use crate::flows::apply::{Photo, Saved};
        let mut k = kiosk();
        k.intent(Intent::Open(Entry::Apply));
        place(&mut k, CardFixture::Resident);
        k.intent(Intent::IdentifyContinue);
        assert_eq!(k.page(), Page::Apply);
        assert!(k.apply_themes().iter().any(|t| t.code == "marriage"));
        k.intent(Intent::ApplyTheme("marriage".into()));
        assert!(k.apply_items().iter().all(|i| i.kiosk_complete));
        k.intent(Intent::ApplyFor("P-MARRIA-003".into()));
        assert_eq!(k.application().unwrap().step, ApplyStep::Form);
        for c in "13812345678".chars() {
            k.intent(Intent::Key(c));
        }
        k.intent(Intent::Next);
        k.intent(Intent::Capture);
        let effects = k.take_effects();
        assert!(matches!(effects[..], [Effect::Capture { material: 0 }]));
        k.done(Done::Captured {
            material: 0,
            result: Ok(Photo {
                jpeg: vec![1, 2, 3],
                width: 1,
                height: 1,
            }),
        });
        k.intent(Intent::Next);
        k.intent(Intent::SetConsent(true));
        k.intent(Intent::Submit);
        assert!(matches!(k.take_effects()[..], [Effect::Save(_)]));
        k.done(Done::Saved(Ok(Saved {
            tracking_code: crate::outbox::tracking::code("T-1", 1),
            idempotency_key: "k".into(),
            saved_at_ms: 0,
            platform_reachable: true,
        })));
        assert!(matches!(k.take_effects()[..], [Effect::Print(_)]));
        assert_eq!(k.application().unwrap().step, ApplyStep::Submitted);
        k.intent(Intent::Home);
        assert!(k.application().is_none() && k.session().is_none());
    }

    #[test]
    fn a_guide_item_leads_to_identify_then_straight_to_its_form() {
        let mut k = kiosk();
        k.intent(Intent::Open(Entry::Guide));
        k.intent(Intent::ApplyFor("P-MARRIA-003".into()));
        assert_eq!(k.page(), Page::Identify);
        place(&mut k, CardFixture::Resident);
        k.intent(Intent::IdentifyContinue);
        assert_eq!(k.page(), Page::Apply);
        assert_eq!(k.application().unwrap().step, ApplyStep::Form);
        // An item that cannot be done at the kiosk is not started.
        k.intent(Intent::Home);
        let window_only = k
            .catalog()
            .items
            .iter()
            .find(|i| !i.kiosk_complete)
            .unwrap()
            .id
            .clone();
        k.intent(Intent::ApplyFor(window_only));
        assert_eq!(k.page(), Page::Home);
    }

    #[test]
    fn a_new_card_mid_application_drops_the_old_persons_form() {
        let mut k = kiosk();
        k.intent(Intent::Open(Entry::Apply));
        place(&mut k, CardFixture::Resident);
        k.intent(Intent::IdentifyContinue);
        k.intent(Intent::ApplyFor("P-MARRIA-003".into()));
        place(&mut k, CardFixture::ResidentLongTerm);
        assert!(k.application().is_none());
        assert_ne!(k.page(), Page::Apply);
    }

    #[test]
    fn a_ticket_needs_the_card_then_one_tap() {
        use crate::flows::hall::{Ticket, TicketStep};
        let mut k = kiosk();
        k.intent(Intent::Open(Entry::Ticket));
        assert_eq!(k.page(), Page::Identify);
        place(&mut k, CardFixture::Resident);
        k.intent(Intent::IdentifyContinue);
        assert_eq!(k.page(), Page::Ticket);
        k.intent(Intent::ChooseQueue("Z".into()));
        assert!(k.take_effects().is_empty(), "no such category");
        k.intent(Intent::ChooseQueue("B".into()));
        let effects = k.take_effects();
        let [Effect::IssueTicket { category, .. }] = &effects[..] else {
            panic!("{effects:?}")
        };
        let ticket = Ticket {
            number: "DEV-0001-B001".into(),
            category: category.clone(),
            ahead: None,
            issued_at_ms: 0,
            local: true,
            locale: Locale::ZhCn,
        };
        k.done(Done::TicketIssued(Ok(ticket)));
        assert!(matches!(k.take_effects()[..], [Effect::PrintTicket(_)]));
        k.done(Done::TicketPrinted(Ok(())));
        assert!(matches!(
            k.ticket().unwrap().step,
            TicketStep::Issued {
                print: Some(Ok(())),
                ..
            }
        ));
    }

    #[test]
    fn progress_by_receipt_scan_or_by_card_on_the_progress_page() {
        use crate::flows::hall::{ProgressLookup, ProgressStep};
        let mut k = kiosk().with_kiosk_id("DEV-0001");
        let code = crate::outbox::tracking::code("DEV-0001", 3);
        k.device_event(
            DeviceEvent::CodeScanned(ScanPayload::new(format!("HKR1:{code}:0011aabb"))),
            TODAY,
        );
        assert_eq!(k.page(), Page::Progress);
        let e = k.take_effects();
        assert!(
            matches!(&e[..], [Effect::LookupProgress(ProgressLookup::Code(c))] if *c == code),
            "{e:?}"
        );
        k.done(Done::ProgressFound(Ok(Default::default())));
        assert_eq!(k.progress(), Some(&ProgressStep::Found(Default::default())));
        k.intent(Intent::Home);
        k.intent(Intent::Open(Entry::Progress));
        assert_eq!(k.page(), Page::Progress, "no identify page in between");
        assert_eq!(k.progress(), Some(&ProgressStep::Waiting));
        place(&mut k, CardFixture::Resident);
        assert_eq!(k.page(), Page::Progress);
        let e = k.take_effects();
        assert!(matches!(
            &e[..],
            [Effect::LookupProgress(ProgressLookup::Person(_))]
        ));
        assert!(!format!("{e:?}").contains(&CardFixture::Resident.card().id_number));
    }

    #[test]
    fn a_rating_after_an_application_names_the_service() {
        use crate::flows::hall::RatingStep;
        let mut k = kiosk();
        k.intent(Intent::Open(Entry::Rate));
        k.intent(Intent::RateLevel(3));
        assert_eq!(k.rating().unwrap().step, RatingStep::Reason { level: 2 });
        k.intent(Intent::RateReason(2));
        let e = k.take_effects();
        let [Effect::SaveRating(r)] = &e[..] else {
            panic!()
        };
        assert_eq!((r.level, r.reason.as_deref()), (2, Some("device_fault")));
        assert_eq!(r.service_item, None);
        k.done(Done::RatingSaved(Ok(())));
        assert_eq!(k.rating().unwrap().step, RatingStep::Thanks);
    }

    #[test]
    fn maintenance_opens_with_the_pin_or_an_admin_card_only() {
        let hall = HallSetup {
            admin_pin: Some(Sha256Hex::of("135790")),
            admin_cards: vec![Sha256Hex::of(
                &CardFixture::ResidentLongTerm.card().id_number,
            )],
            ..HallSetup::default()
        };
        let mut k = kiosk().with_hall(hall);
        k.intent(Intent::OpenMaintenance);
        assert_eq!(k.page(), Page::Maintenance);
        for c in crate::shared::config::DEV_ADMIN_PIN.chars() {
            k.intent(Intent::Key(c));
        }
        k.intent(Intent::EnterPin);
        assert!(
            !k.maintenance().unwrap().unlocked,
            "the dev PIN is not this kiosk's"
        );
        for c in "135790".chars() {
            k.intent(Intent::Key(c));
        }
        k.intent(Intent::EnterPin);
        assert!(k.maintenance().unwrap().unlocked);
        assert!(matches!(k.take_effects()[..], [Effect::MaintenanceStats]));
        k.device_event(
            DeviceEvent::DeviceFault {
                device: DeviceKind::Camera,
                reason: "unplugged".into(),
            },
            TODAY,
        );
        assert_eq!(
            k.faults().get("camera").map(String::as_str),
            Some("unplugged")
        );
        k.intent(Intent::PrintStatus);
        let e = k.take_effects();
        let [Effect::PrintStatusPage(lines)] = &e[..] else {
            panic!()
        };
        assert!(lines.iter().any(|l| l == "camera: unplugged"));
        k.intent(Intent::Home);
        assert!(k.maintenance().is_none(), "home locks it again");
        // A technician's card opens it directly and identifies nobody.
        place(&mut k, CardFixture::ResidentLongTerm);
        assert_eq!(k.page(), Page::Maintenance);
        assert!(k.maintenance().unwrap().unlocked);
        assert!(k.session().is_none());
    }
}
