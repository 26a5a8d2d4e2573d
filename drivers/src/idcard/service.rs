//! The reader service: an async task that keeps a SAM reader open, polls it, and turns what it sees
//! into [`DeviceEvent`]s.
//!
//! - **One read per placement.** A card left on the antenna is read once; later polls that read the
//!   same card say nothing. Lifting it is reported as [`DeviceEvent::CardRemoved`] after
//!   [`ServiceConfig::removal_confirmations`] polls in a row find no card.
//! - **The "card still on antenna" quirk** (devices.md §1.9): some modules fail find/select for a
//!   card that was just read. When find says "no card" while a card is present, the service tries a
//!   read before believing it.
//! - **Faults.** A reader that cannot be opened, stops answering, or reports a SAM fault is reported
//!   once as [`DeviceEvent::DeviceFault`]; the service reopens it with exponential backoff and says
//!   [`DeviceEvent::DeviceRecovered`] when it answers again.
//! - **Bounded.** Every exchange is bounded by the reader's timeouts, and every blocking step by an
//!   outer timeout on top, so a wedged driver thread cannot stall the service.
//! - It ends when the receiving side of the event channel is dropped.

use super::reader::{ReadOptions, Reader, ReaderError, SamLink, Timeouts};
use super::text::TextError;
use super::IdCard;
use crate::event::{CardRejection, DeviceEvent, DeviceKind};
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// Opens the link to the reader (called again after every fault).
pub type Opener = Box<dyn FnMut() -> io::Result<Box<dyn SamLink>> + Send>;

/// How the service polls and recovers.
#[derive(Clone)]
pub struct ServiceConfig {
    /// Time between polls.
    pub poll: Duration,
    /// Polls in a row without the card before it counts as removed.
    pub removal_confirmations: u32,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    pub timeouts: Timeouts,
    pub read: ReadOptions,
    /// Today's date `YYYY-MM-DD` (birth dates in the future are rejected).
    pub today: Arc<dyn Fn() -> String + Send + Sync>,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            poll: Duration::from_millis(300),
            removal_confirmations: 2,
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(10),
            timeouts: Timeouts::default(),
            read: ReadOptions::default(),
            today: Arc::new(today_utc),
        }
    }
}

type BoxReader = Reader<Box<dyn SamLink>>;

/// What one poll saw.
enum Seen {
    Card(Box<IdCard>),
    Absent,
    /// The card could not be read or its data was refused.
    Rejected(CardRejection, String),
    /// The reader itself failed.
    Fault(String),
}

/// Runs the service until `events` has no receiver.
pub async fn run(open: Opener, config: ServiceConfig, events: UnboundedSender<DeviceEvent>) {
    let mut open = Some(open);
    let mut reported_fault: Option<String> = None;
    let mut backoff = config.backoff_min;
    let fault = |reported: &mut Option<String>, reason: String| {
        if reported.as_deref() != Some(reason.as_str()) {
            tracing::warn!(device = "idcard", %reason, "card reader fault");
            let _ = events.send(DeviceEvent::DeviceFault {
                device: DeviceKind::IdCardReader,
                reason: reason.clone(),
            });
            *reported = Some(reason);
        }
    };
    while !events.is_closed() {
        // Open the link on a blocking thread; the opener comes back with the result.
        let Some(mut opener) = open.take() else {
            return;
        };
        let opened = tokio::task::spawn_blocking(move || {
            let link = opener();
            (opener, link)
        })
        .await;
        let link = match opened {
            Ok((opener, link)) => {
                open = Some(opener);
                link
            }
            Err(_) => return, // The opener panicked: nothing left to open with.
        };
        let mut reader = match link {
            Ok(link) => Reader::new(link, config.timeouts),
            Err(e) => {
                fault(
                    &mut reported_fault,
                    format!("cannot open the card reader: {e}"),
                );
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(config.backoff_max);
                continue;
            }
        };
        let bound = config.timeouts.longest() * 4 + Duration::from_secs(1);
        match blocking(reader, bound, |r| r.status()).await {
            Some((r, Ok(()))) => reader = r,
            Some((_, Err(e))) => {
                fault(&mut reported_fault, e.to_string());
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(config.backoff_max);
                continue;
            }
            None => {
                fault(
                    &mut reported_fault,
                    "the card reader stopped answering".into(),
                );
                continue;
            }
        }
        if reported_fault.take().is_some() {
            tracing::info!(device = "idcard", "card reader recovered");
            let _ = events.send(DeviceEvent::DeviceRecovered {
                device: DeviceKind::IdCardReader,
            });
        }
        backoff = config.backoff_min;
        let reason = poll_until_fault(reader, &config, &events, bound).await;
        match reason {
            Some(reason) => fault(&mut reported_fault, reason),
            None => return,
        }
        tokio::time::sleep(backoff).await;
    }
}

