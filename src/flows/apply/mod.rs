//! The application (办事) flow after identification: item → form → one step per material → review
//! and consent → saved to the outbox → receipt.
//!
//! Everything the citizen entered lives in one [`Application`] value inside the kiosk's state and is
//! zeroized when it goes (session end, going home, a new card). The flow asks for work it cannot do
//! itself — a photo, saving, printing — as [`Effect`]s, and learns the results as [`Done`]; the
//! kiosk runtime runs them on worker threads. Saving comes strictly before printing: a receipt is
//! only printed for a submission already on storage, and a printer fault never touches it.
//!
//! [`form`] holds the fields and keyboards, [`materials`] the photo steps, [`pinyin`] the input
//! method; [`ApplyIntent`] is what the citizen can do on this page.

pub mod form;
pub mod materials;
pub mod pinyin;
#[cfg(test)]
mod tests;

use crate::flows::effect::{Done, Effect, PrintProblem, ReceiptInfo, SaveProblem};
use crate::flows::text::Text2;
use crate::outbox::{Material, NewSubmission, Payload};
use crate::shared::catalog::{ServiceItem, Text};
use crate::shared::config::Locale;
use form::{Field, FieldKey, Keyboard};
use hallkiosk_drivers::idcard::{nation_name, CardType, IdCard};
pub use materials::is_identity_card;
use materials::MaterialStep;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The version of the consent text the citizen agrees to; recorded with every submission.
pub const CONSENT_VERSION: &str = "consent-2026-11-v1";

/// The consent text of [`CONSENT_VERSION`]. Changing a word means a new version.
pub const CONSENT_TEXT: Text2 = Text2 {
    zh: "我同意本机为办理所选事项，处理我的身份证件号码、证件信息和所拍摄的材料图像等敏感个人信息，\
         并将其加密提交至政务服务平台。上述信息仅用于本次办理，提交成功后从本机删除。",
    en: "I agree that this kiosk processes my ID number, card details and the photographed documents \
         (sensitive personal information) for the selected service, and submits them encrypted to the \
         government service platform. They are used only for this application and deleted from the \
         kiosk once submitted.",
};

/// Where the citizen is in the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyStep {
    /// Which service (only items that can be done completely at the kiosk).
    Choose,
    Form,
    /// Photographing required material `n`.
    Material(usize),
    Review,
    /// Waiting for the outbox to confirm the submission is on storage.
    Saving,
    /// Saved: tracking code on screen, receipt printing or printed.
    Submitted,
}

/// The receipt's printing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrintState {
    Printing,
    Printed,
    Failed(PrintProblem),
}

/// A saved submission as the citizen sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    pub tracking_code: String,
    /// The platform was not reachable lately: the submission waits in the outbox.
    pub queued_offline: bool,
    pub print: PrintState,
}

/// What the citizen can do on the apply page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyIntent {
    /// A theme on the choose step.
    ChooseTheme(String),
    /// Put the keyboard on this form field.
    FocusField(usize),
    /// A key of the on-screen keyboard (digit or pinyin letter).
    Key(char),
    /// A pinyin candidate (a character, a name or a word).
    Pick(String),
    /// The candidate row's next and previous page.
    NextCandidates,
    PreviousCandidates,
    Backspace,
    ClearField,
    /// 完成 on the elder typing page: the keyboard closes, what was typed stays, the whole form
    /// and 下一步 show again.
    DoneTyping,
    /// 下一步.
    Next,
    /// 拍照 / 重拍 / 到窗口补交 on a material step.
    Capture,
    Retake,
    DeferMaterial,
    SetConsent(bool),
    Submit,
    /// Print the receipt again after a printer fault.
    Reprint,
}

