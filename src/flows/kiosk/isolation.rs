//! Session isolation, as a property: whatever citizen A did, once A's session has ended — by any
//! route — or A walked away from a screen that looks like nobody's (home, no owner in the top
//! bar), nothing citizen B (or nobody) can reach holds any of A's data: name, ID number,
//! address, a typed phone number, A's applications, tickets or ratings.
//!
//! The effects the flow asks for are answered by a small model of the outbox and the queue
//! system, late and in any order (the kiosk runs them on worker threads), so answers that A asked
//! for and that arrive after A left are part of the search.

use super::*;
use crate::flows::effect::{Photo, ProgressReport, Saved, Ticket};
use crate::outbox::{tracking, Progress};
use hallkiosk_drivers::scanner::ScanPayload;
use hallkiosk_drivers::sim::fixtures::CardFixture;
use proptest::prelude::*;
use std::collections::{BTreeMap, VecDeque};

const TODAY: &str = "2026-11-22";
const KIOSK: &str = "DEV-0001";
/// A phone number only citizen A types.
const A_PHONE: &str = "13912345678";
/// What B types instead.
const B_PHONE: &str = "13700000000";

/// One thing a citizen (or time) does.
#[derive(Debug, Clone)]
enum Act {
    Tap(Intent),
    /// Place this phase's citizen's card.
    Card,
    Lift,
    /// Scan the newest receipt this phase's citizen was given (nothing if none).
    ScanOwnReceipt,
    ScanJunk,
    /// Type this phase's phone number into the focused field.
    TypePhone,
    Tick(u64),
    /// The oldest outstanding effect is answered.
    Answer,
    /// A whole application of P-MARRIA-003 from wherever the citizen is, its answers left in
    /// flight (steps that do not apply change nothing).
    ApplyToTheEnd,
    Paper(bool),
}

/// How A's session ends.
#[derive(Debug, Clone, Copy)]
enum End {
    /// 首页 / 结束办理 on any page.
    Home,
    Finish,
    /// Nobody touches the screen until the countdown has run out.
    Idle,
    /// The card is lifted and the citizen answers 结束办理 to the question (idle when none shows).
    LiftAndFinish,
    /// B puts their card on the reader.
    NextCard,
    /// A just leaves. Counts only when the screen looks like nobody's; else the idle timeout is
    /// what ends it.
    WalkAway,
}

fn item_ids() -> Vec<String> {
    catalog()
        .items
        .iter()
        .filter(|i| i.kiosk_complete)
        .map(|i| i.id.clone())
        .collect()
}

fn catalog() -> Catalog {
    static CATALOG: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
    CATALOG.get_or_init(|| Catalog::bundled().unwrap()).clone()
}

fn intent() -> impl Strategy<Value = Intent> {
    let items = item_ids();
    let themes: Vec<String> = catalog().themes.iter().map(|t| t.code.clone()).collect();
    let entries = prop_oneof![
        Just(Entry::Apply),
        Just(Entry::Progress),
        Just(Entry::Ticket),
        Just(Entry::Rate),
        Just(Entry::Guide),
    ];
    let apply = prop_oneof![
        proptest::sample::select(themes.clone()).prop_map(ApplyIntent::ChooseTheme),
        (0usize..8).prop_map(ApplyIntent::FocusField),
        proptest::sample::select(vec!['1', '5', 'z', 'h', 'a', 'n', 'g'])
            .prop_map(ApplyIntent::Key),
        Just(ApplyIntent::Pick("张".into())),
        Just(ApplyIntent::NextCandidates),
        Just(ApplyIntent::Backspace),
        Just(ApplyIntent::ClearField),
        Just(ApplyIntent::DoneTyping),
        Just(ApplyIntent::Next),
        Just(ApplyIntent::Next),
        Just(ApplyIntent::Capture),
        Just(ApplyIntent::Retake),
        Just(ApplyIntent::DeferMaterial),
        Just(ApplyIntent::SetConsent(true)),
        Just(ApplyIntent::Submit),
        Just(ApplyIntent::Reprint),
    ];
    let guide = prop_oneof![
        Just(GuideIntent::ChooseCategory(
            crate::shared::catalog::Category::Personal
        )),
        proptest::sample::select(themes).prop_map(GuideIntent::ChooseTheme),
        proptest::sample::select(items.clone()).prop_map(GuideIntent::ChooseItem),
        Just(GuideIntent::Search("sbk".into())),
    ];
    prop_oneof![
        4 => entries.prop_map(Intent::Open),
        3 => Just(Intent::Back),
        1 => Just(Intent::SetLocale(Locale::En)),
        1 => any::<bool>().prop_map(Intent::SetElder),
        3 => Just(Intent::IdentifyContinue),
        1 => Just(Intent::TicketWithoutCard),
        1 => Just(Intent::StillHere),
        1 => Just(Intent::ContinueAfterRemoval),
        2 => proptest::sample::select(items).prop_map(Intent::ApplyFor),
        1 => Just(Intent::OpenMaintenance),
        1 => Just(Intent::Activity),
        8 => apply.prop_map(Intent::Apply),
        2 => guide.prop_map(Intent::Guide),
        2 => prop_oneof![Just("A"), Just("B"), Just("C")]
            .prop_map(|c| Intent::Ticket(TicketIntent::ChooseQueue(c.into()))),
        1 => Just(Intent::Ticket(TicketIntent::Reprint)),
        2 => (0usize..5, 0usize..6).prop_flat_map(|(l, r)| prop_oneof![
            Just(Intent::Rate(RateIntent::Level(l))),
            Just(Intent::Rate(RateIntent::Reason(r))),
        ]),
    ]
}

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        20 => intent().prop_map(Act::Tap),
        4 => Just(Act::Card),
        2 => Just(Act::Lift),
        2 => Just(Act::ScanOwnReceipt),
        1 => Just(Act::ScanJunk),
        3 => Just(Act::TypePhone),
        2 => (1u64..30).prop_map(Act::Tick),
        8 => Just(Act::Answer),
        2 => Just(Act::ApplyToTheEnd),
        1 => any::<bool>().prop_map(Act::Paper),
    ]
}

