//! The application flow's unit tests.

use super::form::*;
use super::*;
use crate::flows::effect::*;
use crate::shared::catalog::Catalog;
use hallkiosk_drivers::sim::fixtures::CardFixture;

fn started(item: &str) -> Application {
    started_with(item, CardFixture::Resident)
}

fn started_with(item: &str, card: CardFixture) -> Application {
    let catalog = Catalog::bundled().unwrap();
    let mut a = Application::new();
    a.start(catalog.item(item).unwrap(), &card.card());
    a
}

/// Focuses the mailing address and empties it; returns its index.
fn empty_address(a: &mut Application) -> usize {
    let i = a
        .fields
        .iter()
        .position(|f| f.key == FieldKey::MailingAddress)
        .unwrap();
    a.focus(i);
    a.clear_field();
    i
}

fn photo() -> Photo {
    Photo {
        jpeg: vec![0xFF, 0xD8, 1, 2, 3],
        width: 10,
        height: 14,
    }
}

fn type_phone(a: &mut Application, digits: &str) {
    let i = a
        .fields
        .iter()
        .position(|f| f.key == FieldKey::Phone)
        .unwrap();
    a.focus(i);
    for c in digits.chars() {
        a.key(c);
    }
}

#[test]
fn the_form_is_prefilled_from_the_card_and_the_id_card_is_never_asked_for() {
    let a = started("P-MARRIA-003");
    let card = CardFixture::Resident.card();
    let get = |k| a.fields.iter().find(|f| f.key == k).unwrap();
    assert_eq!(get(FieldKey::Name).value, card.name);
    assert_eq!(get(FieldKey::IdNumber).value, card.id_number);
    assert_eq!(
        get(FieldKey::IdNumber).shown(Locale::ZhCn),
        hallkiosk_drivers::idcard::mask_middle(&card.id_number, 3, 4)
    );
    assert!(get(FieldKey::Nation).value.ends_with('族'));
    assert_eq!(get(FieldKey::MailingAddress).value, card.address);
    assert_eq!(
        a.materials.len(),
        1,
        "居民身份证原件 is covered by the card"
    );
    assert_eq!(a.materials[0].name.zh, "结婚证");
    assert_eq!(a.covered_by_card.len(), 1);
    assert_eq!(a.covered_by_card[0].zh, "居民身份证");
    assert_eq!(a.keyboard(), Keyboard::Digits, "the phone is focused first");
    assert!(
        a.fields
            .iter()
            .all(|f| !matches!(f.key, FieldKey::EnglishName | FieldKey::Nationality)),
        "a resident card has no English name or nationality"
    );
}

/// Issue 18: a foreign permanent resident's form showed neither the English name nor the
/// nationality, and review said "Resident ID card (original)" was read.
#[test]
fn a_foreign_permanent_residents_card_is_first_class() {
    let a = started_with("P-MARRIA-003", CardFixture::Foreign2023);
    let card = CardFixture::Foreign2023.card();
    let get = |k| {
        a.fields
            .iter()
            .find(|f| f.key == k)
            .map(|f| f.value.clone())
    };
    assert_eq!(get(FieldKey::EnglishName), Some(card.english_name.clone()));
    assert_eq!(get(FieldKey::Nationality), Some("CAN".into()));
    assert_eq!(get(FieldKey::Nation), None, "no nation on a foreign card");
    assert!(a.document.is_foreign());
    assert_eq!(a.covered_by_card[0].zh, "外国人永久居留身份证");
    assert_eq!(
        a.covered_by_card[0].en,
        "Foreign permanent resident ID card"
    );
    let hk = started_with("P-MARRIA-003", CardFixture::HkMoTw);
    assert_eq!(hk.covered_by_card[0].zh, "港澳台居民居住证");
}

