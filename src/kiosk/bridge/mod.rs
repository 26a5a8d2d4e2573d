//! The bridge between the flows and the Slint window: callbacks become [`Intent`]s, device events
//! go to the flow, and after each input the flow's state is copied to the window's globals —
//! [`Shell`] for the window as a whole, one `<Name>State` per page (ui/shell.slint explains the
//! naming). Nothing here decides anything; the rules live in [`crate::flows`], and the words a
//! citizen reads live in the Slint files (`@tr`), which this file feeds with data.

use crate::flows::apply::form::{FieldKey, FieldProblem, Keyboard};
use crate::flows::apply::{ApplyIntent, ApplyStep, PrintState, CONSENT_TEXT, CONSENT_VERSION};
use crate::flows::effect::{CaptureProblem, Done, PrintProblem};
use crate::flows::guide::GuideIntent;
use crate::flows::identify::IdentifyStatus as FlowIdentify;
use crate::flows::kiosk::{
    Entry as FlowEntry, Intent, Kiosk, Notice, Page as FlowPage, PaperState as FlowPaper, Visit,
};
use crate::flows::maintenance::MaintenanceIntent;
use crate::flows::rating::RateIntent;
use crate::flows::ticket::TicketIntent;
use crate::kiosk::effects::EffectRunner;
use crate::shared::catalog::{Category, ServiceItem};
use crate::shared::config::Locale;
use crate::voice::announcer::Announcer;
use hallkiosk_drivers::event::DeviceKind as Device;
use hallkiosk_drivers::sim::fixtures::CardFixture;
use hallkiosk_drivers::sim::DockCommand;
use hallkiosk_drivers::DeviceEvent;
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

slint::include_modules!();

/// How often the idle timer advances. One second is the countdown's resolution.
pub const TICK: Duration = Duration::from_secs(1);

/// How often answers and device events are taken from their channels on the UI thread.
const PUMP: Duration = Duration::from_millis(50);

/// The kiosk window with its flow.
pub struct KioskUi {
    app: AppWindow,
    state: Rc<RefCell<BridgeState>>,
}

struct BridgeState {
    kiosk: Kiosk,
    /// The dev dock's simulated devices.
    dock: Option<Box<dyn Fn(DockCommand)>>,
    /// What the guide models were built from, so they are rebuilt only when it changes.
    guide_key: Option<GuideKey>,
    applied_locale: Option<Locale>,
    /// The hall's name in Chinese and English.
    hall_names: (String, String),
    today: Box<dyn Fn() -> String>,
    _tick: Option<slint::Timer>,
    effects: Option<EffectRunner>,
    /// Which photo the window shows (material index and size), so it is decoded once.
    photo_key: Option<(usize, usize)>,
    /// The material the camera preview runs for (what the effect runner was last told).
    previewing: Option<usize>,
    _done_pump: Option<slint::Timer>,
    /// Device events received so far (tests wait on it after a dock button).
    device_events: u64,
    /// Spoken prompts (src/voice/): told after every refresh; None in tests without sound.
    voice: Option<Announcer>,
}

#[derive(Clone, PartialEq)]
struct GuideKey {
    locale: Locale,
    category: Category,
    theme: Option<String>,
    item: Option<String>,
    query: String,
}

/// What the window needs besides the flow.
pub(crate) struct UiOptions {
    pub hall_name: String,
    pub hall_name_en: String,
    pub kiosk_id: String,
    /// The dev dock: shown when present; its buttons go to the simulated devices.
    pub dock: Option<Box<dyn Fn(DockCommand)>>,
    /// Today's date `YYYY-MM-DD`, for card expiry.
    pub today: Box<dyn Fn() -> String>,
    /// Runs photos, saving and printing for the flows; without it those requests are dropped
    /// (windows in tests that do not apply).
    pub effects: Option<(EffectRunner, std::sync::mpsc::Receiver<(Visit, Done)>)>,
    /// Spoken prompts; without it the kiosk is silent and shows no 重听 button.
    pub voice: Option<Announcer>,
}