/// One citizen's application in progress.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Application {
    #[zeroize(skip)]
    pub step: ApplyStep,
    /// The theme picked on the choose step.
    pub theme: Option<String>,
    pub item_id: String,
    #[zeroize(skip)]
    pub service: Option<Text>,
    pub fields: Vec<Field>,
    #[zeroize(skip)]
    pub focus: Option<usize>,
    /// Letters typed on the pinyin keyboard, not yet turned into a character.
    pub pinyin: String,
    /// The page of the candidate row shown.
    #[zeroize(skip)]
    pub candidate_page: usize,
    pub materials: Vec<MaterialStep>,
    /// Materials the card read covers (居民身份证原件): never asked for again.
    #[zeroize(skip)]
    pub covered_by_card: Vec<Text>,
    /// The kind of card read (the form's number label, the document named on review).
    #[zeroize(skip)]
    pub document: CardType,
    /// What happens after submitting: the item's promised working days and where its result is
    /// collected (the success page and the receipt say it).
    #[zeroize(skip)]
    pub next_step: Option<(u32, Text)>,
    #[zeroize(skip)]
    pub capturing: bool,
    #[zeroize(skip)]
    pub consent: bool,
    #[zeroize(skip)]
    pub consent_missing: bool,
    #[zeroize(skip)]
    pub save_problem: Option<SaveProblem>,
    #[zeroize(skip)]
    pub submitted: Option<Submitted>,
    #[zeroize(skip)]
    receipt: Option<ReceiptInfo>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("step", &self.step)
            .field("item_id", &self.item_id)
            .field("fields", &self.fields.len())
            .finish_non_exhaustive()
    }
}

impl Application {
    /// A citizen's action on the apply page; `theme_known` says whether a theme code is in the
    /// catalog. Returns work to do, if any.
    pub fn handle(
        &mut self,
        intent: ApplyIntent,
        theme_known: impl Fn(&str) -> bool,
    ) -> Option<Effect> {
        match intent {
            ApplyIntent::ChooseTheme(code) => {
                if self.step == ApplyStep::Choose && theme_known(&code) {
                    self.theme = Some(code);
                }
                None
            }
            ApplyIntent::FocusField(i) => {
                self.focus(i);
                None
            }
            ApplyIntent::Key(c) => {
                self.key(c);
                None
            }
            ApplyIntent::Pick(c) => {
                self.pick(&c);
                None
            }
            ApplyIntent::NextCandidates => {
                self.page_candidates(true);
                None
            }
            ApplyIntent::PreviousCandidates => {
                self.page_candidates(false);
                None
            }
            ApplyIntent::Backspace => {
                self.backspace();
                None
            }
            ApplyIntent::ClearField => {
                self.clear_field();
                None
            }
            ApplyIntent::DoneTyping => {
                self.done_typing();
                None
            }
            ApplyIntent::Next => {
                self.next();
                None
            }
            ApplyIntent::Capture => self.capture(),
            ApplyIntent::Retake => {
                self.retake();
                None
            }
            ApplyIntent::DeferMaterial => {
                self.defer_material();
                None
            }
            ApplyIntent::SetConsent(on) => {
                self.set_consent(on);
                None
            }
            ApplyIntent::Submit => self.submit(),
            ApplyIntent::Reprint => self.reprint(),
        }
    }

    /// A new application at the choose step.
    pub fn new() -> Self {
        Application {
            step: ApplyStep::Choose,
            theme: None,
            item_id: String::new(),
            service: None,
            fields: Vec::new(),
            focus: None,
            pinyin: String::new(),
            candidate_page: 0,
            materials: Vec::new(),
            covered_by_card: Vec::new(),
            document: CardType::Resident,
            next_step: None,
            capturing: false,
            consent: false,
            consent_missing: false,
            save_problem: None,
            submitted: None,
            receipt: None,
        }
    }