fn end() -> impl Strategy<Value = End> {
    prop_oneof![
        Just(End::Home),
        Just(End::Finish),
        Just(End::Idle),
        Just(End::LiftAndFinish),
        Just(End::NextCard),
        Just(End::WalkAway),
    ]
}

/// The kiosk and its surroundings: the effects in flight, the outbox and queue model.
struct World {
    k: Kiosk,
    /// Effects asked for and not yet answered: the visit, and the phase (0 = A, 1 = B) that asked.
    in_flight: VecDeque<(Visit, usize, Effect)>,
    phase: usize,
    /// Tracking codes saved per ID number, as the outbox's keyed reference finds them.
    by_person: BTreeMap<String, Vec<String>>,
    next_code: u64,
    next_ticket: u32,
    /// Everything each phase's citizen was given (codes, ticket numbers), by the phase that asked.
    given: [Vec<String>; 2],
    /// Effects asked for in the current phase.
    asked: Vec<Effect>,
}

impl World {
    fn new() -> Self {
        let settings = FlowSettings {
            idle: Duration::from_secs(60),
            countdown: Duration::from_secs(20),
            elder_factor: 2.0,
            default_locale: Locale::ZhCn,
        };
        let k = Kiosk::new(settings, catalog()).with_kiosk_id(KIOSK);
        World {
            k,
            in_flight: VecDeque::new(),
            phase: 0,
            by_person: BTreeMap::new(),
            next_code: 1,
            next_ticket: 1,
            given: [Vec::new(), Vec::new()],
            asked: Vec::new(),
        }
    }

    /// Collects what the flow asked for, tagged with the visit that asked.
    fn collect(&mut self) {
        let visit = self.k.visit();
        for e in self.k.take_effects() {
            self.asked.push(e.shallow_copy());
            self.in_flight.push_back((visit, self.phase, e));
        }
    }

    fn answer_one(&mut self) {
        let Some((visit, asker, effect)) = self.in_flight.pop_front() else {
            return;
        };
        let done = match effect {
            Effect::Capture { material } => Done::Captured {
                material,
                result: Ok(Photo {
                    jpeg: vec![0xff, 0xd8, 0xff, 0xd9],
                    width: 4,
                    height: 4,
                }),
            },
            Effect::Save(sub) => {
                let code = tracking::code(KIOSK, self.next_code);
                self.next_code += 1;
                let person = sub
                    .payload
                    .fields
                    .iter()
                    .find(|(k, _)| k == "id_number")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                self.by_person.entry(person).or_default().push(code.clone());
                self.given[asker].push(code.clone());
                Done::Saved(Ok(Saved {
                    tracking_code: code.clone(),
                    idempotency_key: format!("key-{code}"),
                    saved_at_ms: 1,
                    platform_reachable: true,
                }))
            }
            Effect::Print(_) => Done::Printed(Ok(())),
            Effect::IssueTicket { category, locale } => {
                let number = format!("{}{:03}", category.code.0, 100 + self.next_ticket);
                self.next_ticket += 1;
                self.given[asker].push(number.clone());
                Done::TicketIssued(Ok(Ticket {
                    number,
                    category,
                    ahead: Some(3),
                    issued_at_ms: 1,
                    local: false,
                    locale,
                }))
            }
            Effect::PrintTicket(_) => Done::TicketPrinted(Ok(())),
            Effect::LookupProgress(lookup) => {
                let codes = match &lookup {
                    ProgressLookup::Person(n) => {
                        self.by_person.get(n.as_str()).cloned().unwrap_or_default()
                    }
                    ProgressLookup::Code(c) => vec![c.clone()],
                };
                let rows = codes
                    .into_iter()
                    .map(|tracking_code| Progress {
                        tracking_code,
                        service_item: "item".into(),
                        created_at_ms: 1,
                        state: "queued".into(),
                        platform_state: None,
                        accepted_at_ms: None,
                    })
                    .collect();
                Done::ProgressFound(Ok(ProgressReport { rows, live: false }))
            }
            Effect::SaveRating(_) => Done::RatingSaved(Ok(())),
            Effect::MaintenanceStats => Done::Stats(Ok(Default::default())),
            Effect::PrintStatusPage(_) => Done::StatusPrinted(Ok(())),
        };
        self.k.done_for(visit, done);
        self.collect();
    }