impl KioskUi {
    /// Creates the window (not yet shown) and wires it to `kiosk`. Starts the idle timer.
    pub(crate) fn new(kiosk: Kiosk, options: UiOptions) -> Result<KioskUi, slint::PlatformError> {
        let app = AppWindow::new()?;
        let shell = app.global::<Shell>();
        shell.set_kiosk_id(options.kiosk_id.into());
        shell.set_dock_visible(options.dock.is_some());
        let (runner, done_rx) = match options.effects {
            Some((r, d)) => (Some(r), Some(d)),
            None => (None, None),
        };
        let state = Rc::new(RefCell::new(BridgeState {
            kiosk,
            dock: options.dock,
            guide_key: None,
            applied_locale: None,
            hall_names: (options.hall_name, options.hall_name_en),
            today: options.today,
            _tick: None,
            effects: runner,
            photo_key: None,
            previewing: None,
            _done_pump: None,
            device_events: 0,
            voice: options.voice,
        }));
        let ui = KioskUi { app, state };
        ui.wire();
        ui.refresh();
        let tick = ui.every(TICK, |ui| ui.tick(TICK));
        ui.state.borrow_mut()._tick = Some(tick);
        if let Some(done_rx) = done_rx {
            let pump = ui.every(PUMP, move |ui| {
                while let Ok((visit, done)) = done_rx.try_recv() {
                    ui.done(visit, done);
                }
                ui.show_preview_frame();
            });
            ui.state.borrow_mut()._done_pump = Some(pump);
        }
        Ok(ui)
    }

    pub fn window(&self) -> &AppWindow {
        &self.app
    }

    /// Reads the flow (for tests and diagnostics).
    pub fn with_kiosk<R>(&self, f: impl FnOnce(&Kiosk) -> R) -> R {
        f(&self.state.borrow().kiosk)
    }

    /// A citizen's action.
    pub fn intent(&self, intent: Intent) {
        self.state.borrow_mut().kiosk.intent(intent);
        self.run_effects();
        self.refresh();
    }

    /// The result of a photo, a save or a print, for the visit that asked.
    pub fn done(&self, visit: Visit, done: Done) {
        self.state.borrow_mut().kiosk.done_for(visit, done);
        self.run_effects();
        self.refresh();
    }

    /// The newest camera preview frame, if the preview is on and there is a new one.
    fn show_preview_frame(&self) {
        let s = self.state.borrow();
        if s.previewing.is_none() {
            return;
        }
        if let Some(frame) = s.effects.as_ref().and_then(EffectRunner::take_preview) {
            let buffer = slint::SharedPixelBuffer::<slint::Rgb8Pixel>::clone_from_slice(
                frame.as_raw(),
                frame.width(),
                frame.height(),
            );
            let apply = self.app.global::<ApplyState>();
            apply.set_preview(slint::Image::from_rgb8(buffer));
            apply.set_has_preview(true);
        }
    }

    fn run_effects(&self) {
        let mut s = self.state.borrow_mut();
        // The camera preview follows the flow: on for a material step without a photo.
        let wanted = s.kiosk.camera_preview();
        if wanted != s.previewing {
            s.previewing = wanted;
            if let Some(runner) = &s.effects {
                runner.preview(wanted);
            }
            self.app.global::<ApplyState>().set_has_preview(false);
        }
        let effects = s.kiosk.take_effects();
        let visit = s.kiosk.visit();
        match &s.effects {
            Some(runner) => {
                for e in effects {
                    runner.run(visit, e);
                }
            }
            None => {
                if !effects.is_empty() {
                    tracing::warn!("no effect runner: {} requests dropped", effects.len());
                }
            }
        }
    }

    /// An event from a device service.
    pub fn device_event(&self, event: DeviceEvent) {
        tracing::info!(event = event_name(&event), "device event");
        {
            let mut s = self.state.borrow_mut();
            s.device_events += 1;
            let today = (s.today)();
            s.kiosk.device_event(event, &today);
        }
        self.run_effects();
        self.refresh();
    }

    /// How many device events reached the flow so far.
    pub fn device_events(&self) -> u64 {
        self.state.borrow().device_events
    }

    /// Time passed (the idle timer).
    pub fn tick(&self, elapsed: Duration) {
        let wiped = self.state.borrow_mut().kiosk.tick(elapsed);
        if wiped {
            tracing::info!("session wiped after idle timeout");
        }
        self.run_effects();
        self.refresh();
    }

    /// Feeds events from a device service into the flow. The channel is drained every 50 ms on
    /// the UI thread; keep the returned timer alive for as long as events should flow.
    pub fn pump_device_events(
        &self,
        mut events: tokio::sync::mpsc::UnboundedReceiver<DeviceEvent>,
    ) -> slint::Timer {
        self.every(PUMP, move |ui| {
            while let Ok(event) = events.try_recv() {
                ui.device_event(event);
            }
        })
    }