/// Polls an open reader. Returns the fault that ended it, or `None` when the receiver went away.
async fn poll_until_fault(
    mut reader: BoxReader,
    config: &ServiceConfig,
    events: &UnboundedSender<DeviceEvent>,
    bound: Duration,
) -> Option<String> {
    let mut present: Option<Box<IdCard>> = None;
    let mut rejected = false;
    let mut misses = 0u32;
    loop {
        if events.is_closed() {
            return None;
        }
        tokio::time::sleep(config.poll).await;
        let options = config.read;
        let today = (config.today)();
        let had_card = present.is_some();
        let Some((r, seen)) = blocking(reader, bound, move |r| {
            poll_once(r, had_card, options, &today)
        })
        .await
        else {
            if present.take().is_some() {
                let _ = events.send(DeviceEvent::CardRemoved);
            }
            return Some("the card reader stopped answering".into());
        };
        reader = r;
        match seen {
            Seen::Card(card) => {
                misses = 0;
                rejected = false;
                if present.as_deref() != Some(&card) {
                    if present.is_some() {
                        let _ = events.send(DeviceEvent::CardRemoved);
                    }
                    tracing::info!(card_type = card.card_type.as_str(), "card presented");
                    let _ = events.send(DeviceEvent::CardPresented(card.clone()));
                    present = Some(card);
                }
            }
            Seen::Absent => {
                if present.is_some() || rejected {
                    misses += 1;
                    if misses >= config.removal_confirmations {
                        misses = 0;
                        rejected = false;
                        if present.take().is_some() {
                            tracing::info!("card removed");
                            let _ = events.send(DeviceEvent::CardRemoved);
                        }
                    }
                }
            }
            Seen::Rejected(why, reason) => {
                misses = 0;
                if !rejected && present.is_none() {
                    tracing::warn!(%reason, "card rejected");
                    let _ = events.send(DeviceEvent::CardRejected(why));
                    rejected = true;
                }
            }
            Seen::Fault(reason) => {
                if present.take().is_some() {
                    let _ = events.send(DeviceEvent::CardRemoved);
                }
                return Some(reason);
            }
        }
    }
}

/// Runs `f` on a blocking thread with the reader; `None` when it overran `bound` or panicked.
async fn blocking<T: Send + 'static>(
    mut reader: BoxReader,
    bound: Duration,
    f: impl FnOnce(&mut BoxReader) -> T + Send + 'static,
) -> Option<(BoxReader, T)> {
    let task = tokio::task::spawn_blocking(move || {
        let out = f(&mut reader);
        (reader, out)
    });
    match tokio::time::timeout(bound, task).await {
        Ok(Ok(done)) => Some(done),
        _ => None,
    }
}

fn poll_once(r: &mut BoxReader, had_card: bool, options: ReadOptions, today: &str) -> Seen {
    let found = match r.find() {
        Ok(found) => found,
        Err(e) => return classify(e),
    };
    if !found {
        if !had_card {
            return Seen::Absent;
        }
        // The quirk: a card that was read may fail find yet still read.
        return match r.read_selected(options, today) {
            Ok(card) => Seen::Card(Box::new(card)),
            Err(e) if e.is_link_fault() => Seen::Fault(e.to_string()),
            Err(_) => Seen::Absent,
        };
    }
    if let Err(e) = r.select() {
        return classify(e);
    }
    match r.read_selected(options, today) {
        Ok(card) => Seen::Card(Box::new(card)),
        Err(e) => classify(e),
    }
}

fn classify(e: ReaderError) -> Seen {
    if e.is_link_fault() {
        return Seen::Fault(e.to_string());
    }
    let why = match e {
        ReaderError::Text(TextError::Number(_) | TextError::Gender | TextError::Nation)
        | ReaderError::Text(TextError::Date(_) | TextError::Missing(_)) => {
            CardRejection::InvalidData
        }
        _ => CardRejection::ReadFailed,
    };
    Seen::Rejected(why, e.to_string())
}

/// Today's date in UTC as `YYYY-MM-DD` (the application passes its local date instead).
pub fn today_utc() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0) as i64;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_780), (2026, 11, 23));
        assert_eq!(today_utc().len(), 10);
    }
}