    fn act(&mut self, act: &Act, card: Option<CardFixture>, phone: &str) {
        match act {
            Act::Tap(i) => self.k.intent(i.clone()),
            Act::Card => {
                if let Some(c) = card {
                    self.k
                        .device_event(DeviceEvent::CardPresented(Box::new(c.card())), TODAY)
                }
            }
            Act::Lift => self.k.device_event(DeviceEvent::CardRemoved, TODAY),
            Act::ScanOwnReceipt => {
                let code = self.given[self.phase]
                    .iter()
                    .rev()
                    .find(|g| tracking::is_valid(g))
                    .cloned();
                if let Some(code) = code {
                    self.scan(&format!("HKR1:{code}"));
                }
            }
            Act::ScanJunk => self.scan("hello"),
            Act::TypePhone => {
                for c in phone.chars() {
                    self.k.intent(Intent::Apply(ApplyIntent::Key(c)));
                }
            }
            Act::Tick(s) => {
                self.k.tick(Duration::from_secs(*s));
            }
            Act::Answer => self.answer_one(),
            Act::ApplyToTheEnd => {
                let apply = |a| Intent::Apply(a);
                self.k.intent(Intent::ApplyFor("P-MARRIA-003".into()));
                self.k.intent(Intent::IdentifyContinue);
                for c in phone.chars() {
                    self.k.intent(apply(ApplyIntent::Key(c)));
                }
                self.k.intent(apply(ApplyIntent::Next));
                self.k.intent(apply(ApplyIntent::Capture));
                self.collect();
                if matches!(self.in_flight.back(), Some((_, _, Effect::Capture { .. }))) {
                    let last = self.in_flight.pop_back().unwrap();
                    self.in_flight.push_front(last);
                    self.answer_one();
                }
                self.k.intent(apply(ApplyIntent::Next));
                self.k.intent(apply(ApplyIntent::SetConsent(true)));
                self.k.intent(apply(ApplyIntent::Submit));
            }
            Act::Paper(out) => self.k.device_event(
                DeviceEvent::PrinterStatus(PrinterStatus {
                    paper_end: *out,
                    ..Default::default()
                }),
                TODAY,
            ),
        }
        self.collect();
    }

    fn scan(&mut self, text: &str) {
        self.k
            .device_event(DeviceEvent::CodeScanned(ScanPayload::new(text)), TODAY);
    }

    /// Ticks one second at a time until the idle timeout wipes (or nothing is left to wipe).
    fn idle_out(&mut self) {
        for _ in 0..400 {
            if self.k.tick(Duration::from_secs(1)) {
                break;
            }
        }
        self.collect();
    }

    /// Whether the screen looks like nobody's: home, no owner shown, no question over it.
    fn looks_fresh(&self) -> bool {
        self.k.page() == Page::Home
            && self.k.owner().is_none()
            && !self.k.card_removed_prompt()
            && self.k.idle_remaining().is_none()
    }

    fn end(&mut self, end: End, next: Option<CardFixture>) {
        match end {
            End::Home => self.k.intent(Intent::Home),
            End::Finish => self.k.intent(Intent::EndSession),
            End::Idle => self.idle_out(),
            End::LiftAndFinish => {
                self.k.device_event(DeviceEvent::CardRemoved, TODAY);
                if self.k.card_removed_prompt() {
                    self.k.intent(Intent::EndSession);
                } else {
                    self.idle_out();
                }
            }
            End::NextCard => match next {
                Some(c) => self
                    .k
                    .device_event(DeviceEvent::CardPresented(Box::new(c.card())), TODAY),
                None => self.k.intent(Intent::Home),
            },
            End::WalkAway => {
                if !self.looks_fresh() {
                    self.idle_out();
                }
            }
        }
        self.collect();
    }