    /// Runs `f` on the UI thread every `period` while the window lives; keep the timer.
    fn every(&self, period: Duration, mut f: impl FnMut(&KioskUi) + 'static) -> slint::Timer {
        let timer = slint::Timer::default();
        let weak = self.downgrade();
        timer.start(slint::TimerMode::Repeated, period, move || {
            if let Some(ui) = weak.upgrade() {
                f(&ui);
            }
        });
        timer
    }

    /// A dev dock button: it changes the simulated devices, whose services then tell the flow.
    pub fn dock(&self, command: DockCommand) {
        if let Some(dock) = &self.state.borrow().dock {
            dock(command);
        }
    }

    fn downgrade(&self) -> WeakKioskUi {
        WeakKioskUi {
            app: self.app.as_weak(),
            state: Rc::downgrade(&self.state),
        }
    }

    fn wire(&self) {
        let weak = self.downgrade();
        // A callback without arguments that sends one fixed intent.
        let send = |intent: Intent| {
            let w = weak.clone();
            move || w.send(intent.clone())
        };
        // A callback with a key (the first character of the string).
        let send_char = |intent: fn(char) -> Intent| {
            let w = weak.clone();
            move |k: SharedString| {
                if let Some(c) = k.chars().next() {
                    w.send(intent(c))
                }
            }
        };

        let shell = self.app.global::<Shell>();
        shell.on_go_home(send(Intent::Home));
        shell.on_go_back(send(Intent::Back));
        shell.on_still_here(send(Intent::StillHere));
        shell.on_continue_after_removal(send(Intent::ContinueAfterRemoval));
        shell.on_end_session(send(Intent::EndSession));
        shell.on_activity(send(Intent::Activity));
        shell.on_open_maintenance(send(Intent::OpenMaintenance));
        let w = weak.clone();
        shell.on_set_english(move |en| {
            w.send(Intent::SetLocale(if en {
                Locale::En
            } else {
                Locale::ZhCn
            }))
        });
        let w = weak.clone();
        shell.on_set_elder(move |on| w.send(Intent::SetElder(on)));
        let w = weak.clone();
        shell.on_repeat_prompt(move || {
            w.send(Intent::Activity);
            if let Some(ui) = w.upgrade() {
                let mut s = ui.state.borrow_mut();
                let s = &mut *s;
                if let Some(voice) = s.voice.as_mut() {
                    voice.repeat(&s.kiosk);
                }
            }
        });
        let w = weak.clone();
        shell.on_dock(move |action| {
            if let Some(ui) = w.upgrade() {
                let kiosk = ui.app.global::<Shell>().get_kiosk_id().to_string();
                ui.dock(dock_command(action, &kiosk));
            }
        });

        let w = weak.clone();
        self.app
            .global::<HomeState>()
            .on_open(move |e| w.send(Intent::Open(entry_from(e))));

        self.app
            .global::<IdentifyState>()
            .on_continue_on(send(Intent::IdentifyContinue));
        self.app
            .global::<IdentifyState>()
            .on_ticket_without_card_tapped(send(Intent::TicketWithoutCard));

        let guide = self.app.global::<GuideState>();
        let w = weak.clone();
        guide.on_choose_category(move |c| {
            w.send(Intent::Guide(GuideIntent::ChooseCategory(match c {
                GuideCategory::Personal => Category::Personal,
                GuideCategory::LegalPerson => Category::LegalPerson,
            })))
        });
        let w = weak.clone();
        guide.on_choose_theme(move |code| {
            w.send(Intent::Guide(GuideIntent::ChooseTheme(code.into())))
        });
        let w = weak.clone();
        guide.on_choose_item(move |id| w.send(Intent::Guide(GuideIntent::ChooseItem(id.into()))));
        let w = weak.clone();
        guide.on_search(move |q| w.send(Intent::Guide(GuideIntent::Search(q.into()))));
        guide.on_backspace(send(Intent::Guide(GuideIntent::SearchBackspace)));
        let w = weak.clone();
        guide.on_apply_here(move |id| w.send(Intent::ApplyFor(id.into())));

        let apply = self.app.global::<ApplyState>();
        let w = weak.clone();
        apply.on_choose_theme(move |t| w.send(Intent::Apply(ApplyIntent::ChooseTheme(t.into()))));
        let w = weak.clone();
        apply.on_choose_item(move |id| w.send(Intent::ApplyFor(id.into())));
        let w = weak.clone();
        apply.on_focus_field(move |i| {
            w.send(Intent::Apply(ApplyIntent::FocusField(i.max(0) as usize)))
        });
        apply.on_key(send_char(|c| Intent::Apply(ApplyIntent::Key(c))));
        let w = weak.clone();
        apply.on_pick(move |c| w.send(Intent::Apply(ApplyIntent::Pick(c.to_string()))));
        apply.on_next_candidates(send(Intent::Apply(ApplyIntent::NextCandidates)));
        apply.on_previous_candidates(send(Intent::Apply(ApplyIntent::PreviousCandidates)));
        apply.on_backspace(send(Intent::Apply(ApplyIntent::Backspace)));
        apply.on_clear_field(send(Intent::Apply(ApplyIntent::ClearField)));
        apply.on_done_typing(send(Intent::Apply(ApplyIntent::DoneTyping)));
        apply.on_next(send(Intent::Apply(ApplyIntent::Next)));
        apply.on_capture(send(Intent::Apply(ApplyIntent::Capture)));
        apply.on_retake(send(Intent::Apply(ApplyIntent::Retake)));
        apply.on_defer_material(send(Intent::Apply(ApplyIntent::DeferMaterial)));
        let w = weak.clone();
        apply.on_set_consent(move |on| w.send(Intent::Apply(ApplyIntent::SetConsent(on))));
        apply.on_submit(send(Intent::Apply(ApplyIntent::Submit)));
        apply.on_reprint(send(Intent::Apply(ApplyIntent::Reprint)));

        let w = weak.clone();
        self.app
            .global::<TicketState>()
            .on_choose(move |c| w.send(Intent::Ticket(TicketIntent::ChooseQueue(c.into()))));
        self.app
            .global::<TicketState>()
            .on_reprint(send(Intent::Ticket(TicketIntent::Reprint)));

        let rate = self.app.global::<RateState>();
        let w = weak.clone();
        rate.on_level(move |i| w.send(Intent::Rate(RateIntent::Level(i.max(0) as usize))));
        let w = weak.clone();
        rate.on_reason(move |i| w.send(Intent::Rate(RateIntent::Reason(i.max(0) as usize))));

        let maintenance = self.app.global::<MaintenanceState>();
        maintenance.on_key(send_char(|c| {
            Intent::Maintenance(MaintenanceIntent::Key(c))
        }));
        maintenance.on_backspace(send(Intent::Maintenance(MaintenanceIntent::Backspace)));
        maintenance.on_clear(send(Intent::Maintenance(MaintenanceIntent::Clear)));
        maintenance.on_enter(send(Intent::Maintenance(MaintenanceIntent::EnterPin)));
        maintenance.on_refresh(send(Intent::Maintenance(MaintenanceIntent::RefreshStats)));
        maintenance.on_print_status(send(Intent::Maintenance(MaintenanceIntent::PrintStatus)));
    }

