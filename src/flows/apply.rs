//! The application (办事) flow after identification: item → form → one step per material → review
//! and consent → saved to the outbox → receipt.
//!
//! Everything the citizen entered lives in one [`Application`] value inside the kiosk's state and is
//! zeroized when it goes (session end, going home, a new card). The flow asks for work it cannot do
//! itself — a photo, saving, printing — as [`Effect`]s, and learns the results as [`Done`]; the
//! bridge runs them on worker threads. Saving comes strictly before printing: a receipt is only
//! printed for a submission already on storage, and a printer fault never touches it.

use super::pinyin_input;
use crate::outbox::{Material, NewSubmission, Payload};
use crate::shared::catalog::{ServiceItem, Text};
use crate::shared::config::Locale;
use hallkiosk_drivers::idcard::{nation_name, IdCard};
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

/// Longest text a text field takes, in characters.
pub const TEXT_MAX: usize = 60;
/// How many pinyin candidates the keyboard shows at once.
pub const CANDIDATES: usize = 12;

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

/// The form's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKey {
    Name,
    Gender,
    Nation,
    BirthDate,
    Address,
    IdNumber,
    Phone,
    MailingAddress,
}

/// Which keyboard a field uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyboard {
    /// Read from the card, not editable.
    None,
    Digits,
    /// Full keyboard with pinyin input.
    Pinyin,
}

impl FieldKey {
    /// The name of the field in the submission sent to the platform.
    pub fn wire_name(self) -> &'static str {
        match self {
            FieldKey::Name => "name",
            FieldKey::Gender => "gender",
            FieldKey::Nation => "nation",
            FieldKey::BirthDate => "birth_date",
            FieldKey::Address => "address",
            FieldKey::IdNumber => "id_number",
            FieldKey::Phone => "phone",
            FieldKey::MailingAddress => "mailing_address",
        }
    }

    pub fn label(self) -> Text2 {
        let (zh, en) = match self {
            FieldKey::Name => ("姓名", "Name"),
            FieldKey::Gender => ("性别", "Sex"),
            FieldKey::Nation => ("民族", "Ethnic group"),
            FieldKey::BirthDate => ("出生日期", "Date of birth"),
            FieldKey::Address => ("住址", "Address"),
            FieldKey::IdNumber => ("公民身份号码", "ID number"),
            FieldKey::Phone => ("联系电话", "Mobile phone"),
            FieldKey::MailingAddress => ("通讯地址", "Mailing address"),
        };
        Text2 { zh, en }
    }

    pub fn keyboard(self) -> Keyboard {
        match self {
            FieldKey::Phone => Keyboard::Digits,
            FieldKey::MailingAddress => Keyboard::Pinyin,
            _ => Keyboard::None,
        }
    }
}

/// What is wrong with a field, in plain words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldProblem {
    Missing,
    PhoneFormat,
    TooLong,
}

impl FieldProblem {
    pub fn text(self) -> Text2 {
        match self {
            FieldProblem::Missing => Text2 {
                zh: "请填写此项",
                en: "Please fill this in",
            },
            FieldProblem::PhoneFormat => Text2 {
                zh: "请输入以1开头的11位手机号码",
                en: "Enter an 11-digit mobile number starting with 1",
            },
            FieldProblem::TooLong => Text2 {
                zh: "内容过长，请精简到60个字以内",
                en: "Too long: at most 60 characters",
            },
        }
    }
}

#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Field {
    #[zeroize(skip)]
    pub key: FieldKey,
    pub value: String,
    #[zeroize(skip)]
    pub problem: Option<FieldProblem>,
}

impl Field {
    /// The value as the screen shows it: the ID number masked.
    pub fn shown(&self) -> String {
        match self.key {
            FieldKey::IdNumber => hallkiosk_drivers::idcard::mask_middle(&self.value, 3, 4),
            _ => self.value.clone(),
        }
    }

