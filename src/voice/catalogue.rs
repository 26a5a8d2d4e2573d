//! What the kiosk says: one prompt per page state and notice, in Chinese and English, and
//! [`prompt_for`], the prompt for the flow's state now (pure: the bridge calls it after each
//! refresh and hands a changed prompt to the player).
//!
//! Prompts never carry a citizen's name or ID number. The variable parts are the queue number and
//! the tracking code, said character by character, and the count of people waiting.

use super::transcribe::{code_english, code_pinyin, count_pinyin, transcribe};
use super::{Speech, VoiceLang};
use crate::flows::apply::{ApplyStep, PrintState};
use crate::flows::effect::{CaptureProblem, PrintProblem};
use crate::flows::identify::IdentifyStatus;
use crate::flows::kiosk::{Kiosk, Notice, Page, PaperState};
use crate::flows::progress::ProgressStep;
use crate::flows::rating::RatingStep;
use crate::flows::ticket::TicketStep;
use crate::shared::config::Locale;

/// Every fixed prompt. `{}` in a text is the prompt's variable part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PromptId {
    Home,
    HomePaperOut,
    IdentifyWaiting,
    IdentifyGreeting,
    IdentifyExpired,
    IdentifyRejected,
    IdentifyReaderFault,
    IdentifyEidUnsupported,
    Guide,
    ApplyChoose,
    ApplyForm,
    ApplyFieldMissing,
    ApplyPhoneFormat,
    ApplyTooLong,
    ApplyMaterial,
    /// A photo was taken: check it.
    ApplyPhotoTaken,
    ApplyNoPage,
    ApplyCameraUnavailable,
    ApplyReview,
    ApplyConsentMissing,
    ApplySaving,
    ApplySaveFailed,
    /// `{}`: the tracking code.
    ApplySubmitted,
    /// `{}`: the tracking code.
    ApplyPaperOut,
    /// `{}`: the tracking code.
    ApplyPrinterUnavailable,
    TicketChoose,
    TicketIssuing,
    /// `{}`: the queue number.
    TicketIssued,
    /// `{}`: the number of people ahead (a quantity).
    TicketAhead,
    /// `{}`: the queue number.
    TicketPaperOut,
    TicketFailed,
    ProgressWaiting,
    ProgressLooking,
    ProgressFound,
    ProgressNotFound,
    ProgressFailed,
    RateChoose,
    RateReason,
    RateThanks,
    RateFailed,
    /// `{}`: the seconds left when the countdown appears (said once, not every second).
    IdleCountdown,
    CardRemoved,
    NoticeTimedOut,
    NoticeCodeNotUnderstood,
    NoticeIdentified,
}

impl PromptId {
    pub const ALL: [PromptId; 45] = [
        PromptId::Home,
        PromptId::HomePaperOut,
        PromptId::IdentifyWaiting,
        PromptId::IdentifyGreeting,
        PromptId::IdentifyExpired,
        PromptId::IdentifyRejected,
        PromptId::IdentifyReaderFault,
        PromptId::IdentifyEidUnsupported,
        PromptId::Guide,
        PromptId::ApplyChoose,
        PromptId::ApplyForm,
        PromptId::ApplyFieldMissing,
        PromptId::ApplyPhoneFormat,
        PromptId::ApplyTooLong,
        PromptId::ApplyMaterial,
        PromptId::ApplyPhotoTaken,
        PromptId::ApplyNoPage,
        PromptId::ApplyCameraUnavailable,
        PromptId::ApplyReview,
        PromptId::ApplyConsentMissing,
        PromptId::ApplySaving,
        PromptId::ApplySaveFailed,
        PromptId::ApplySubmitted,
        PromptId::ApplyPaperOut,
        PromptId::ApplyPrinterUnavailable,
        PromptId::TicketChoose,
        PromptId::TicketIssuing,
        PromptId::TicketIssued,
        PromptId::TicketAhead,
        PromptId::TicketPaperOut,
        PromptId::TicketFailed,
        PromptId::ProgressWaiting,
        PromptId::ProgressLooking,
        PromptId::ProgressFound,
        PromptId::ProgressNotFound,
        PromptId::ProgressFailed,
        PromptId::RateChoose,
        PromptId::RateReason,
        PromptId::RateThanks,
        PromptId::RateFailed,
        PromptId::IdleCountdown,
        PromptId::CardRemoved,
        PromptId::NoticeTimedOut,
        PromptId::NoticeCodeNotUnderstood,
        PromptId::NoticeIdentified,
    ];