    /// Starts the form for `item`, pre-filled from `card`.
    pub fn start(&mut self, item: &ServiceItem, card: &IdCard) {
        let gender = card.gender.zh().to_string();
        // 汉 → 汉族; the two codes that are not a nation (97 其他, 98 外国血统中国籍人士) as they are.
        let nation = nation_name(&card.nation_code)
            .map(|n| match card.nation_code.as_str() {
                "97" | "98" => n.to_string(),
                _ => format!("{n}族"),
            })
            .unwrap_or_default();
        let name = if card.name.trim().is_empty() {
            card.english_name.clone()
        } else {
            card.name.clone()
        };
        let address = card.address.clone();
        // What the citizen fills in comes first, where the eye and the keyboard are; what the
        // card gave follows (and scrolls).
        let mut fields = vec![
            (FieldKey::Phone, String::new()),
            (FieldKey::MailingAddress, address.clone()),
            (FieldKey::Name, name),
            (FieldKey::Gender, gender),
            (FieldKey::Nation, nation),
            (FieldKey::BirthDate, card.birth_date.clone()),
            (FieldKey::Address, address),
            (FieldKey::IdNumber, card.id_number.clone()),
            (FieldKey::EnglishName, card.english_name.clone()),
            (FieldKey::Nationality, card.nationality.clone()),
        ];
        // Fields the card layout does not have (a foreign card's nation or address, a resident's
        // English name) are not shown.
        fields.retain(|(k, v)| k.keyboard() != Keyboard::None || !v.trim().is_empty());
        self.fields = fields
            .into_iter()
            .map(|(key, value)| Field {
                key,
                value,
                problem: None,
            })
            .collect();
        self.item_id = item.id.clone();
        self.service = Some(item.name.clone());
        // The card read stands for the item's identity document, named as what it is (a foreign
        // permanent resident's card, not "居民身份证原件").
        self.document = card.card_type;
        self.next_step = Some((item.promised_days, item.location.clone()));
        let (zh, en) = card.card_type.document();
        self.covered_by_card = if item.materials.iter().any(is_identity_card) {
            vec![Text {
                zh: zh.into(),
                en: en.into(),
            }]
        } else {
            Vec::new()
        };
        self.materials = item
            .materials
            .iter()
            .filter(|m| !is_identity_card(m))
            .map(|m| MaterialStep {
                name: m.clone(),
                photo: None,
                deferred: false,
                problem: None,
            })
            .collect();
        self.focus = self
            .fields
            .iter()
            .position(|f| f.key.keyboard() != Keyboard::None);
        self.pinyin.clear();
        self.step = ApplyStep::Form;
    }

    /// 下一步: from the form (when every field is valid), from a material (when it is taken or
    /// deferred), to review.
    pub fn next(&mut self) {
        match self.step {
            ApplyStep::Form => {
                let mut first_bad = None;
                for (i, f) in self.fields.iter_mut().enumerate() {
                    f.problem = f.check();
                    if f.problem.is_some() && first_bad.is_none() {
                        first_bad = Some(i);
                    }
                }
                if let Some(i) = first_bad {
                    self.focus = Some(i);
                    self.pinyin.clear();
                    return;
                }
                self.focus = None;
                self.step = self.after_materials_from(0);
            }
            ApplyStep::Material(n) => {
                let m = &self.materials[n];
                if m.photo.is_some() || m.deferred {
                    self.step = self.after_materials_from(n + 1);
                }
            }
            _ => {}
        }
    }

    fn after_materials_from(&self, n: usize) -> ApplyStep {
        if n < self.materials.len() {
            ApplyStep::Material(n)
        } else {
            ApplyStep::Review
        }
    }

    /// Back within the application; false when there is no earlier step (leave the page).
    pub fn back(&mut self) -> bool {
        self.step = match self.step {
            ApplyStep::Choose => {
                if self.theme.take().is_some() {
                    return true;
                }
                return false;
            }
            ApplyStep::Form => {
                self.fields.clear();
                self.materials.clear();
                self.focus = None;
                self.pinyin.clear();
                ApplyStep::Choose
            }
            ApplyStep::Material(0) => ApplyStep::Form,
            ApplyStep::Material(n) => ApplyStep::Material(n - 1),
            ApplyStep::Review => match self.materials.len() {
                0 => ApplyStep::Form,
                n => ApplyStep::Material(n - 1),
            },
            // Saving cannot be undone from the screen.
            ApplyStep::Saving => return true,
            // A submitted application is finished: back leaves the page (to home, the session
            // and its owner still there).
            ApplyStep::Submitted => return false,
        };
        true
    }

    pub fn set_consent(&mut self, on: bool) {
        self.consent = on;
        if on {
            self.consent_missing = false;
        }
    }

