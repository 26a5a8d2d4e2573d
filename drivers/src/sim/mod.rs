//! Simulated devices for development, the dev dock and CI.
//!
//! [`SimDevices`] is the in-process stand-in for the reader, scanner and printer: the dev dock on the
//! kiosk screen sends it [`DockCommand`]s ("place a resident card", "paper out", …) and it answers with
//! the same [`DeviceEvent`]s a real device service emits, so the flows cannot tell the difference.
//!
//! The byte-level simulators speak the real devices' protocols with the drivers' own codecs:
//! [`sam`] (ID-card reader on a pty), [`printer`] (ESC/POS printer on loopback TCP or a pty) and
//! [`scanner`] (serial QR scanner on a pty).
//! The app uses them when a device's address points at them (`hallkiosk idcard sim`,
//! `hallkiosk print sim`, `hallkiosk scan sim`); the camera's stand-in is a file source.

pub mod fixtures;
pub mod printer;
pub mod sam;
pub mod scanner;

use crate::event::DeviceEvent;
use crate::printer::PrinterStatus;
use crate::scanner::ScanPayload;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// A simulator's state shared with the thread that serves it, and that thread. Dropping it stops
/// the thread (the device is unplugged).
pub struct Served<S> {
    state: Arc<Mutex<S>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl<S: Send + 'static> Served<S> {
    /// Runs `serve(state, stop)` on a thread named `name`; it must return soon after `stop` is set.
    pub fn start(
        name: &str,
        state: S,
        serve: impl FnOnce(&Mutex<S>, &AtomicBool) + Send + 'static,
    ) -> std::io::Result<Served<S>> {
        let state = Arc::new(Mutex::new(state));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (state, stop) = (Arc::clone(&state), Arc::clone(&stop));
            std::thread::Builder::new()
                .name(name.into())
                .spawn(move || serve(&state, &stop))?
        };
        Ok(Served {
            state,
            stop,
            thread: Some(thread),
        })
    }
}

impl<S> Served<S> {
    /// The simulator's state, for tests, the CLI and the dev dock.
    pub fn control(&self) -> MutexGuard<'_, S> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl<S> Drop for Served<S> {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Opens a pty pair and returns its master (20 ms read timeout) and the slave's path. The slave
/// is closed: the driver opens it by path, exclusively, as it would a real port.
pub fn open_pty() -> std::io::Result<(serialport::TTYPort, String)> {
    use serialport::SerialPort;
    let (mut master, slave) = serialport::TTYPort::pair().map_err(std::io::Error::from)?;
    let path = slave
        .name()
        .ok_or_else(|| std::io::Error::other("the pty has no name"))?;
    drop(slave);
    master
        .set_timeout(std::time::Duration::from_millis(20))
        .map_err(std::io::Error::from)?;
    Ok((master, path))
}

/// What the dev dock can do to the simulated devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DockCommand {
    PlaceCard(fixtures::CardFixture),
    RemoveCard,
    ScanCode(String),
    PaperOk,
    PaperNearEnd,
    PaperOut,
}

/// State of the simulated devices: which card lies on the antenna and the printer's paper.
#[derive(Debug, Default)]
pub struct SimDevices {
    card_on_antenna: Option<fixtures::CardFixture>,
    printer: PrinterStatus,
}

impl SimDevices {
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies a dock command and returns the events the devices would emit. Placing a card while
    /// another lies on the antenna first removes the old one, as lifting and placing does.
    pub fn apply(&mut self, command: DockCommand) -> Vec<DeviceEvent> {
        match command {
            DockCommand::PlaceCard(fixture) => {
                let mut events = Vec::new();
                if self.card_on_antenna.take().is_some() {
                    events.push(DeviceEvent::CardRemoved);
                }
                self.card_on_antenna = Some(fixture);
                events.push(DeviceEvent::CardPresented(Box::new(fixture.card())));
                events
            }
            DockCommand::RemoveCard => match self.card_on_antenna.take() {
                Some(_) => vec![DeviceEvent::CardRemoved],
                None => Vec::new(),
            },
            DockCommand::ScanCode(text) => vec![DeviceEvent::CodeScanned(ScanPayload::new(text))],
            DockCommand::PaperOk => self.set_paper(false, false),
            DockCommand::PaperNearEnd => self.set_paper(true, false),
            DockCommand::PaperOut => self.set_paper(true, true),
        }
    }

    pub fn printer_status(&self) -> PrinterStatus {
        self.printer
    }

    fn set_paper(&mut self, near_end: bool, end: bool) -> Vec<DeviceEvent> {
        let next = PrinterStatus {
            paper_near_end: near_end,
            paper_end: end,
            ..self.printer
        };
        if next == self.printer {
            return Vec::new();
        }
        self.printer = next;
        vec![DeviceEvent::PrinterStatus(next)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fixtures::CardFixture;

    #[test]
    fn placing_a_second_card_removes_the_first() {
        let mut sim = SimDevices::new();
        let first = sim.apply(DockCommand::PlaceCard(CardFixture::Resident));
        assert!(matches!(first.as_slice(), [DeviceEvent::CardPresented(_)]));
        let second = sim.apply(DockCommand::PlaceCard(CardFixture::HkMoTw));
        assert!(matches!(
            second.as_slice(),
            [DeviceEvent::CardRemoved, DeviceEvent::CardPresented(_)]
        ));
        assert_eq!(
            sim.apply(DockCommand::RemoveCard),
            vec![DeviceEvent::CardRemoved]
        );
        assert!(
            sim.apply(DockCommand::RemoveCard).is_empty(),
            "nothing to remove twice"
        );
    }

    #[test]
    fn paper_states_emit_only_changes() {
        let mut sim = SimDevices::new();
        assert!(sim.apply(DockCommand::PaperOk).is_empty());
        let near = sim.apply(DockCommand::PaperNearEnd);
        assert!(
            matches!(near.as_slice(), [DeviceEvent::PrinterStatus(s)] if s.paper_near_end && s.can_print())
        );
        let out = sim.apply(DockCommand::PaperOut);
        assert!(matches!(out.as_slice(), [DeviceEvent::PrinterStatus(s)] if !s.can_print()));
        assert!(sim.apply(DockCommand::PaperOut).is_empty());
        assert!(sim.printer_status().paper_end);
    }
}