    /// (Chinese, English).
    pub fn texts(self) -> (&'static str, &'static str) {
        use PromptId::*;
        match self {
            Home => ("欢迎使用政务服务自助终端，请选择要办理的业务。", "Welcome. Please choose what you would like to do."),
            HomePaperOut => ("打印机缺纸，办理结果将显示在屏幕上，请联系工作人员补纸。", "The printer is out of paper. Results will be shown on the screen; please ask the staff to refill it."),
            IdentifyWaiting => ("请将身份证放在感应区。", "Please place your ID card on the reader."),
            IdentifyGreeting => ("已读取您的证件，请点击继续。", "Your card has been read. Please tap Continue."),
            IdentifyExpired => ("证件已过期，请使用有效证件或到人工窗口办理。", "This card has expired. Please use a valid card, or go to a staffed window."),
            IdentifyRejected => ("未能读取证件，请重新放置身份证。", "The card could not be read. Please place your ID card again."),
            IdentifyReaderFault => ("读卡器故障，请联系工作人员。", "The card reader is not working. Please ask the staff."),
            IdentifyEidUnsupported => ("本机不支持电子证照码，请使用身份证。", "This kiosk does not take e-ID codes. Please use your ID card."),
            Guide => ("请选择办事主题，或输入拼音首字母搜索。", "Please choose a topic, or search by the first letters of its pinyin."),
            ApplyChoose => ("请选择要办理的事项。", "Please choose the service you want to apply for."),
            ApplyForm => ("请核对信息，带框的项目请点击后输入，其余信息已从证件读取。", "Please check your details. Tap a framed field to fill it in; the rest was read from your card."),
            ApplyFieldMissing => ("请填写带框的项目。", "Please fill in the framed fields."),
            ApplyPhoneFormat => ("请输入以1开头的11位手机号码。", "Please enter an eleven-digit mobile number starting with one."),
            ApplyTooLong => ("内容过长，请精简到60个字以内。", "This is too long. Please keep it within sixty characters."),
            ApplyMaterial => ("请将材料正面朝上平放在拍摄区内，绿框框住整页后点拍照。", "Place the document face up in the camera area. When the green frame covers the whole page, tap Take photo."),
            ApplyPhotoTaken => ("请确认照片清晰完整；不清楚可以重拍。", "Please check the photo is sharp and complete; retake it if not."),
            ApplyNoPage => ("没有拍到完整的材料，请将材料平放在拍摄区内后重拍。", "The whole page was not found. Lay the document flat in the camera area and retake the photo."),
            ApplyCameraUnavailable => ("拍摄仪暂时无法使用。您可以重试，或选择到窗口补交继续办理。", "The document camera is not available. Try again, or choose to hand it in at a window and go on."),
            ApplyReview => ("请核对申请内容，阅读并同意后点提交。", "Please check your application, read and agree, then tap Submit."),
            ApplyConsentMissing => ("提交前请先阅读并同意上述内容。", "Please read and agree before submitting."),
            ApplySaving => ("正在提交，请稍候。", "Submitting, please wait."),
            ApplySaveFailed => ("暂时无法保存您的申请，请稍后再点提交；如仍不行，请联系工作人员。", "Your application could not be saved just now. Please tap Submit again in a moment, or ask the staff."),
            ApplySubmitted => ("申请已提交。受理编号：{}。请取走回执，凭回执可查询办理进度。", "Your application has been submitted. Tracking code: {}. Please take your receipt."),
            ApplyPaperOut => ("打印机缺纸，回执未能打印。您的申请已保存，请记下受理编号：{}。", "The printer is out of paper. Your application is saved; please note the tracking code: {}."),
            ApplyPrinterUnavailable => ("打印机暂时无法使用，回执未能打印。您的申请已保存，请记下受理编号：{}。", "The printer is not available. Your application is saved; please note the tracking code: {}."),
            TicketChoose => ("请选择业务类别。", "Please choose a queue."),
            TicketIssuing => ("正在打印号票，请稍候。", "Printing your ticket, please wait."),
            TicketIssued => ("您的号码是：{}号。请取走号票，留意叫号。", "Your number is {}. Please take your ticket and listen for your number."),
            TicketAhead => ("前面还有{}人等候。", "{} people are waiting before you."),
            TicketPaperOut => ("打印机缺纸，请记下您的号码：{}号。", "The printer is out of paper. Please note your number: {}."),
            TicketFailed => ("暂时无法取号，请再试一次或咨询工作人员。", "A ticket could not be issued. Please try again or ask the staff."),
            ProgressWaiting => ("请将身份证放在感应区，或将办事回执的二维码对准扫描口。", "Please place your ID card on the reader, or hold your receipt's QR code to the scanner."),
            ProgressLooking => ("正在查询，请稍候。", "Looking it up, please wait."),
            ProgressFound => ("办理进度已显示在屏幕上。", "Your progress is shown on the screen."),
            ProgressNotFound => ("在本机没有找到您的办理记录。", "No applications were found at this kiosk."),
            ProgressFailed => ("暂时无法查询，请稍后再试或咨询工作人员。", "The lookup failed. Please try again later or ask the staff."),
            RateChoose => ("请对本次服务进行评价。", "Please rate our service."),
            RateReason => ("请告诉我们哪里需要改进，点选一项。", "Please tell us what to improve: tap one."),
            RateThanks => ("感谢您的评价，我们会认真改进。", "Thank you for your rating."),
            RateFailed => ("暂时无法保存评价，请稍后再试。", "Your rating could not be saved. Please try again later."),
            IdleCountdown => ("{}秒后将自动退出，并清除您的信息。如需继续，请点击屏幕。", "In {} seconds the session will end and your information will be cleared. Tap the screen to continue."),
            CardRemoved => ("您的证件已移开，是否继续办理？", "Your card was removed. Do you want to continue?"),
            NoticeTimedOut => ("已自动退出，您的信息已清除。", "The session ended and your information was cleared."),
            NoticeCodeNotUnderstood => ("无法识别此二维码。", "This code is not recognised."),
            NoticeIdentified => ("已读取您的证件。", "Your card has been read."),
        }
    }
}