    fn check(&self) -> Option<FieldProblem> {
        let v = self.value.trim();
        match self.key {
            FieldKey::Phone => {
                if v.is_empty() {
                    Some(FieldProblem::Missing)
                } else if v.len() != 11
                    || !v.starts_with('1')
                    || !v.bytes().all(|b| b.is_ascii_digit())
                {
                    Some(FieldProblem::PhoneFormat)
                } else {
                    None
                }
            }
            FieldKey::MailingAddress => {
                if v.is_empty() {
                    Some(FieldProblem::Missing)
                } else if v.chars().count() > TEXT_MAX {
                    Some(FieldProblem::TooLong)
                } else {
                    None
                }
            }
            _ => None,
        }
    }
}

/// A photographed material page: cropped to the page and compressed (JPEG, ≤ 300 KB).
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Photo {
    pub jpeg: Vec<u8>,
    #[zeroize(skip)]
    pub width: u32,
    #[zeroize(skip)]
    pub height: u32,
}

impl std::fmt::Debug for Photo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Photo({}x{}, {} bytes)",
            self.width,
            self.height,
            self.jpeg.len()
        )
    }
}

/// One required material and what became of it.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct MaterialStep {
    #[zeroize(skip)]
    pub name: Text,
    pub photo: Option<Photo>,
    /// The citizen will hand it in at a window (the camera could not take it).
    #[zeroize(skip)]
    pub deferred: bool,
    #[zeroize(skip)]
    pub problem: Option<CaptureProblem>,
}

/// Why a photo could not be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureProblem {
    /// The document camera is unplugged or not answering.
    CameraUnavailable,
    /// No page found in the picture.
    NoPage,
}

impl CaptureProblem {
    pub fn text(self) -> Text2 {
        match self {
            CaptureProblem::CameraUnavailable => Text2 {
                zh: "拍摄仪暂时无法使用。您可以重试，或选择“到窗口补交”继续办理",
                en: "The document camera is not available. Try again, or choose “Hand in at a window” to go on",
            },
            CaptureProblem::NoPage => Text2 {
                zh: "没有拍到完整的材料，请将材料平放在拍摄区内后重拍",
                en: "No page was found: lay the document flat in the marked area and try again",
            },
        }
    }
}

/// Why printing the receipt did not work (the submission is saved regardless).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrintProblem {
    PaperOut,
    PrinterUnavailable,
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

/// Why saving failed (the application stays on screen, nothing is lost).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveProblem(pub String);

/// Everything a receipt needs from the flow; the bridge adds the hall, kiosk and printer.
#[derive(Clone, PartialEq, Eq)]
pub struct ReceiptInfo {
    pub service: Text,
    pub tracking_code: String,
    /// The text of the receipt's QR code: `HKR1:<tracking code>:<digest>`.
    pub qr: String,
    pub saved_at_ms: i64,
    pub queued_offline: bool,
    pub locale: Locale,
}

impl std::fmt::Debug for ReceiptInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiptInfo")
            .field("tracking_code", &self.tracking_code)
            .finish_non_exhaustive()
    }
}

/// Work the flow asks the bridge to do.
#[derive(Debug)]
pub enum Effect {
    /// Take a photo of material `material` with the document camera.
    Capture {
        material: usize,
    },
    /// Save the submission to the outbox (durably) and report [`Done::Saved`].
    Save(NewSubmission),
    /// Print the receipt and report [`Done::Printed`].
    Print(ReceiptInfo),
    /// A queue ticket from the hall's queue system, else numbered locally: [`Done::TicketIssued`].
    IssueTicket {
        category: crate::shared::config::QueueCategory,
        locale: Locale,
    },
    PrintTicket(super::hall::Ticket),
    /// This person's or this receipt's submissions: [`Done::ProgressFound`].
    LookupProgress(super::hall::ProgressLookup),
    SaveRating(crate::outbox::NewRating),
    /// Outbox and sync numbers for the maintenance screen: [`Done::Stats`].
    MaintenanceStats,
    /// The maintenance screen's status page (lines of text, nothing personal).
    PrintStatusPage(Vec<String>),
}

/// A saved submission, as the outbox reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub tracking_code: String,
    pub idempotency_key: String,
    pub saved_at_ms: i64,
    /// Whether the sync daemon reached the platform recently.
    pub platform_reachable: bool,
}

