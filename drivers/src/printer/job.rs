//! Talking to one printer: status, and print jobs that print exactly once.
//!
//! A job has an id. Before sending, the printer's status is checked; the ledger records the job as
//! *sending* (durably) before the first byte goes out; after the job's bytes comes `GS r 1`, which
//! the printer answers only once everything before it has been processed, so its answer means
//! "printed". If the answer does not come, the real-time status (DLE EOT) says why: paper end or
//! cover open mid-job makes the job *partly printed*. A job recorded as printed is never sent again;
//! a partly printed or interrupted one is reprinted only when the caller asks for a reprint.

use super::status::{apply_dle_eot, decode_asb, Reply, ReplyReader, StatusQuery, GS_R_PAPER};
use super::PrinterStatus;
use crate::transport::link::Link;
use std::collections::HashMap;
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Why talking to the printer failed.
#[derive(Debug, thiserror::Error)]
pub enum PrinterError {
    #[error("the printer at {link} is not reachable: {source}")]
    Io { link: String, source: io::Error },
    #[error("the printer did not answer the status request DLE EOT {0} within {1} ms")]
    Silent(u8, u128),
    #[error("the job ledger could not be written: {0}")]
    Ledger(io::Error),
}

/// What became of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Printed,
    /// It was printed before; nothing was sent this time.
    AlreadyPrinted,
    /// Nothing was sent: the printer was not ready.
    NotPrinted(PrinterStatus),
    /// Sending started and did not finish: paper end, cover open, an error, or the printer went
    /// away. Part of the receipt may be on paper; reprint only when asked.
    PartlyPrinted(PrinterStatus),
    /// An earlier attempt did not finish and no reprint was asked for.
    NeedsReprint,
}

/// A job's state in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Sending,
    Printed,
    Partial,
}

/// Where job states are kept across restarts.
pub trait JobLedger: Send {
    fn get(&self, job: &str) -> Option<JobState>;
    fn set(&mut self, job: &str, state: JobState) -> io::Result<()>;
}

/// A ledger in memory (tests, previews).
#[derive(Debug, Default)]
pub struct MemoryLedger(HashMap<String, JobState>);

impl JobLedger for MemoryLedger {
    fn get(&self, job: &str) -> Option<JobState> {
        self.0.get(job).copied()
    }
    fn set(&mut self, job: &str, state: JobState) -> io::Result<()> {
        self.0.insert(job.to_string(), state);
        Ok(())
    }
}