    /// Copies the flow's state to the window.
    fn refresh(&self) {
        let mut s = self.state.borrow_mut();
        let app = &self.app;
        let shell = app.global::<Shell>();
        let k = &s.kiosk;
        let locale = k.locale();
        shell.set_page(page_of(k.page()));
        shell.set_english(locale == Locale::En);
        app.global::<Theme>().set_elder(k.elder());
        shell.set_paper(match k.paper() {
            FlowPaper::Ok => PaperState::Ok,
            FlowPaper::NearEnd => PaperState::NearEnd,
            FlowPaper::Out => PaperState::Out,
        });
        shell.set_notice(match k.notice() {
            None => NoticeKind::None,
            Some(Notice::SessionTimedOut) => NoticeKind::SessionTimedOut,
            Some(Notice::CodeNotUnderstood) => NoticeKind::CodeNotUnderstood,
            Some(Notice::Identified) => NoticeKind::Identified,
        });
        shell.set_idle_seconds_left(
            k.idle_remaining()
                .map_or(-1, |s| s.min(i32::MAX as u64) as i32),
        );
        shell.set_card_removed_question(k.card_removed_prompt());
        shell.set_owner(k.owner().unwrap_or_default().into());
        let identify = app.global::<IdentifyState>();
        identify.set_status(match k.identify_status() {
            FlowIdentify::Waiting => IdentifyStatus::Waiting,
            FlowIdentify::Greeting => IdentifyStatus::Greeting,
            FlowIdentify::Expired => IdentifyStatus::Expired,
            FlowIdentify::Rejected => IdentifyStatus::Rejected,
            FlowIdentify::ReaderFault => IdentifyStatus::ReaderFault,
            FlowIdentify::EidUnsupported => IdentifyStatus::EidUnsupported,
        });
        identify.set_greeting_name(k.greeting_name().into());
        identify.set_ticket_without_card(k.offers_ticket_without_card());

        let key = GuideKey {
            locale,
            category: k.guide().category,
            theme: k.guide().theme.clone(),
            item: k.guide().item.clone(),
            query: k.guide().query.clone(),
        };
        if s.guide_key.as_ref() != Some(&key) {
            self.refresh_guide(&s.kiosk, locale);
            s.guide_key = Some(key);
        }
        self.refresh_apply(&mut s, locale);
        self.refresh_hall(&s.kiosk, locale);
        if s.applied_locale != Some(locale) {
            let language = match locale {
                Locale::ZhCn => "",
                Locale::En => "en",
            };
            if let Err(e) = slint::select_bundled_translation(language) {
                tracing::warn!("cannot select language {language:?}: {e}");
            }
            let (zh, en) = &s.hall_names;
            shell.set_hall_name(if locale == Locale::En { en } else { zh }.as_str().into());
            s.applied_locale = Some(locale);
        }
        let s = &mut *s;
        if let Some(voice) = s.voice.as_mut() {
            voice.update(&s.kiosk);
            shell.set_voice_on(voice.active(&s.kiosk));
        }
    }
}