/// A prompt's variable part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot {
    None,
    /// A queue number or a tracking code: said character by character.
    Code(String),
    /// A count: said as a quantity.
    Count(u32),
}

/// What to say: a fixed prompt and its variable part.
#[derive(Clone, PartialEq, Eq)]
pub struct Prompt {
    pub id: PromptId,
    pub slot: Slot,
}

/// Codes are the citizen's: Debug shows their length only.
impl std::fmt::Debug for Prompt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.slot {
            Slot::Code(c) => write!(f, "Prompt({:?}, code of {} chars)", self.id, c.len()),
            other => write!(f, "Prompt({:?}, {:?})", self.id, other),
        }
    }
}

impl Prompt {
    /// Whether `other` says the same thing for the announcer: the countdown's seconds tick
    /// down, but it is said once.
    pub fn same_as(&self, other: &Prompt) -> bool {
        match self.id {
            PromptId::IdleCountdown => other.id == PromptId::IdleCountdown,
            _ => self == other,
        }
    }

    pub fn new(id: PromptId) -> Self {
        Prompt {
            id,
            slot: Slot::None,
        }
    }
    fn with(id: PromptId, slot: Slot) -> Self {
        Prompt { id, slot }
    }

    /// The text the engine gets: pinyin for Chinese, English words for English.
    pub fn speech(&self, locale: Locale) -> Speech {
        let (zh, en) = self.id.texts();
        match locale {
            Locale::ZhCn => {
                let (before, after) = zh.split_once("{}").unwrap_or((zh, ""));
                let slot = match &self.slot {
                    Slot::None => String::new(),
                    Slot::Code(c) => code_pinyin(c),
                    Slot::Count(n) => count_pinyin(*n),
                };
                let parts = [transcribe(before).pinyin, slot, transcribe(after).pinyin];
                let text = parts
                    .iter()
                    .filter(|p| !p.is_empty())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" ");
                Speech {
                    lang: VoiceLang::Pinyin,
                    text,
                    cache: self.slot == Slot::None,
                }
            }
            Locale::En => {
                let slot = match &self.slot {
                    Slot::None => String::new(),
                    Slot::Code(c) => code_english(c),
                    Slot::Count(n) => n.to_string(),
                };
                Speech {
                    lang: VoiceLang::English,
                    text: en.replacen("{}", &slot, 1),
                    cache: self.slot == Slot::None,
                }
            }
        }
    }
}