    /// What B can reach now: every text the screens show, and what the flow asked for in B's
    /// phase. Searched for A's markers.
    fn reachable(&self) -> Vec<String> {
        let k = &self.k;
        let mut out = vec![k.greeting_name(), k.owner().unwrap_or_default()];
        if let Some(card) = k.session().and_then(Session::card) {
            out.extend([
                card.name.clone(),
                card.english_name.clone(),
                card.id_number.clone(),
                card.address.clone(),
            ]);
        }
        if let Some(a) = k.application() {
            out.extend(a.fields.iter().map(|f| f.value.clone()));
            out.push(a.pinyin.clone());
            out.extend(a.submitted.iter().map(|s| s.tracking_code.clone()));
        }
        out.push(format!("{:?}", k.ticket()));
        out.push(format!("{:?}", k.progress()));
        out.push(format!("{:?}", k.rating()));
        for e in &self.asked {
            match e {
                Effect::LookupProgress(ProgressLookup::Person(n)) => out.push(n.to_string()),
                Effect::Save(sub) => out.extend(sub.payload.fields.iter().map(|f| f.1.clone())),
                other => out.push(format!("{other:?}")),
            }
        }
        out
    }
}

impl Effect {
    /// A copy for the test's record of what was asked (payload photos left out).
    fn shallow_copy(&self) -> Effect {
        match self {
            Effect::Capture { material } => Effect::Capture {
                material: *material,
            },
            Effect::Save(s) => Effect::Save(crate::outbox::NewSubmission {
                service_item: s.service_item.clone(),
                consent_version: s.consent_version.clone(),
                payload: crate::outbox::Payload {
                    fields: s.payload.fields.clone(),
                    materials: Vec::new(),
                },
            }),
            Effect::Print(r) => Effect::Print(r.clone()),
            Effect::IssueTicket { category, locale } => Effect::IssueTicket {
                category: category.clone(),
                locale: *locale,
            },
            Effect::PrintTicket(t) => Effect::PrintTicket(t.clone()),
            Effect::LookupProgress(l) => Effect::LookupProgress(l.clone()),
            Effect::SaveRating(r) => Effect::SaveRating(r.clone()),
            Effect::MaintenanceStats => Effect::MaintenanceStats,
            Effect::PrintStatusPage(l) => Effect::PrintStatusPage(l.clone()),
        }
    }
}

fn markers(card: CardFixture, given: &[String]) -> Vec<String> {
    // (A's answers still in flight may be given while B is there: markers are taken afresh.)
    let c = card.card();
    let mut m = vec![
        c.name.clone(),
        c.id_number.clone(),
        c.address.clone(),
        c.masked_name(),
    ];
    m.push(c.english_name.clone());
    m.push(A_PHONE.to_string());
    m.extend(given.iter().cloned());
    m.retain(|s| s.chars().count() >= 2);
    m
}

fn check(world: &World, markers: &[String]) -> Result<(), TestCaseError> {
    for text in world.reachable() {
        for m in markers {
            prop_assert!(
                !text.contains(m.as_str()),
                "citizen A's {m:?} is reachable by the next citizen in {text:?} (page {:?})",
                world.k.page()
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        // 3000 per run in the suite; PROPTEST_CASES=200000 for a longer search.
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(3000),
        max_shrink_iters: 20_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn nothing_of_a_citizen_reaches_the_next(
        a_card in prop_oneof![Just(CardFixture::Resident), Just(CardFixture::Foreign2023)],
        b_card in prop_oneof![
            Just(None),
            Just(Some(CardFixture::HkMoTw)),
            Just(Some(CardFixture::ResidentEdge)),
        ],
        a_walk in proptest::collection::vec(act(), 1..45),
        how in end(),
        b_walk in proptest::collection::vec(act(), 0..25),
    ) {
        let mut w = World::new();
        for a in &a_walk {
            w.act(a, Some(a_card), A_PHONE);
        }
        w.phase = 1;
        w.asked.clear();
        w.end(how, b_card);
        check(&w, &markers(a_card, &w.given[0]))?;
        for b in &b_walk {
            w.act(b, b_card, B_PHONE);
            check(&w, &markers(a_card, &w.given[0]))?;
        }
    }
}

#[test]
fn the_markers_tell_the_citizens_apart() {
    for a in [CardFixture::Resident, CardFixture::Foreign2023] {
        for b in [CardFixture::HkMoTw, CardFixture::ResidentEdge] {
            let (a, b) = (a.card(), b.card());
            assert_ne!(a.masked_name(), b.masked_name());
            assert!(a.address.is_empty() || !b.address.contains(&a.address));
            assert!(!b.name.contains(&a.name) && !b.id_number.contains(&a.id_number));
        }
    }
}