/// Issue 18: in English the form showed 男 and 汉族.
#[test]
fn gender_and_nation_are_shown_in_the_screens_language() {
    let a = started("P-MARRIA-003");
    let shown = |k, l| a.fields.iter().find(|f| f.key == k).unwrap().shown(l);
    assert_eq!(shown(FieldKey::Gender, Locale::En), "Male");
    assert_eq!(shown(FieldKey::Nation, Locale::En), "Han");
    assert_eq!(shown(FieldKey::Gender, Locale::ZhCn), "男");
    assert_eq!(shown(FieldKey::Nation, Locale::ZhCn), "汉族");
    let other = started_with("P-MARRIA-003", CardFixture::ResidentOther);
    let nation = other
        .fields
        .iter()
        .find(|f| f.key == FieldKey::Nation)
        .unwrap();
    assert_eq!(nation.value, "其他", "97 is not a nation: no 族");
    assert_eq!(nation.shown(Locale::En), "Other");
}

#[test]
fn validation_names_the_problem_next_to_the_field_and_blocks_next() {
    let mut a = started("P-MARRIA-003");
    a.next();
    assert_eq!(a.step, ApplyStep::Form);
    let phone = a.fields.iter().find(|f| f.key == FieldKey::Phone).unwrap();
    assert_eq!(phone.problem, Some(FieldProblem::Missing));
    type_phone(&mut a, "2345");
    a.next();
    let phone = a.fields.iter().find(|f| f.key == FieldKey::Phone).unwrap();
    assert_eq!(phone.problem, Some(FieldProblem::PhoneFormat));
    for _ in 0..4 {
        a.backspace();
    }
    type_phone(&mut a, "13812345678999");
    let phone = a.fields.iter().find(|f| f.key == FieldKey::Phone).unwrap();
    assert_eq!(phone.value, "13812345678", "the pad stops at 11 digits");
    a.next();
    assert_eq!(a.step, ApplyStep::Material(0));
}

#[test]
fn pinyin_typing_picks_characters_into_the_address() {
    let mut a = started("P-MARRIA-003");
    let i = empty_address(&mut a);
    for c in "lu".chars() {
        a.key(c);
    }
    a.key('v'); // "luv" splits into no syllables: refused
    assert_eq!(a.pinyin, "lu");
    assert!(a.candidates().contains(&"路".to_string()));
    a.pick("路");
    a.key('8');
    a.key('8');
    for c in "hao".chars() {
        a.key(c);
    }
    a.pick("号");
    assert_eq!(a.fields[i].value, "路88号");
    a.pick("号"); // nothing typed: no candidates, nothing added
    assert_eq!(a.fields[i].value, "路88号");
    a.key('h');
    a.backspace();
    assert_eq!(a.pinyin, "");
    assert_eq!(a.fields[i].value, "路88号");
    a.backspace();
    assert_eq!(a.fields[i].value, "路88");
}

#[test]
fn done_typing_closes_the_keyboard_and_keeps_what_was_typed() {
    let mut a = started("P-MARRIA-003");
    let i = empty_address(&mut a);
    a.key('l');
    a.key('u');
    a.pick("路");
    a.key('h');
    a.handle(ApplyIntent::DoneTyping, |_| true);
    assert_eq!(a.keyboard(), Keyboard::None, "the keyboard closed");
    assert_eq!(a.fields[i].value, "路", "what was typed stays");
    assert_eq!(a.pinyin, "", "pinyin not yet a character is dropped");
    // With no field focused, keys reach nothing.
    a.key('8');
    assert_eq!(a.fields[i].value, "路");
    // 下一步 still checks the form and puts the keyboard on the first field that is wrong.
    a.next();
    assert_eq!(a.step, ApplyStep::Form);
    assert_eq!(a.keyboard(), Keyboard::Digits);
    type_phone(&mut a, "13812345678");
    a.handle(ApplyIntent::DoneTyping, |_| true);
    a.next();
    assert_ne!(a.step, ApplyStep::Form, "a whole form moves on");
}

#[test]
fn read_only_fields_cannot_be_focused_or_typed_into() {
    let mut a = started("P-MARRIA-003");
    let before = a.fields[0].value.clone();
    a.focus(0);
    assert_eq!(a.keyboard(), Keyboard::Digits, "focus stayed on the phone");
    a.focus(usize::MAX);
    assert_eq!(a.fields[0].value, before);
}