mod pages;

#[derive(Clone)]
struct WeakKioskUi {
    app: slint::Weak<AppWindow>,
    state: std::rc::Weak<RefCell<BridgeState>>,
}

impl WeakKioskUi {
    fn upgrade(&self) -> Option<KioskUi> {
        Some(KioskUi {
            app: self.app.upgrade()?,
            state: self.state.upgrade()?,
        })
    }

    fn send(&self, intent: Intent) {
        if let Some(ui) = self.upgrade() {
            ui.intent(intent);
        }
    }
}

fn page_of(page: FlowPage) -> Page {
    match page {
        FlowPage::Home => Page::Home,
        FlowPage::Identify => Page::Identify,
        FlowPage::Guide => Page::Guide,
        FlowPage::Apply => Page::Apply,
        FlowPage::Progress => Page::Progress,
        FlowPage::Ticket => Page::Ticket,
        FlowPage::Rate => Page::Rate,
        FlowPage::Maintenance => Page::Maintenance,
    }
}

fn entry_from(e: Entry) -> FlowEntry {
    match e {
        Entry::Apply => FlowEntry::Apply,
        Entry::Progress => FlowEntry::Progress,
        Entry::Ticket => FlowEntry::Ticket,
        Entry::Rate => FlowEntry::Rate,
        Entry::Guide => FlowEntry::Guide,
    }
}

/// What a dock button does to the simulators. The receipt it scans is this kiosk's first one, so
/// the dev kiosk finds it after its first application.
fn dock_command(a: DockAction, kiosk: &str) -> DockCommand {
    match a {
        DockAction::PlaceResident => DockCommand::PlaceCard(CardFixture::Resident),
        DockAction::PlaceLongTerm => DockCommand::PlaceCard(CardFixture::ResidentLongTerm),
        DockAction::PlaceExpired => DockCommand::PlaceCard(CardFixture::ResidentExpired),
        DockAction::PlaceHkMoTw => DockCommand::PlaceCard(CardFixture::HkMoTw),
        DockAction::PlaceForeign => DockCommand::PlaceCard(CardFixture::Foreign2023),
        DockAction::RemoveCard => DockCommand::RemoveCard,
        DockAction::ScanEid => DockCommand::ScanCode("EID:SIM-7f3a9c2e".into()),
        DockAction::ScanReceipt => {
            DockCommand::ScanCode(format!("HKR1:{}", crate::outbox::tracking::code(kiosk, 1)))
        }
        DockAction::ScanUnknown => {
            DockCommand::ScanCode("https://example.org/not-a-kiosk-code".into())
        }
        DockAction::PaperOk => DockCommand::PaperOk,
        DockAction::PaperNearEnd => DockCommand::PaperNearEnd,
        DockAction::PaperOut => DockCommand::PaperOut,
        DockAction::ToggleCover => DockCommand::ToggleCover,
        DockAction::ToggleReaderFault => DockCommand::ToggleReaderFault,
    }
}

/// A name for an event that carries nothing personal, for logs.
fn event_name(e: &DeviceEvent) -> &'static str {
    match e {
        DeviceEvent::CardPresented(_) => "card_presented",
        DeviceEvent::CardRemoved => "card_removed",
        DeviceEvent::CardRejected(_) => "card_rejected",
        DeviceEvent::CodeScanned(_) => "code_scanned",
        DeviceEvent::PrinterStatus(_) => "printer_status",
        DeviceEvent::DeviceFault { .. } => "device_fault",
        DeviceEvent::DeviceRecovered { .. } => "device_recovered",
    }
}