    /// 提交: needs the consent; hands the submission to the outbox.
    pub fn submit(&mut self) -> Option<Effect> {
        if self.step != ApplyStep::Review {
            return None;
        }
        if !self.consent {
            self.consent_missing = true;
            return None;
        }
        self.save_problem = None;
        self.step = ApplyStep::Saving;
        Some(Effect::Save(self.submission()))
    }

    fn submission(&self) -> NewSubmission {
        let mut fields: Vec<(String, String)> = self
            .fields
            .iter()
            .map(|f| (f.key.wire_name().to_string(), f.value.trim().to_string()))
            .collect();
        let deferred: Vec<&str> = self
            .materials
            .iter()
            .filter(|m| m.deferred)
            .map(|m| m.name.zh.as_str())
            .collect();
        if !deferred.is_empty() {
            fields.push(("materials_at_window".into(), deferred.join("、")));
        }
        let materials = self
            .materials
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                m.photo.as_ref().map(|p| Material {
                    name: format!("material-{}-{}.jpg", i + 1, m.name.zh),
                    mime: "image/jpeg".into(),
                    bytes: p.jpeg.clone(),
                })
            })
            .collect();
        NewSubmission {
            service_item: self.item_id.clone(),
            consent_version: CONSENT_VERSION.into(),
            payload: Payload { fields, materials },
        }
    }

    /// The result of an effect. Returns the next effect, if any (printing after saving).
    pub fn done(&mut self, done: Done, locale: Locale) -> Option<Effect> {
        match done {
            Done::Captured { material, result } => {
                self.capturing = false;
                let m = self.materials.get_mut(material)?;
                match result {
                    Ok(photo) => {
                        m.photo = Some(photo);
                        m.problem = None;
                    }
                    Err(p) => m.problem = Some(p),
                }
                None
            }
            Done::Saved(Err(p)) => {
                if self.step == ApplyStep::Saving {
                    self.step = ApplyStep::Review;
                    self.save_problem = Some(p);
                }
                None
            }
            Done::Saved(Ok(saved)) => {
                if self.step != ApplyStep::Saving {
                    return None;
                }
                // The submission is on storage: the personal data on screen is no longer needed.
                let service = self.service.clone()?;
                self.fields.clear();
                self.materials.clear();
                self.step = ApplyStep::Submitted;
                let queued_offline = !saved.platform_reachable;
                self.submitted = Some(Submitted {
                    tracking_code: saved.tracking_code.clone(),
                    queued_offline,
                    print: PrintState::Printing,
                });
                let digest = crate::outbox::tracking::receipt_digest(
                    &saved.tracking_code,
                    &saved.idempotency_key,
                );
                let receipt = ReceiptInfo {
                    service,
                    qr: format!(
                        "{}{}:{digest}",
                        crate::flows::route::RECEIPT_PREFIX,
                        saved.tracking_code
                    ),
                    tracking_code: saved.tracking_code,
                    saved_at_ms: saved.saved_at_ms,
                    queued_offline,
                    next_step: self.next_step.clone(),
                    locale,
                };
                self.receipt = Some(receipt.clone());
                Some(Effect::Print(receipt))
            }
            Done::TicketIssued(_)
            | Done::TicketPrinted(_)
            | Done::ProgressFound(_)
            | Done::RatingSaved(_)
            | Done::Stats(_)
            | Done::StatusPrinted(_) => None,
            Done::Printed(result) => {
                if let Some(s) = &mut self.submitted {
                    s.print = match result {
                        Ok(()) => PrintState::Printed,
                        Err(p) => PrintState::Failed(p),
                    };
                }
                None
            }
        }
    }

    /// 重新打印 after a printer fault was fixed.
    pub fn reprint(&mut self) -> Option<Effect> {
        let s = self.submitted.as_mut()?;
        if !matches!(s.print, PrintState::Failed(_)) {
            return None;
        }
        s.print = PrintState::Printing;
        self.receipt.clone().map(Effect::Print)
    }
}

impl Default for Application {
    fn default() -> Self {
        Self::new()
    }
}