#[test]
fn the_camera_preview_runs_on_a_material_step_until_its_photo_is_taken() {
    let mut a = started("P-MARRIA-003");
    assert_eq!(a.preview_material(), None, "the form has no preview");
    type_phone(&mut a, "13812345678");
    a.next();
    assert_eq!(a.step, ApplyStep::Material(0));
    assert_eq!(a.preview_material(), Some(0));
    a.capture();
    assert_eq!(a.preview_material(), Some(0), "kept open for the capture");
    a.done(
        Done::Captured {
            material: 0,
            result: Ok(photo()),
        },
        Locale::ZhCn,
    );
    assert_eq!(a.preview_material(), None, "the photo is shown instead");
    a.retake();
    assert_eq!(a.preview_material(), Some(0), "retake: the preview again");
}

fn to_review(a: &mut Application) {
    type_phone(a, "13812345678");
    a.next();
    while let ApplyStep::Material(n) = a.step {
        assert!(matches!(a.capture(), Some(Effect::Capture { material }) if material == n));
        assert!(a.capture().is_none(), "one capture at a time");
        a.done(
            Done::Captured {
                material: n,
                result: Ok(photo()),
            },
            Locale::ZhCn,
        );
        a.next();
    }
    assert_eq!(a.step, ApplyStep::Review);
}

#[test]
fn consent_is_required_then_the_submission_carries_everything() {
    let mut a = started("P-MARRIA-003");
    to_review(&mut a);
    assert!(a.submit().is_none());
    assert!(a.consent_missing);
    a.set_consent(true);
    let Some(Effect::Save(s)) = a.submit() else {
        panic!("no save")
    };
    assert_eq!(a.step, ApplyStep::Saving);
    assert_eq!(s.service_item, "P-MARRIA-003");
    assert_eq!(s.consent_version, CONSENT_VERSION);
    let card = CardFixture::Resident.card();
    let f: std::collections::HashMap<_, _> = s.payload.fields.iter().cloned().collect();
    assert_eq!(f["id_number"], card.id_number);
    assert_eq!(f["phone"], "13812345678");
    assert_eq!(s.payload.materials.len(), 1);
    assert_eq!(s.payload.materials[0].mime, "image/jpeg");
    assert!(a.back());
    assert_eq!(a.step, ApplyStep::Saving, "saving cannot be undone");
}

#[test]
fn saved_then_printed_and_personal_data_leaves_the_screen() {
    let mut a = started("P-MARRIA-003");
    to_review(&mut a);
    a.set_consent(true);
    a.submit();
    let code = crate::outbox::tracking::code("K1", 1);
    let next = a.done(
        Done::Saved(Ok(Saved {
            tracking_code: code.clone(),
            idempotency_key: "key-1".into(),
            saved_at_ms: 1,
            platform_reachable: false,
        })),
        Locale::ZhCn,
    );
    let Some(Effect::Print(r)) = next else {
        panic!("no print")
    };
    assert!(r.queued_offline);
    assert_eq!(
        r.qr,
        format!(
            "HKR1:{code}:{}",
            crate::outbox::tracking::receipt_digest(&code, "key-1")
        )
    );
    assert!(a.fields.is_empty() && a.materials.is_empty());
    assert_eq!(a.step, ApplyStep::Submitted);
    a.done(Done::Printed(Err(PrintProblem::PaperOut)), Locale::ZhCn);
    let s = a.submitted.clone().unwrap();
    assert_eq!(s.print, PrintState::Failed(PrintProblem::PaperOut));
    assert_eq!(s.tracking_code, code, "the code stays on screen");
    assert!(matches!(a.reprint(), Some(Effect::Print(_))));
    assert!(a.reprint().is_none(), "already printing");
    a.done(Done::Printed(Ok(())), Locale::ZhCn);
    assert_eq!(a.submitted.as_ref().unwrap().print, PrintState::Printed);
}