/// An append-only ledger file, one JSON object per line, flushed to disk on every change. A torn
/// last line (power cut) is ignored on load.
pub struct FileLedger {
    path: PathBuf,
    file: std::fs::File,
    states: HashMap<String, JobState>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct LedgerLine {
    job: String,
    state: JobState,
}

impl FileLedger {
    pub fn open(path: &Path) -> io::Result<FileLedger> {
        let mut states = HashMap::new();
        if let Ok(f) = std::fs::File::open(path) {
            for line in io::BufReader::new(f).lines() {
                if let Ok(l) = serde_json::from_str::<LedgerLine>(&line?) {
                    states.insert(l.job, l.state);
                }
            }
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(FileLedger {
            path: path.to_path_buf(),
            file,
            states,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl JobLedger for FileLedger {
    fn get(&self, job: &str) -> Option<JobState> {
        self.states.get(job).copied()
    }

    fn set(&mut self, job: &str, state: JobState) -> io::Result<()> {
        let mut line = serde_json::to_vec(&LedgerLine {
            job: job.to_string(),
            state,
        })?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.sync_data()?;
        self.states.insert(job.to_string(), state);
        Ok(())
    }
}

/// One printer on a link.
pub struct Printer<L: Link> {
    link: L,
    replies: ReplyReader,
    /// Non-status bytes that arrived (GS r answers).
    other: Vec<u8>,
    /// How long one status reply may take.
    pub status_timeout: Duration,
    last_asb: Option<PrinterStatus>,
}

impl<L: Link> Printer<L> {
    pub fn new(link: L) -> Self {
        Printer {
            link,
            replies: ReplyReader::new(),
            other: Vec::new(),
            status_timeout: Duration::from_millis(500),
            last_asb: None,
        }
    }

    pub fn link(&self) -> &L {
        &self.link
    }

    fn io(&self, source: io::Error) -> PrinterError {
        PrinterError::Io {
            link: self.link.describe(),
            source,
        }
    }

    /// Reads replies for up to `timeout`, until `want` says it has what it waits for.
    fn pump(
        &mut self,
        timeout: Duration,
        mut want: impl FnMut(&Reply) -> bool,
    ) -> Result<Option<Reply>, PrinterError> {
        let deadline = Instant::now() + timeout;
        let mut buf = [0u8; 256];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let n = self.link.recv(&mut buf, left).map_err(|e| self.io(e))?;
            for r in self.replies.push(&buf[..n]) {
                if let Reply::Asb(asb) = r {
                    self.last_asb = Some(decode_asb(asb));
                }
                if want(&r) {
                    return Ok(Some(r));
                }
                if let Reply::Other(b) = r {
                    self.other.push(b);
                }
            }
            if left.is_zero() {
                return Ok(None);
            }
        }
    }

    /// One DLE EOT query. Clone printers that omit the fixed bits answer with an "other" byte,
    /// which is taken as the reply too.
    pub fn query(&mut self, q: StatusQuery) -> Result<u8, PrinterError> {
        self.link.send(&q.bytes()).map_err(|e| self.io(e))?;
        match self.pump(self.status_timeout, |r| {
            matches!(r, Reply::DleEot(_) | Reply::Other(_))
        })? {
            Some(Reply::DleEot(b) | Reply::Other(b)) => Ok(b),
            _ => Err(PrinterError::Silent(
                q as u8,
                self.status_timeout.as_millis(),
            )),
        }
    }

    /// The full status from DLE EOT 1–4. When usblp offers its port status, a paper-out bit there
    /// counts too.
    pub fn status(&mut self) -> Result<PrinterStatus, PrinterError> {
        let mut s = PrinterStatus::default();
        for q in StatusQuery::ALL {
            let b = self.query(q)?;
            apply_dle_eot(&mut s, q, b);
        }
        if let Some(Ok(port)) = self.link.port_status() {
            let port = super::link::decode_port_status(port);
            s.paper_end |= port.paper_out;
        }
        Ok(s)
    }

    /// The status most recently pushed by Automatic Status Back, if enabled.
    pub fn last_asb(&self) -> Option<PrinterStatus> {
        self.last_asb
    }

    /// Prints `bytes` as job `id` exactly once (see the module docs). `reprint` allows sending a job
    /// whose earlier attempt did not finish. `done_within` bounds the wait for the printer to work
    /// through the job.
    pub fn print_job(
        &mut self,
        id: &str,
        bytes: &[u8],
        reprint: bool,
        ledger: &mut dyn JobLedger,
        done_within: Duration,
    ) -> Result<JobOutcome, PrinterError> {
        match ledger.get(id) {
            Some(JobState::Printed) => return Ok(JobOutcome::AlreadyPrinted),
            Some(JobState::Sending | JobState::Partial) if !reprint => {
                return Ok(JobOutcome::NeedsReprint)
            }
            _ => {}
        }
        let before = self.status()?;
        if !before.can_print() {
            return Ok(JobOutcome::NotPrinted(before));
        }
        ledger
            .set(id, JobState::Sending)
            .map_err(PrinterError::Ledger)?;
        self.other.clear();
        let mut data = Vec::with_capacity(bytes.len() + 3);
        data.extend_from_slice(bytes);
        data.extend(GS_R_PAPER);
        if let Err(e) = self.link.send(&data) {
            ledger
                .set(id, JobState::Partial)
                .map_err(PrinterError::Ledger)?;
            return Err(self.io(e));
        }
        let answered = !self.other.is_empty()
            || self
                .pump(done_within, |r| matches!(r, Reply::Other(_)))
                .inspect_err(|_| {
                    let _ = ledger.set(id, JobState::Partial);
                })?
                .is_some();
        if answered {
            ledger
                .set(id, JobState::Printed)
                .map_err(PrinterError::Ledger)?;
            return Ok(JobOutcome::Printed);
        }
        ledger
            .set(id, JobState::Partial)
            .map_err(PrinterError::Ledger)?;
        let after = self.status().unwrap_or(PrinterStatus {
            offline: true,
            ..PrinterStatus::default()
        });
        Ok(JobOutcome::PartlyPrinted(after))
    }
}

impl<L: Link> Printer<L> {
    /// After a partly printed job, a printer that gets its paper back (or its cover closed) prints
    /// the rest of its buffer and then answers the job's `GS r`. Waits up to `within` for that
    /// answer and records the job as printed when it comes, so a reprint is not offered for a
    /// receipt that did come out whole.
    pub fn settle(
        &mut self,
        id: &str,
        ledger: &mut dyn JobLedger,
        within: Duration,
    ) -> Result<bool, PrinterError> {
        if ledger.get(id) != Some(JobState::Partial) {
            return Ok(false);
        }
        let answered = !self.other.is_empty()
            || self
                .pump(within, |r| matches!(r, Reply::Other(_)))?
                .is_some();
        self.other.clear();
        if answered {
            ledger
                .set(id, JobState::Printed)
                .map_err(PrinterError::Ledger)?;
        }
        Ok(answered)
    }
}

/// Why the printer cannot print, in words for a maintainer (`None` when it can).
pub fn not_ready_reason(s: &PrinterStatus) -> Option<&'static str> {
    Some(if s.paper_end || s.stopped_by_paper_end {
        "paper end (纸张用完)"
    } else if s.cover_open {
        "cover open (打印机盖未关)"
    } else if s.cutter_error {
        "cutter error (切刀故障)"
    } else if s.unrecoverable {
        "unrecoverable error (打印机故障)"
    } else if s.recoverable {
        "recoverable error, e.g. head too hot (暂时故障，稍后自动恢复)"
    } else if s.offline {
        "offline (打印机离线)"
    } else {
        return None;
    })
}