/// The result of an [`Effect`].
#[derive(Debug)]
pub enum Done {
    Captured {
        material: usize,
        result: Result<Photo, CaptureProblem>,
    },
    Saved(Result<Saved, SaveProblem>),
    Printed(Result<(), PrintProblem>),
    TicketIssued(Result<super::hall::Ticket, String>),
    TicketPrinted(Result<(), PrintProblem>),
    ProgressFound(Result<super::hall::ProgressReport, String>),
    RatingSaved(Result<(), String>),
    Stats(Result<super::hall::MaintenanceStats, String>),
    StatusPrinted(Result<(), PrintProblem>),
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
    pub materials: Vec<MaterialStep>,
    /// Materials the card read covers (居民身份证原件): never asked for again.
    #[zeroize(skip)]
    pub covered_by_card: Vec<Text>,
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

/// Whether a catalog material is the identity card itself (already read from the chip).
fn is_identity_card(m: &Text) -> bool {
    m.zh.starts_with("居民身份证") || m.zh == "法定代表人身份证"
}

impl Application {
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
            materials: Vec::new(),
            covered_by_card: Vec::new(),
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
        let nation = nation_name(&card.nation_code)
            .map(|n| format!("{n}族").replace("族族", "族"))
            .unwrap_or_default();
        let name = if card.name.trim().is_empty() {
            card.english_name.clone()
        } else {
            card.name.clone()
        };
        let address = card.address.clone();
        let mut fields = vec![
            (FieldKey::Name, name),
            (FieldKey::Gender, gender),
            (FieldKey::Nation, nation),
            (FieldKey::BirthDate, card.birth_date.clone()),
            (FieldKey::Address, address.clone()),
            (FieldKey::IdNumber, card.id_number.clone()),
            (FieldKey::Phone, String::new()),
            (FieldKey::MailingAddress, address),
        ];
        // Fields the card layout does not have (a foreign card's nation or address) are not shown.
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
        self.covered_by_card = item
            .materials
            .iter()
            .filter(|m| is_identity_card(m))
            .cloned()
            .collect();
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

    /// The keyboard the focused field uses.
    pub fn keyboard(&self) -> Keyboard {
        self.focus
            .and_then(|i| self.fields.get(i))
            .map_or(Keyboard::None, |f| f.key.keyboard())
    }

    /// The material whose live camera preview should be on screen: a material step without a
    /// photo yet (the preview stays on while capturing, so the capture takes the open stream).
    pub fn preview_material(&self) -> Option<usize> {
        match self.step {
            ApplyStep::Material(n) if self.materials.get(n)?.photo.is_none() => Some(n),
            _ => None,
        }
    }

    /// Pinyin candidates for the letters typed.
    pub fn candidates(&self) -> Vec<char> {
        pinyin_input::candidates(&self.pinyin, CANDIDATES)
    }

    pub fn focus(&mut self, index: usize) {
        if self
            .fields
            .get(index)
            .is_some_and(|f| f.key.keyboard() != Keyboard::None)
        {
            self.focus = Some(index);
            self.pinyin.clear();
        }
    }

    /// A key on the on-screen keyboard: a digit on the digits pad, a letter (pinyin) or a digit on
    /// the full keyboard.
    pub fn key(&mut self, c: char) {
        let Some(i) = self.focus else { return };
        let keyboard = self.keyboard();
        let field = &mut self.fields[i];
        match keyboard {
            Keyboard::None => {}
            Keyboard::Digits => {
                if c.is_ascii_digit() && field.value.len() < 11 {
                    field.value.push(c);
                    field.problem = None;
                }
            }
            Keyboard::Pinyin => {
                if c.is_ascii_alphabetic() {
                    let mut next = self.pinyin.clone();
                    next.push(c.to_ascii_lowercase());
                    if pinyin_input::is_prefix(&next) {
                        self.pinyin = next;
                    }
                } else if field.value.chars().count() < TEXT_MAX
                    && (c.is_ascii_digit() || "-#（）()、，,".contains(c))
                {
                    field.value.push(c);
                    field.problem = None;
                }
            }
        }
    }

