//! What the flows ask for and what they are told back.
//!
//! A flow never does I/O: it asks for work as an [`Effect`] (a photo, saving to the outbox,
//! printing, a ticket, a lookup, the maintenance numbers) and learns the outcome as a [`Done`].
//! The kiosk runtime (`crate::kiosk::effects`) runs effects on worker threads. The payloads and
//! answers of every page live here, so pages depend on this module and never on each other.

use crate::outbox::{NewRating, NewSubmission, Progress};
use crate::shared::catalog::Text;
use crate::shared::config::{Locale, QueueCategory};
use zeroize::{Zeroize, ZeroizeOnDrop};

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

/// Why a photo could not be taken; the UI says it in plain words (`CaptureProblemKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureProblem {
    /// The document camera is unplugged or not answering.
    CameraUnavailable,
    /// No page found in the picture.
    NoPage,
}

/// Why printing the receipt did not work (the submission is saved regardless).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrintProblem {
    PaperOut,
    PrinterUnavailable,
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
    /// The item's promised working days and where its result is collected.
    pub next_step: Option<(u32, Text)>,
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
        category: QueueCategory,
        locale: Locale,
    },
    PrintTicket(Ticket),
    /// This person's or this receipt's submissions: [`Done::ProgressFound`].
    LookupProgress(ProgressLookup),
    SaveRating(NewRating),
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
    TicketIssued(Result<Ticket, String>),
    TicketPrinted(Result<(), PrintProblem>),
    ProgressFound(Result<ProgressReport, String>),
    RatingSaved(Result<(), String>),
    Stats(Result<MaintenanceStats, String>),
    StatusPrinted(Result<(), PrintProblem>),
}

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

/// What a progress lookup found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProgressReport {
    pub rows: Vec<Progress>,
    /// The platform states were asked just now (else they are the last synced ones).
    pub live: bool,
}

/// Numbers for the maintenance screen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MaintenanceStats {
    pub outbox_depth: i64,
    pub oldest_unacknowledged_secs: Option<i64>,
    pub rejected: i64,
    /// Entries whose payload cannot be opened or parsed (kept, never sent).
    pub quarantined: i64,
    pub ratings_waiting: i64,
    /// When the sync daemon last reached the platform (ms since the epoch).
    pub last_contact_ms: Option<i64>,
    pub platform_reachable: bool,
}
