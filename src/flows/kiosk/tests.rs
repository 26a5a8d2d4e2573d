//! The routing kiosk's unit tests: whole citizen tasks through `Kiosk` without a window.

use super::*;
use crate::shared::catalog::Category;
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
fn an_expired_card_is_no_dead_end_a_ticket_for_the_windows_is_offered() {
    let mut k = kiosk();
    k.intent(Intent::Open(Entry::Apply));
    assert!(
        !k.offers_ticket_without_card(),
        "waiting for a card to apply: nothing else to offer yet"
    );
    k.intent(Intent::TicketWithoutCard);
    assert_eq!(k.page(), Page::Identify, "not offered, not taken");
    place(&mut k, CardFixture::ResidentExpired);
    assert_eq!(k.identify_status(), IdentifyStatus::Expired);
    assert!(k.offers_ticket_without_card());
    k.intent(Intent::TicketWithoutCard);
    assert_eq!(k.page(), Page::Ticket);
    assert!(k.session().is_none(), "the ticket names nobody");
    k.intent(Intent::Ticket(TicketIntent::ChooseQueue("B".into())));
    assert!(
        matches!(&k.take_effects()[..], [Effect::IssueTicket { .. }]),
        "one tap to the ticket"
    );
}

#[test]
fn a_ticket_can_be_taken_without_a_card() {
    let mut k = kiosk();
    k.intent(Intent::Open(Entry::Ticket));
    assert_eq!(k.page(), Page::Identify);
    assert!(k.offers_ticket_without_card(), "offered beside the card");
    k.intent(Intent::TicketWithoutCard);
    assert_eq!(k.page(), Page::Ticket);
    assert!(k.session().is_none());
}

