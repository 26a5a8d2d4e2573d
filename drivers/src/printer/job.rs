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
///
/// Every line carries its time, and the ledger has an end date: lines older than the retention
/// (`keep`) are dropped when the ledger is opened and once a day while it is in use (the file is
/// rewritten beside itself and renamed over). The owner holds `<file>.lock`, so a maintainer's
/// [`compact_ledger`] never rewrites a ledger the kiosk is appending to.
pub struct FileLedger {
    path: PathBuf,
    file: std::fs::File,
    states: HashMap<String, (JobState, i64)>,
    keep_ms: Option<i64>,
    compacted_at_ms: i64,
    /// The lock file, when this ledger holds it (only the holder compacts).
    lock: Option<std::fs::File>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct LedgerLine {
    job: String,
    state: JobState,
    /// Milliseconds since the epoch; absent in lines written before ledgers had an end date
    /// (those count as oldest and go at the first compaction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at_ms: Option<i64>,
}

fn system_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    path.with_file_name(name)
}

/// Each job's last state and time.
fn read_states(path: &Path) -> io::Result<HashMap<String, (JobState, i64)>> {
    let mut states = HashMap::new();
    if let Ok(f) = std::fs::File::open(path) {
        for line in io::BufReader::new(f).lines() {
            if let Ok(l) = serde_json::from_str::<LedgerLine>(&line?) {
                states.insert(l.job, (l.state, l.at_ms.unwrap_or(0)));
            }
        }
    }
    Ok(states)
}

/// Rewrites `path` with the states newer than `cutoff_ms` (atomically: a new file renamed over).
fn rewrite(
    path: &Path,
    states: &HashMap<String, (JobState, i64)>,
    cutoff_ms: i64,
) -> io::Result<()> {
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    {
        let mut f = std::fs::File::create(&tmp)?;
        let mut kept: Vec<(&String, &(JobState, i64))> = states
            .iter()
            .filter(|(_, (_, at))| *at > cutoff_ms)
            .collect();
        kept.sort_by_key(|(_, (_, at))| *at);
        for (job, (state, at)) in kept {
            let mut line = serde_json::to_vec(&LedgerLine {
                job: job.clone(),
                state: *state,
                at_ms: Some(*at),
            })?;
            line.push(b'\n');
            f.write_all(&line)?;
        }
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Drops the ledger's lines older than `cutoff_ms` (a maintainer's purge). `Ok(None)` when the
/// ledger is in use (its owner compacts it itself); else how many jobs were (or, with `dry_run`,
/// would be) dropped.
pub fn compact_ledger(path: &Path, cutoff_ms: i64, dry_run: bool) -> io::Result<Option<usize>> {
    if !path.exists() {
        return Ok(Some(0));
    }
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock_path(path))?;
    if lock.try_lock().is_err() {
        return Ok(None);
    }
    let states = read_states(path)?;
    let old = states.values().filter(|(_, at)| *at <= cutoff_ms).count();
    if !dry_run && old > 0 {
        rewrite(path, &states, cutoff_ms)?;
    }
    Ok(Some(old))
}

impl FileLedger {
    /// Opens a ledger that keeps every line (no end date).
    pub fn open(path: &Path) -> io::Result<FileLedger> {
        Self::open_at(path, None, system_now_ms())
    }

    /// Opens a ledger whose lines are dropped after `keep`; `now_ms` is the time of this opening.
    pub fn open_at(path: &Path, keep: Option<Duration>, now_ms: i64) -> io::Result<FileLedger> {
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(lock_path(path))?;
        // Another holder (a kiosk still shutting down): append as before, but compact nothing.
        let lock = lock.try_lock().is_ok().then_some(lock);
        let mut states = read_states(path)?;
        let keep_ms = keep.map(|k| k.as_millis().min(i64::MAX as u128) as i64);
        if let (Some(keep), Some(_)) = (keep_ms, &lock) {
            let cutoff = now_ms.saturating_sub(keep);
            if states.values().any(|(_, at)| *at <= cutoff) {
                rewrite(path, &states, cutoff)?;
                states.retain(|_, (_, at)| *at > cutoff);
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
            keep_ms,
            compacted_at_ms: now_ms,
            lock,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Drops lines older than the retention, as of `now_ms` (done by `set` once a day).
    pub fn compact(&mut self, now_ms: i64) -> io::Result<usize> {
        let (Some(keep), Some(_)) = (self.keep_ms, &self.lock) else {
            return Ok(0);
        };
        let cutoff = now_ms.saturating_sub(keep);
        let before = self.states.len();
        rewrite(&self.path, &self.states, cutoff)?;
        self.states.retain(|_, (_, at)| *at > cutoff);
        self.file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.compacted_at_ms = now_ms;
        Ok(before - self.states.len())
    }

    /// Records `state` at `now_ms`.
    pub fn set_at(&mut self, job: &str, state: JobState, now_ms: i64) -> io::Result<()> {
        if self.keep_ms.is_some() && now_ms - self.compacted_at_ms > 24 * 3600 * 1000 {
            self.compact(now_ms)?;
        }
        let mut line = serde_json::to_vec(&LedgerLine {
            job: job.to_string(),
            state,
            at_ms: Some(now_ms),
        })?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.sync_data()?;
        self.states.insert(job.to_string(), (state, now_ms));
        Ok(())
    }
}

impl JobLedger for FileLedger {
    fn get(&self, job: &str) -> Option<JobState> {
        self.states.get(job).map(|(s, _)| *s)
    }

    fn set(&mut self, job: &str, state: JobState) -> io::Result<()> {
        self.set_at(job, state, system_now_ms())
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