/// The prompt for what the screen shows now; None on the maintenance screen and while nothing
/// new needs saying (saving a rating). Overlays (idle countdown, card removed, notices) come
/// before the page.
pub fn prompt_for(kiosk: &Kiosk) -> Option<Prompt> {
    use PromptId as P;
    let page = kiosk.page();
    if page == Page::Maintenance {
        return None;
    }
    if let Some(secs) = kiosk.idle_remaining() {
        let secs = u32::try_from(secs).unwrap_or(u32::MAX);
        return Some(Prompt::with(P::IdleCountdown, Slot::Count(secs)));
    }
    if kiosk.card_removed_prompt() {
        return Some(Prompt::new(P::CardRemoved));
    }
    if let Some(n) = kiosk.notice() {
        return Some(Prompt::new(match n {
            Notice::SessionTimedOut => P::NoticeTimedOut,
            Notice::CodeNotUnderstood => P::NoticeCodeNotUnderstood,
            Notice::Identified => P::NoticeIdentified,
        }));
    }
    let id = match page {
        Page::Maintenance => return None,
        Page::Home if kiosk.paper() == PaperState::Out => P::HomePaperOut,
        Page::Home => P::Home,
        Page::Identify => match kiosk.identify_status() {
            IdentifyStatus::Waiting => P::IdentifyWaiting,
            IdentifyStatus::Greeting => P::IdentifyGreeting,
            IdentifyStatus::Expired => P::IdentifyExpired,
            IdentifyStatus::Rejected => P::IdentifyRejected,
            IdentifyStatus::ReaderFault => P::IdentifyReaderFault,
            IdentifyStatus::EidUnsupported => P::IdentifyEidUnsupported,
        },
        Page::Guide => P::Guide,
        Page::Apply => return apply_prompt(kiosk),
        Page::Ticket => return ticket_prompt(kiosk),
        Page::Progress => match kiosk.progress()? {
            ProgressStep::Waiting => P::ProgressWaiting,
            ProgressStep::Looking => P::ProgressLooking,
            ProgressStep::Found(r) if r.rows.is_empty() => P::ProgressNotFound,
            ProgressStep::Found(_) => P::ProgressFound,
            ProgressStep::Failed => P::ProgressFailed,
        },
        Page::Rate => match kiosk.rating()?.step {
            RatingStep::Choose => P::RateChoose,
            RatingStep::Reason { .. } => P::RateReason,
            RatingStep::Saving => return None,
            RatingStep::Thanks => P::RateThanks,
            RatingStep::Failed => P::RateFailed,
        },
    };
    Some(Prompt::new(id))
}