#[test]
fn a_failed_save_returns_to_review_with_everything_kept() {
    let mut a = started("P-MARRIA-003");
    to_review(&mut a);
    a.set_consent(true);
    a.submit();
    a.done(
        Done::Saved(Err(SaveProblem("disk full".into()))),
        Locale::ZhCn,
    );
    assert_eq!(a.step, ApplyStep::Review);
    assert!(a.save_problem.is_some());
    assert_eq!(a.materials[0].photo, Some(photo()));
    assert!(matches!(a.submit(), Some(Effect::Save(_))), "retry");
}

#[test]
fn camera_gone_offers_retry_or_hand_in_at_a_window() {
    let mut a = started("P-MARRIA-003");
    type_phone(&mut a, "13812345678");
    a.next();
    a.defer_material();
    assert_eq!(
        a.step,
        ApplyStep::Material(0),
        "no deferring without a fault"
    );
    a.capture();
    a.done(
        Done::Captured {
            material: 0,
            result: Err(CaptureProblem::CameraUnavailable),
        },
        Locale::ZhCn,
    );
    a.next();
    assert_eq!(a.step, ApplyStep::Material(0), "nothing taken yet");
    a.defer_material();
    assert_eq!(a.step, ApplyStep::Review);
    a.set_consent(true);
    let Some(Effect::Save(s)) = a.submit() else {
        panic!()
    };
    assert!(s.payload.materials.is_empty());
    assert!(s
        .payload
        .fields
        .iter()
        .any(|(k, v)| k == "materials_at_window" && v == "结婚证"));
}

#[test]
fn back_walks_the_steps() {
    let mut a = started("P-MARRIA-003");
    to_review(&mut a);
    assert!(a.back());
    assert_eq!(a.step, ApplyStep::Material(0));
    assert!(a.back());
    assert_eq!(a.step, ApplyStep::Form);
    assert!(a.back());
    assert_eq!(a.step, ApplyStep::Choose);
    assert!(!a.back());
}

#[test]
fn debug_shows_nothing_personal() {
    let a = started("P-MARRIA-003");
    let card = CardFixture::Resident.card();
    let shown = format!("{a:?}");
    assert!(!shown.contains(&card.name) && !shown.contains(&card.id_number));
}

/// Issue 18: `beijing` dropped "jing"; a name typed whole; the candidate row pages.
#[test]
fn whole_words_and_names_are_typed_in_one_go_and_the_candidates_page() {
    let mut a = started("P-MARRIA-003");
    let i = empty_address(&mut a);
    for c in "beijing".chars() {
        a.key(c);
    }
    assert_eq!(a.pinyin, "beijing");
    assert_eq!(a.candidates()[0], "北京");
    a.pick("北京");
    assert_eq!(
        (a.fields[i].value.as_str(), a.pinyin.as_str()),
        ("北京", "")
    );
    // A name, one character at a time: each pick takes its syllable.
    for c in "zhangxiaosan".chars() {
        a.key(c);
    }
    assert_eq!(a.candidates()[0], "张小三");
    a.pick("张");
    assert_eq!(a.pinyin, "xiaosan");
    assert!(
        a.candidates().contains(&"小三".to_string()),
        "{:?}",
        a.candidates()
    );
    a.pick("小三");
    assert_eq!(a.fields[i].value, "北京张小三");
    assert_eq!(a.pinyin, "");
    // Paging: the row shows CANDIDATES at a time and pages forward and back.
    for c in "shi".chars() {
        a.key(c);
    }
    let first = a.candidates();
    assert_eq!(first.len(), CANDIDATES);
    assert_eq!(a.candidate_pages(), (false, true));
    a.handle(ApplyIntent::NextCandidates, |_| true);
    let second = a.candidates();
    assert!(
        second.iter().all(|c| !first.contains(c)),
        "{first:?} {second:?}"
    );
    assert!(a.candidate_pages().0);
    a.pick(&second[0].clone());
    assert!(
        a.fields[i].value.ends_with(second[0].as_str()),
        "a pick from page 2"
    );
    a.handle(ApplyIntent::PreviousCandidates, |_| true);
    assert_eq!(a.candidate_page, 0);
}
