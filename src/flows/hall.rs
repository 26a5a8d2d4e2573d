//! The shorter citizen tasks and the technicians' screen: queue tickets (取号), progress queries
//! (查询进度), ratings (好差评) and maintenance. Like the application flow, each asks for work as
//! [`Effect`]s and learns the outcome as [`Done`]; none holds personal data beyond the session.

use super::apply::{Effect, PrintProblem, Text2};
use crate::outbox::{NewRating, Progress};
use crate::shared::config::{Locale, QueueCategory};

// ---------------------------------------------------------------------------------------------
// Queue tickets

/// A queue ticket as issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// The number called out and shown on the hall's screens, e.g. `A023` or `K1-A007`.
    pub number: String,
    pub category: QueueCategory,
    /// People waiting before this ticket, when the hall's queue system said.
    pub ahead: Option<u32>,
    pub issued_at_ms: i64,
    /// Numbered by the kiosk because the hall's queue system could not be reached.
    pub local: bool,
    pub locale: Locale,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketStep {
    Choose,
    Issuing,
    Issued {
        ticket: Ticket,
        print: Option<Result<(), PrintProblem>>,
    },
    /// Not even a local number could be given (the kiosk's storage failed).
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketDesk {
    pub step: TicketStep,
}

impl TicketDesk {
    pub fn new() -> Self {
        TicketDesk {
            step: TicketStep::Choose,
        }
    }

    pub fn choose(&mut self, category: QueueCategory, locale: Locale) -> Option<Effect> {
        if self.step != TicketStep::Choose && self.step != TicketStep::Failed {
            return None;
        }
        self.step = TicketStep::Issuing;
        Some(Effect::IssueTicket { category, locale })
    }

    pub fn issued(&mut self, result: Result<Ticket, String>) -> Option<Effect> {
        if self.step != TicketStep::Issuing {
            return None;
        }
        match result {
            Ok(ticket) => {
                self.step = TicketStep::Issued {
                    ticket: ticket.clone(),
                    print: None,
                };
                Some(Effect::PrintTicket(ticket))
            }
            Err(e) => {
                tracing::error!("no queue ticket: {e}");
                self.step = TicketStep::Failed;
                None
            }
        }
    }

    pub fn printed(&mut self, result: Result<(), PrintProblem>) {
        if let TicketStep::Issued { print, .. } = &mut self.step {
            *print = Some(result);
        }
    }
}

impl Default for TicketDesk {
    fn default() -> Self {
        Self::new()
    }
}

// ---------------------------------------------------------------------------------------------
// Progress

/// What the progress page looks up.
#[derive(Clone, PartialEq, Eq)]
pub enum ProgressLookup {
    /// A scanned receipt's tracking code.
    Code(String),
    /// The placed card's ID number (compared through its keyed reference, never stored).
    Person(zeroize::Zeroizing<String>),
}

impl std::fmt::Debug for ProgressLookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProgressLookup::Code(c) => write!(f, "Code({c})"),
            ProgressLookup::Person(_) => f.write_str("Person(..)"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgressStep {
    /// 请放置身份证或扫描回执二维码.
    Waiting,
    Looking,
    Found(ProgressReport),
    Failed,
}

/// What a progress lookup found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProgressReport {
    pub rows: Vec<Progress>,
    /// The platform states were asked just now (else they are the last synced ones).
    pub live: bool,
}

/// A submission's local state in plain words.
pub fn local_state_text(state: &str) -> Text2 {
    let (zh, en) = match state {
        "queued" => ("已保存，等待联网提交", "Saved, waiting to be sent"),
        "sending" => ("正在提交", "Being sent"),
        "accepted" => ("已提交至平台", "Sent to the platform"),
        "rejected" => (
            "平台未受理，请到窗口咨询",
            "Not accepted by the platform; please ask at a window",
        ),
        _ => ("状态未知", "Unknown state"),
    };
    Text2 { zh, en }
}

/// The platform's review state in plain words (unknown states are shown as they are).
pub fn platform_state_text(state: &str) -> Option<Text2> {
    let (zh, en) = match state {
        "received" => ("平台已接收，等待审核", "Received, waiting for review"),
        "in_review" => ("审核中", "Under review"),
        "approved" => ("审核通过", "Approved"),
        "completed" => ("已办结", "Completed"),
        "returned" => (
            "需补正材料，请留意短信通知",
            "More documents needed; watch for a text message",
        ),
        "refused" => ("不予受理", "Refused"),
        _ => return None,
    };
    Some(Text2 { zh, en })
}

// ---------------------------------------------------------------------------------------------
// Ratings

/// The five levels, best first.
pub const LEVELS: [Text2; 5] = [
    Text2 {
        zh: "非常满意",
        en: "Very satisfied",
    },
    Text2 {
        zh: "满意",
        en: "Satisfied",
    },
    Text2 {
        zh: "基本满意",
        en: "Fairly satisfied",
    },
    Text2 {
        zh: "不满意",
        en: "Dissatisfied",
    },
    Text2 {
        zh: "非常不满意",
        en: "Very dissatisfied",
    },
];

/// Reasons offered below 满意: (code sent to the platform, text).
pub const REASONS: [(&str, Text2); 6] = [
    (
        "long_wait",
        Text2 {
            zh: "等待时间长",
            en: "Long wait",
        },
    ),
    (
        "hard_to_use",
        Text2 {
            zh: "操作复杂",
            en: "Hard to use",
        },
    ),
    (
        "device_fault",
        Text2 {
            zh: "设备故障",
            en: "Device did not work",
        },
    ),
    (
        "unclear_materials",
        Text2 {
            zh: "材料要求不清楚",
            en: "Unclear what to bring",
        },
    ),
    (
        "staff",
        Text2 {
            zh: "工作人员服务",
            en: "Staff service",
        },
    ),
    (
        "other",
        Text2 {
            zh: "其他",
            en: "Other",
        },
    ),
];

/// Level numbers as stored: 5 非常满意 … 1 非常不满意. `index` is the position in [`LEVELS`].
pub fn level_of(index: usize) -> Option<u8> {
    (index < LEVELS.len()).then(|| 5 - index as u8)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RatingStep {
    Choose,
    /// Below 满意: one tap on a reason.
    Reason {
        level: u8,
    },
    Saving,
    Thanks,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingDesk {
    pub step: RatingStep,
    /// What is rated: the service applied for in this session, if any.
    pub service_item: Option<String>,
    pub tracking_code: Option<String>,
}

impl RatingDesk {
    pub fn new(service_item: Option<String>, tracking_code: Option<String>) -> Self {
        RatingDesk {
            step: RatingStep::Choose,
            service_item,
            tracking_code,
        }
    }

    /// A level tapped; 满意 and better are saved at once, lower ones ask for a reason first.
    pub fn level(&mut self, index: usize) -> Option<Effect> {
        if !matches!(self.step, RatingStep::Choose | RatingStep::Reason { .. }) {
            return None;
        }
        let level = level_of(index)?;
        if level >= 4 {
            return self.save(level, None);
        }
        self.step = RatingStep::Reason { level };
        None
    }

    pub fn reason(&mut self, index: usize) -> Option<Effect> {
        let RatingStep::Reason { level } = self.step else {
            return None;
        };
        let (code, _) = REASONS.get(index)?;
        self.save(level, Some(code.to_string()))
    }

    fn save(&mut self, level: u8, reason: Option<String>) -> Option<Effect> {
        self.step = RatingStep::Saving;
        Some(Effect::SaveRating(NewRating {
            service_item: self.service_item.clone(),
            tracking_code: self.tracking_code.clone(),
            level,
            reason,
        }))
    }

    pub fn saved(&mut self, result: Result<(), String>) {
        if self.step == RatingStep::Saving {
            self.step = match result {
                Ok(()) => RatingStep::Thanks,
                Err(e) => {
                    tracing::error!("rating not saved: {e}");
                    RatingStep::Failed
                }
            };
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Maintenance

/// Numbers for the maintenance screen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MaintenanceStats {
    pub outbox_depth: i64,
    pub oldest_unacknowledged_secs: Option<i64>,
    pub rejected: i64,
    pub ratings_waiting: i64,
    /// When the sync daemon last reached the platform (ms since the epoch).
    pub last_contact_ms: Option<i64>,
    pub platform_reachable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maintenance {
    pub unlocked: bool,
    pub pin: zeroize::Zeroizing<String>,
    pub wrong_pin: bool,
    pub stats: Option<Result<MaintenanceStats, String>>,
    pub status_print: Option<Result<(), PrintProblem>>,
}

/// Longest PIN accepted on the pad.
pub const PIN_MAX: usize = 12;

impl Maintenance {
    pub fn locked() -> Self {
        Maintenance {
            unlocked: false,
            pin: zeroize::Zeroizing::new(String::new()),
            wrong_pin: false,
            stats: None,
            status_print: None,
        }
    }

    pub fn unlocked() -> Self {
        Maintenance {
            unlocked: true,
            ..Self::locked()
        }
    }

    pub fn key(&mut self, c: char) {
        if !self.unlocked && c.is_ascii_digit() && self.pin.len() < PIN_MAX {
            self.pin.push(c);
            self.wrong_pin = false;
        }
    }

    pub fn backspace(&mut self) {
        self.pin.pop();
    }

    pub fn clear(&mut self) {
        self.pin.clear();
    }

    /// 确定 on the PIN pad; `ok` checks the PIN. Unlocking asks for the numbers.
    pub fn enter(&mut self, ok: impl Fn(&str) -> bool) -> Option<Effect> {
        if self.unlocked {
            return None;
        }
        if ok(&self.pin) {
            self.unlocked = true;
            self.pin.clear();
            Some(Effect::MaintenanceStats)
        } else {
            self.wrong_pin = true;
            self.pin.clear();
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn category() -> QueueCategory {
        crate::shared::config::HallSection::default().queue_categories[0].clone()
    }

    #[test]
    fn a_ticket_is_issued_then_printed() {
        let mut d = TicketDesk::new();
        let Some(Effect::IssueTicket { category: c, .. }) = d.choose(category(), Locale::ZhCn)
        else {
            panic!()
        };
        assert_eq!(c.code.0, "A");
        assert!(
            d.choose(category(), Locale::ZhCn).is_none(),
            "one at a time"
        );
        let t = Ticket {
            number: "K1-A001".into(),
            category: c,
            ahead: None,
            issued_at_ms: 0,
            local: true,
            locale: Locale::ZhCn,
        };
        assert!(matches!(d.issued(Ok(t)), Some(Effect::PrintTicket(_))));
        d.printed(Err(PrintProblem::PaperOut));
        assert!(matches!(
            d.step,
            TicketStep::Issued {
                print: Some(Err(PrintProblem::PaperOut)),
                ..
            }
        ));
    }

    #[test]
    fn a_failed_ticket_can_be_tried_again() {
        let mut d = TicketDesk::new();
        d.choose(category(), Locale::ZhCn);
        assert!(d.issued(Err("disk".into())).is_none());
        assert_eq!(d.step, TicketStep::Failed);
        assert!(d.choose(category(), Locale::ZhCn).is_some());
    }

    #[test]
    fn satisfied_ratings_save_at_once_lower_ones_ask_why() {
        let mut r = RatingDesk::new(Some("P-TAX-001".into()), None);
        let Some(Effect::SaveRating(n)) = r.level(1) else {
            panic!()
        };
        assert_eq!((n.level, n.reason.as_deref()), (4, None));
        assert_eq!(n.service_item.as_deref(), Some("P-TAX-001"));
        r.saved(Ok(()));
        assert_eq!(r.step, RatingStep::Thanks);

        let mut r = RatingDesk::new(None, None);
        assert!(r.level(2).is_none(), "基本满意 asks for a reason");
        assert_eq!(r.step, RatingStep::Reason { level: 3 });
        let Some(Effect::SaveRating(n)) = r.reason(0) else {
            panic!()
        };
        assert_eq!((n.level, n.reason.as_deref()), (3, Some("long_wait")));
        assert!(r.level(9).is_none());
        assert!(r.reason(0).is_none(), "already saving");
    }

    #[test]
    fn level_numbers() {
        assert_eq!(level_of(0), Some(5));
        assert_eq!(level_of(4), Some(1));
        assert_eq!(level_of(5), None);
    }

    #[test]
    fn the_pin_pad_unlocks_only_with_the_right_pin() {
        let mut m = Maintenance::locked();
        for c in "1234".chars() {
            m.key(c);
        }
        assert!(m.enter(|p| p == "246810").is_none());
        assert!(m.wrong_pin && m.pin.is_empty());
        for c in "246810".chars() {
            m.key(c);
        }
        assert!(matches!(
            m.enter(|p| p == "246810"),
            Some(Effect::MaintenanceStats)
        ));
        assert!(m.unlocked && m.pin.is_empty());
    }

    #[test]
    fn states_in_plain_words() {
        assert_eq!(local_state_text("queued").zh, "已保存，等待联网提交");
        assert!(platform_state_text("completed").is_some());
        assert!(platform_state_text("something-new").is_none());
    }
}