fn apply_prompt(kiosk: &Kiosk) -> Option<Prompt> {
    use crate::flows::apply::form::FieldProblem;
    use PromptId as P;
    let app = kiosk.application()?;
    let id = match app.step {
        ApplyStep::Choose => P::ApplyChoose,
        ApplyStep::Form => match app.fields.iter().find_map(|f| f.problem) {
            Some(FieldProblem::Missing) => P::ApplyFieldMissing,
            Some(FieldProblem::PhoneFormat) => P::ApplyPhoneFormat,
            Some(FieldProblem::TooLong) => P::ApplyTooLong,
            None => P::ApplyForm,
        },
        ApplyStep::Material(n) => match app.materials.get(n) {
            Some(m) if m.problem == Some(CaptureProblem::NoPage) => P::ApplyNoPage,
            Some(m) if m.problem == Some(CaptureProblem::CameraUnavailable) => {
                P::ApplyCameraUnavailable
            }
            Some(m) if m.photo.is_some() => P::ApplyPhotoTaken,
            _ => P::ApplyMaterial,
        },
        ApplyStep::Review if app.save_problem.is_some() => P::ApplySaveFailed,
        ApplyStep::Review if app.consent_missing => P::ApplyConsentMissing,
        ApplyStep::Review => P::ApplyReview,
        ApplyStep::Saving => P::ApplySaving,
        ApplyStep::Submitted => {
            let s = app.submitted.as_ref()?;
            let code = Slot::Code(s.tracking_code.clone());
            let id = match s.print {
                PrintState::Failed(PrintProblem::PaperOut) => P::ApplyPaperOut,
                PrintState::Failed(PrintProblem::PrinterUnavailable) => P::ApplyPrinterUnavailable,
                PrintState::Printing | PrintState::Printed => P::ApplySubmitted,
            };
            return Some(Prompt::with(id, code));
        }
    };
    Some(Prompt::new(id))
}

fn ticket_prompt(kiosk: &Kiosk) -> Option<Prompt> {
    use PromptId as P;
    Some(match &kiosk.ticket()?.step {
        TicketStep::Choose => Prompt::new(P::TicketChoose),
        TicketStep::Issuing => Prompt::new(P::TicketIssuing),
        TicketStep::Failed => Prompt::new(P::TicketFailed),
        TicketStep::Issued { ticket, print } => {
            let code = Slot::Code(ticket.number.clone());
            match print {
                Some(Err(_)) => Prompt::with(P::TicketPaperOut, code),
                _ => Prompt::with(P::TicketIssued, code),
            }
        }
    })
}

/// The prompts that follow the main one on the same screen (the people waiting after the number).
pub fn follow_up(kiosk: &Kiosk) -> Option<Prompt> {
    if kiosk.page() != Page::Ticket {
        return None;
    }
    match &kiosk.ticket()?.step {
        TicketStep::Issued { ticket, .. } => ticket
            .ahead
            .map(|n| Prompt::with(PromptId::TicketAhead, Slot::Count(n))),
        _ => None,
    }
}