#[test]
fn a_card_after_an_anonymous_ticket_is_a_new_person_who_never_sees_that_ticket() {
    // Found by the isolation property in CI: A takes a ticket without a card and walks away
    // while it is being issued; B places a card; A's ticket then arrived on B's screen.
    use crate::flows::ticket::TicketStep;
    let mut k = kiosk();
    k.intent(Intent::Open(Entry::Ticket));
    k.intent(Intent::TicketWithoutCard);
    k.intent(Intent::Ticket(TicketIntent::ChooseQueue("A".into())));
    let asked_by_a = k.visit();
    assert!(matches!(k.take_effects()[..], [Effect::IssueTicket { .. }]));
    place(&mut k, CardFixture::HkMoTw);
    assert_eq!(
        k.page(),
        Page::Identify,
        "B is greeted, on to a ticket of their own"
    );
    assert_eq!(k.greeting_name(), "陈*文");
    k.done_for(
        asked_by_a,
        Done::TicketIssued(Ok(crate::flows::effect::Ticket {
            number: "A101".into(),
            category: crate::shared::config::HallSection::default().queue_categories[0].clone(),
            ahead: Some(3),
            issued_at_ms: 1,
            local: false,
            locale: Locale::ZhCn,
        })),
    );
    assert!(k.ticket().is_none(), "{:?}", k.ticket());
    assert!(
        k.take_effects().is_empty(),
        "A's ticket is not printed for B"
    );
    k.intent(Intent::IdentifyContinue);
    assert_eq!(k.page(), Page::Ticket);
    assert_eq!(k.ticket().unwrap().step, TicketStep::Choose);
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
        (Page::Identify, IdentifyStatus::EidUnsupported)
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
    k.intent(Intent::Guide(GuideIntent::ChooseCategory(
        Category::LegalPerson,
    )));
    k.intent(Intent::Guide(GuideIntent::ChooseTheme(
        "business_startup".into(),
    )));
    let items = k.guide_items();
    assert!(items.len() >= 3);
    assert!(items.iter().all(|i| i.category == Category::LegalPerson));
    let id = items[0].id.clone();
    k.intent(Intent::Guide(GuideIntent::ChooseItem(id.clone())));
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
    k.intent(Intent::Guide(GuideIntent::Search("sbk".into())));
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
    k.intent(Intent::Guide(GuideIntent::ChooseTheme("nope".into())));
    k.intent(Intent::Guide(GuideIntent::ChooseItem("nope".into())));
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
    use crate::flows::effect::{Photo, Saved};
    let mut k = kiosk();
    k.intent(Intent::Open(Entry::Apply));
    place(&mut k, CardFixture::Resident);
    k.intent(Intent::IdentifyContinue);
    assert_eq!(k.page(), Page::Apply);
    assert!(k.apply_themes().iter().any(|t| t.code == "marriage"));
    k.intent(Intent::Apply(ApplyIntent::ChooseTheme("marriage".into())));
    assert!(k.apply_items().iter().all(|i| i.kiosk_complete));
    k.intent(Intent::ApplyFor("P-MARRIA-003".into()));
    assert_eq!(k.application().unwrap().step, ApplyStep::Form);
    for c in "13812345678".chars() {
        k.intent(Intent::Apply(ApplyIntent::Key(c)));
    }
    k.intent(Intent::Apply(ApplyIntent::Next));
    k.intent(Intent::Apply(ApplyIntent::Capture));
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
    k.intent(Intent::Apply(ApplyIntent::Next));
    k.intent(Intent::Apply(ApplyIntent::SetConsent(true)));
    k.intent(Intent::Apply(ApplyIntent::Submit));
    assert!(matches!(k.take_effects()[..], [Effect::Save(_)]));
    k.done(Done::Saved(Ok(Saved {
        tracking_code: crate::outbox::tracking::code("T-1", 1),
        idempotency_key: "k".into(),
        saved_at_ms: 0,
        platform_reachable: true,
    })));
    assert!(matches!(k.take_effects()[..], [Effect::Print(_)]));
    assert_eq!(k.application().unwrap().step, ApplyStep::Submitted);
    // 返回 on the success page leaves it (it did nothing): home, the owner still named.
    k.intent(Intent::Back);
    assert_eq!(k.page(), Page::Home);
    assert_eq!(k.owner().as_deref(), Some("张*三"));
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
    use crate::flows::effect::Ticket;
    use crate::flows::ticket::TicketStep;
    let mut k = kiosk();
    k.intent(Intent::Open(Entry::Ticket));
    assert_eq!(k.page(), Page::Identify);
    place(&mut k, CardFixture::Resident);
    k.intent(Intent::IdentifyContinue);
    assert_eq!(k.page(), Page::Ticket);
    k.intent(Intent::Ticket(TicketIntent::ChooseQueue("Z".into())));
    assert!(k.take_effects().is_empty(), "no such category");
    k.intent(Intent::Ticket(TicketIntent::ChooseQueue("B".into())));
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
    use crate::flows::effect::ProgressLookup;
    use crate::flows::progress::ProgressStep;
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
    use crate::flows::rating::RatingStep;
    let mut k = kiosk();
    k.intent(Intent::Open(Entry::Rate));
    k.intent(Intent::Rate(RateIntent::Level(3)));
    assert_eq!(k.rating().unwrap().step, RatingStep::Reason { level: 2 });
    k.intent(Intent::Rate(RateIntent::Reason(2)));
    let e = k.take_effects();
    let [Effect::SaveRating(r)] = &e[..] else {
        panic!()
    };
    assert_eq!((r.level, r.reason.as_deref()), (2, Some("device_fault")));
    assert_eq!(r.service_item, None);
    k.done(Done::RatingSaved(Ok(())));
    assert_eq!(k.rating().unwrap().step, RatingStep::Thanks);
}

/// A PIN gate for `pin` with its lockout in memory.
fn test_pin(pin: &str) -> crate::shared::admin::PinCheck {
    use crate::shared::admin::{hash_pin, PinCheck, PinGate};
    PinCheck::new(PinGate::new(Some(hash_pin(pin).unwrap()), None, || 0))
}

#[test]
fn maintenance_opens_with_the_pin_or_an_admin_card_only() {
    let card_key = crate::shared::admin::CardKey::from_bytes(&[5; 32]);
    let hall = HallSetup {
        pin: test_pin("135790"),
        admin_cards: vec![Sha256Hex(
            card_key.hash_card(&CardFixture::ResidentLongTerm.card().id_number),
        )],
        card_key: Some(card_key),
        ..HallSetup::default()
    };
    let mut k = kiosk().with_hall(hall);
    k.intent(Intent::OpenMaintenance);
    assert_eq!(k.page(), Page::Maintenance);
    for c in crate::shared::config::DEV_ADMIN_PIN.chars() {
        k.intent(Intent::Maintenance(MaintenanceIntent::Key(c)));
    }
    k.intent(Intent::Maintenance(MaintenanceIntent::EnterPin));
    assert!(
        !k.maintenance().unwrap().unlocked,
        "the dev PIN is not this kiosk's"
    );
    for c in "135790".chars() {
        k.intent(Intent::Maintenance(MaintenanceIntent::Key(c)));
    }
    k.intent(Intent::Maintenance(MaintenanceIntent::EnterPin));
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
        k.faults().get(&DeviceKind::Camera).map(String::as_str),
        Some("unplugged")
    );
    k.intent(Intent::Maintenance(MaintenanceIntent::PrintStatus));
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