    /// A candidate character picked: it goes into the field and the typed letters are cleared.
    pub fn pick(&mut self, c: char) {
        let Some(i) = self.focus else { return };
        if self.keyboard() != Keyboard::Pinyin || !self.candidates().contains(&c) {
            return;
        }
        let field = &mut self.fields[i];
        if field.value.chars().count() < TEXT_MAX {
            field.value.push(c);
            field.problem = None;
        }
        self.pinyin.clear();
    }

    /// Backspace: a typed pinyin letter first, else the field's last character.
    pub fn backspace(&mut self) {
        let Some(i) = self.focus else { return };
        if self.pinyin.pop().is_some() {
            return;
        }
        if self.keyboard() != Keyboard::None {
            self.fields[i].value.pop();
        }
    }

    /// Clears the focused field (a long address the citizen wants to retype).
    pub fn clear_field(&mut self) {
        let Some(i) = self.focus else { return };
        if self.keyboard() != Keyboard::None {
            self.fields[i].value.zeroize();
            self.pinyin.clear();
        }
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
                ApplyStep::Choose
            }
            ApplyStep::Material(0) => ApplyStep::Form,
            ApplyStep::Material(n) => ApplyStep::Material(n - 1),
            ApplyStep::Review => match self.materials.len() {
                0 => ApplyStep::Form,
                n => ApplyStep::Material(n - 1),
            },
            // Saving cannot be undone from the screen, and a submitted application is finished.
            ApplyStep::Saving | ApplyStep::Submitted => return true,
        };
        true
    }

    /// 拍照 on the current material step.
    pub fn capture(&mut self) -> Option<Effect> {
        let ApplyStep::Material(n) = self.step else {
            return None;
        };
        if self.capturing {
            return None;
        }
        self.capturing = true;
        self.materials[n].problem = None;
        Some(Effect::Capture { material: n })
    }

    /// 重拍: the photo is dropped.
    pub fn retake(&mut self) {
        if let ApplyStep::Material(n) = self.step {
            self.materials[n].photo = None;
        }
    }

    /// 到窗口补交: the camera failed; the citizen hands this material in at a window.
    pub fn defer_material(&mut self) {
        if let ApplyStep::Material(n) = self.step {
            let m = &mut self.materials[n];
            if m.problem == Some(CaptureProblem::CameraUnavailable) {
                m.deferred = true;
                m.photo = None;
                self.step = self.after_materials_from(n + 1);
            }
        }
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
                        super::route::RECEIPT_PREFIX,
                        saved.tracking_code
                    ),
                    tracking_code: saved.tracking_code,
                    saved_at_ms: saved.saved_at_ms,
                    queued_offline,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared::catalog::Catalog;
    use hallkiosk_drivers::sim::fixtures::CardFixture;

    fn started(item: &str) -> Application {
        let catalog = Catalog::bundled().unwrap();
        let mut a = Application::new();
        a.start(catalog.item(item).unwrap(), &CardFixture::Resident.card());
        a
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
            get(FieldKey::IdNumber).shown(),
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
        assert_eq!(a.keyboard(), Keyboard::Digits, "the phone is focused first");
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
        let i = a
            .fields
            .iter()
            .position(|f| f.key == FieldKey::MailingAddress)
            .unwrap();
        a.focus(i);
        a.clear_field();
        for c in "lu".chars() {
            a.key(c);
        }
        a.key('x'); // "lux" is no syllable: refused
        assert_eq!(a.pinyin, "lu");
        assert!(a.candidates().contains(&'路'));
        a.pick('路');
        a.key('8');
        a.key('8');
        for c in "hao".chars() {
            a.key(c);
        }
        a.pick('号');
        assert_eq!(a.fields[i].value, "路88号");
        a.pick('号'); // nothing typed: no candidates, nothing added
        assert_eq!(a.fields[i].value, "路88号");
        a.key('h');
        a.backspace();
        assert_eq!(a.pinyin, "");
        assert_eq!(a.fields[i].value, "路88号");
        a.backspace();
        assert_eq!(a.fields[i].value, "路88");
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
}