/// Every prompt's Chinese text and transcription, one `PromptId<TAB>中文<TAB>pinyin` line each:
/// the reviewed file `src/voice/transcripts.txt` must equal this.
pub fn transcripts() -> String {
    let mut out = String::new();
    for id in PromptId::ALL {
        let (zh, _) = id.texts();
        let parts: Vec<_> = zh.split("{}").map(transcribe).collect();
        let pinyin: Vec<&str> = parts.iter().map(|t| t.pinyin.as_str()).collect();
        out.push_str(&format!("{id:?}\t{zh}\t{}", pinyin.join(" {} ").trim()));
        let unread: Vec<char> = parts.iter().flat_map(|t| t.unread.clone()).collect();
        if !unread.is_empty() {
            out.push_str(&format!("\tUNREAD {unread:?}"));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_prompt_once() {
        let mut ids = PromptId::ALL.to_vec();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), PromptId::ALL.len());
    }

    /// Like the translations test: the committed, reviewed transcriptions are the ones the code
    /// makes now. After changing a prompt or an override, run
    /// `VOICE_BLESS=1 cargo test -p hallkiosk --lib voice::catalogue` and review the diff.
    #[test]
    fn transcriptions_are_reviewed_and_not_stale() {
        let now = transcripts();
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/voice/transcripts.txt");
        if std::env::var_os("VOICE_BLESS").is_some() {
            std::fs::write(path, &now).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            !now.contains("UNREAD"),
            "characters without a reading:\n{now}"
        );
        if committed != now {
            let diff: Vec<String> = now
                .lines()
                .filter(|l| !committed.lines().any(|c| c == *l))
                .map(|l| format!("  {l}"))
                .collect();
            panic!(
                "src/voice/transcripts.txt is stale; new or changed lines:\n{}\n\
                 review them and run VOICE_BLESS=1 cargo test -p hallkiosk --lib voice::catalogue",
                diff.join("\n")
            );
        }
    }

    #[test]
    fn codes_are_spoken_character_by_character() {
        let p = Prompt::with(PromptId::TicketIssued, Slot::Code("A023".into()));
        let zh = p.speech(Locale::ZhCn);
        assert_eq!(zh.lang, VoiceLang::Pinyin);
        assert!(zh.text.contains("A ling2 er4 san1 hao4"), "{}", zh.text);
        let en = p.speech(Locale::En);
        assert!(en.text.contains("A, zero, 2, 3"), "{}", en.text);
        let c = Prompt::with(PromptId::TicketAhead, Slot::Count(23));
        assert!(c.speech(Locale::ZhCn).text.contains("er4 shi2 san1 ren2"));
    }

    mod flow {
        use super::super::*;
        use crate::flows::effect::{Done, Effect, Ticket};
        use crate::flows::kiosk::{Entry, FlowSettings, Intent};
        use crate::flows::ticket::TicketIntent;
        use crate::shared::catalog::Catalog;
        use hallkiosk_drivers::event::DeviceEvent;
        use hallkiosk_drivers::sim::fixtures::CardFixture;
        use std::time::Duration;

        fn kiosk() -> Kiosk {
            let s = Duration::from_secs(1);
            let settings = FlowSettings {
                idle: 60 * s,
                countdown: 20 * s,
                elder_factor: 2.0,
                default_locale: Locale::ZhCn,
            };
            Kiosk::new(settings, Catalog::bundled().unwrap())
        }
        fn id(k: &Kiosk) -> Option<PromptId> {
            prompt_for(k).map(|p| p.id)
        }

        #[test]
        fn pages_and_overlays_have_their_prompts() {
            let mut k = kiosk();
            assert_eq!(id(&k), Some(PromptId::Home));
            k.intent(Intent::Open(Entry::Ticket));
            assert_eq!(id(&k), Some(PromptId::IdentifyWaiting));
            let card = CardFixture::Resident.card();
            k.device_event(DeviceEvent::CardPresented(Box::new(card)), "2026-11-22");
            assert_eq!(id(&k), Some(PromptId::IdentifyGreeting));
            k.intent(Intent::IdentifyContinue);
            assert_eq!(id(&k), Some(PromptId::TicketChoose));
            k.intent(Intent::Ticket(TicketIntent::ChooseQueue("B".into())));
            let effects = k.take_effects();
            let [Effect::IssueTicket { category, .. }] = &effects[..] else {
                panic!("{effects:?}")
            };
            assert_eq!(id(&k), Some(PromptId::TicketIssuing));
            let ticket = Ticket {
                number: "B007".into(),
                category: category.clone(),
                ahead: Some(3),
                issued_at_ms: 0,
                local: false,
                locale: Locale::ZhCn,
            };
            k.done(Done::TicketIssued(Ok(ticket)));
            let p = prompt_for(&k).unwrap();
            assert_eq!(p.id, PromptId::TicketIssued);
            assert_eq!(p.slot, Slot::Code("B007".into()));
            assert_eq!(follow_up(&k).unwrap().slot, Slot::Count(3));
            // the idle countdown comes before the page
            k.tick(Duration::from_secs(61));
            let countdown = prompt_for(&k).unwrap();
            assert_eq!(countdown.id, PromptId::IdleCountdown);
            assert_eq!(countdown.slot, Slot::Count(19));
            k.tick(Duration::from_secs(1));
            assert!(prompt_for(&k).unwrap().same_as(&countdown), "said once");
            // …and the session's end is announced, the code gone
            k.tick(Duration::from_secs(25));
            assert_eq!(id(&k), Some(PromptId::NoticeTimedOut));
        }

        #[test]
        fn the_maintenance_screen_is_silent() {
            let mut k = kiosk();
            k.intent(Intent::OpenMaintenance);
            assert_eq!(k.page(), Page::Maintenance);
            assert_eq!(id(&k), None);
        }
    }

    #[test]
    fn debug_hides_codes() {
        let p = Prompt::with(PromptId::ApplySubmitted, Slot::Code("HK7Q2M9X".into()));
        assert!(!format!("{p:?}").contains("HK7Q"));
    }
}