#[test]
fn leaving_the_maintenance_screen_with_back_locks_it() {
    let hall = HallSetup {
        pin: test_pin("135790"),
        ..HallSetup::default()
    };
    let mut k = kiosk().with_hall(hall);
    k.intent(Intent::OpenMaintenance);
    for c in "135790".chars() {
        k.intent(Intent::Maintenance(MaintenanceIntent::Key(c)));
    }
    k.intent(Intent::Maintenance(MaintenanceIntent::EnterPin));
    assert!(k.maintenance().unwrap().unlocked);
    k.intent(Intent::Back);
    assert_eq!(k.page(), Page::Home);
    k.intent(Intent::OpenMaintenance);
    assert!(
        !k.maintenance().unwrap().unlocked,
        "the next person to tap the kiosk id needs the PIN"
    );
}

#[test]
fn the_next_citizen_does_not_inherit_where_the_last_one_was_going() {
    let mut k = kiosk();
    k.intent(Intent::Open(Entry::Ticket));
    assert_eq!(k.page(), Page::Identify);
    k.intent(Intent::Home);
    // The next citizen places a card on the home page and goes on: to apply, the default.
    place(&mut k, CardFixture::Resident);
    k.intent(Intent::IdentifyContinue);
    assert_eq!(k.page(), Page::Apply);
}

#[test]
fn keys_after_going_back_from_the_form_change_nothing() {
    let mut k = kiosk();
    k.intent(Intent::Open(Entry::Apply));
    place(&mut k, CardFixture::Resident);
    k.intent(Intent::IdentifyContinue);
    let id = k.apply_themes()[0].code.clone();
    k.intent(Intent::Apply(ApplyIntent::ChooseTheme(id)));
    let item = k.apply_items()[0].id.clone();
    k.intent(Intent::Apply(ApplyIntent::ChooseTheme(String::new())));
    k.intent(Intent::ApplyFor(item));
    assert_eq!(k.application().unwrap().step, ApplyStep::Form);
    k.intent(Intent::Back);
    assert_eq!(k.application().unwrap().step, ApplyStep::Choose);
    for c in ['1', 'a'] {
        k.intent(Intent::Apply(ApplyIntent::Key(c)));
        k.intent(Intent::Apply(ApplyIntent::Pick(c.to_string())));
    }
    k.intent(Intent::Apply(ApplyIntent::Backspace));
    k.intent(Intent::Apply(ApplyIntent::ClearField));
    assert!(k.application().unwrap().fields.is_empty());
}

/// Issue 18: 单位社会保险登记 (an employer's item) was listed on the apply page, whose card
/// identifies a person. The apply page lists personal items only; the guide's 法人办事 leads to the
/// others.
#[test]
fn the_apply_page_lists_personal_items_only() {
    let mut k = kiosk();
    k.intent(Intent::Open(Entry::Apply));
    place(&mut k, CardFixture::Resident);
    k.intent(Intent::IdentifyContinue);
    let themes: Vec<String> = k.apply_themes().iter().map(|t| t.code.clone()).collect();
    assert!(!themes.is_empty());
    for theme in themes {
        k.intent(Intent::Apply(ApplyIntent::ChooseTheme(theme.clone())));
        let items = k.apply_items();
        assert!(!items.is_empty(), "{theme} listed without items");
        for i in items {
            assert_eq!(i.category, Category::Personal, "{} under {theme}", i.id);
        }
        k.intent(Intent::Back);
    }
}

/// Issue 18: a foreign permanent resident was greeted "Hello, 史*斯" in English.
#[test]
fn a_foreign_card_is_greeted_by_its_latin_name_in_english() {
    let mut k = kiosk();
    k.intent(Intent::SetLocale(Locale::En));
    place(&mut k, CardFixture::Foreign2023);
    assert_eq!(k.greeting_name(), "M*** A*** J***");
    assert_eq!(k.owner().as_deref(), Some("M*** A*** J***"));
    k.intent(Intent::SetLocale(Locale::ZhCn));
    assert_eq!(k.greeting_name(), "史*斯");
}
