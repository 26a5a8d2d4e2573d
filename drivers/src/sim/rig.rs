//! The dev kiosk's devices: every byte-level simulator started at once, for the real services to
//! open like any device.
//!
//! A kiosk whose devices are configured `sim` starts a [`SimRig`]: the SAM reader, the QR scanner
//! and the receipt printer each on a pty (the printer filing each cut piece of paper as a PNG), the
//! document camera as a folder of frames. No network: the rig runs inside the kiosk unit's
//! sandbox (`RestrictAddressFamilies=AF_UNIX AF_NETLINK`), so a lab image provisioned with
//! simulated devices boots to a working kiosk. The kiosk then opens the rig's
//! [addresses](SimRig::address) with the same services it uses in a hall, so the dev kiosk runs the
//! codecs, transports, services, reconnects and print-job ledger a real kiosk runs. The dev dock
//! drives the simulators through [`SimRig::apply`] — never the flow.

use super::fixtures::CardFixture;
use super::printer::{PaperTray, PrinterState, SimPrinter};
use super::sam::{PtySam, SamState};
use super::scanner::{on_pty, SimScanner};
use super::Served;
use crate::event::DeviceKind;
use crate::printer::receipt::Profile;
use crate::scanner::serial::{Framing, Trigger};
use crate::transport::DeviceAddress;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, MutexGuard};
use std::time::Duration;

/// How long a card is off the antenna when the dock places one over another: longer than the
/// reader service needs to see it gone (two empty polls 300 ms apart), as a hand lifting one card
/// and placing the next would be.
pub const CARD_SWAP_GAP: Duration = Duration::from_millis(1200);

/// What the dev dock can do to the simulated devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DockCommand {
    PlaceCard(CardFixture),
    RemoveCard,
    ScanCode(String),
    PaperOk,
    PaperNearEnd,
    PaperOut,
    /// Opens the printer's cover, or closes it when open.
    ToggleCover,
    /// The reader stops answering anything (a hung module), or answers again.
    ToggleReaderFault,
}

/// How to start the rig: the settings the kiosk's own services use for the same devices.
#[derive(Debug, Clone)]
pub struct RigSettings {
    /// The scanner's framing and trigger mode, as the kiosk's scanner service expects them.
    pub scanner_framing: Framing,
    pub scanner_trigger: Trigger,
    pub printer_profile: Profile,
    /// Where the printer files cut pieces of paper, and how it names them.
    pub tray: PaperTray,
    /// The folder the simulated document camera's frames are written to.
    pub camera_dir: PathBuf,
}

/// The simulated devices, served until dropped.
pub struct SimRig {
    sam: PtySam,
    scanner: Served<SimScanner>,
    scanner_path: String,
    printer: SimPrinter,
    camera_dir: PathBuf,
    /// Counts card commands, so a delayed placement is dropped when another came after it.
    card_moves: Arc<AtomicU64>,
}

impl SimRig {
    /// Starts every simulator. Fails only when the system cannot give a pty or the camera folder.
    pub fn start(settings: RigSettings) -> io::Result<SimRig> {
        let sam = PtySam::start(SamState::default())?;
        let (scanner, scanner_path) = on_pty(SimScanner::new(
            settings.scanner_framing,
            settings.scanner_trigger,
        ))?;
        let mut state = PrinterState::new(settings.printer_profile);
        state.tray = Some(settings.tray);
        let printer = SimPrinter::pty(state)?;
        write_camera_frames(&settings.camera_dir)?;
        Ok(SimRig {
            sam,
            scanner,
            scanner_path,
            printer,
            camera_dir: settings.camera_dir,
            card_moves: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Where the kiosk's service for `device` finds the simulator.
    pub fn address(&self, device: DeviceKind) -> DeviceAddress {
        match device {
            DeviceKind::IdCardReader => DeviceAddress::Serial {
                path: self.sam.path().to_string(),
                baud: None,
            },
            DeviceKind::Scanner => DeviceAddress::Serial {
                path: self.scanner_path.clone(),
                baud: None,
            },
            DeviceKind::Printer => self.printer.address().parse().unwrap_or(DeviceAddress::Sim),
            DeviceKind::Camera => DeviceAddress::Frames {
                path: self.camera_dir.display().to_string(),
            },
        }
    }

    /// A dock button: changes what the simulators do; the services see it on their next poll.
    pub fn apply(&self, command: DockCommand) {
        match command {
            DockCommand::PlaceCard(fixture) => self.place(fixture),
            DockCommand::RemoveCard => {
                self.card_moves.fetch_add(1, Ordering::SeqCst);
                self.sam.control().remove();
            }
            DockCommand::ScanCode(text) => self.scanner.control().present(text),
            DockCommand::PaperOk => self.paper(false, false),
            DockCommand::PaperNearEnd => self.paper(true, false),
            DockCommand::PaperOut => self.paper(true, true),
            DockCommand::ToggleCover => {
                let mut p = self.printer.control();
                p.cover_open = !p.cover_open;
                p.changed();
            }
            DockCommand::ToggleReaderFault => {
                let mut sam = self.sam.control();
                sam.faults.mute = !sam.faults.mute;
            }
        }
    }

    /// Places a card; over another one, lifts that first and places the new one
    /// [`CARD_SWAP_GAP`] later.
    fn place(&self, fixture: CardFixture) {
        let turn = self.card_moves.fetch_add(1, Ordering::SeqCst) + 1;
        let mut sam = self.sam.control();
        if sam.card.is_none() {
            sam.place_fixture(fixture);
            return;
        }
        sam.remove();
        drop(sam);
        let (state, moves) = (self.sam.shared(), Arc::clone(&self.card_moves));
        let spawned = std::thread::Builder::new()
            .name("sim-card-swap".into())
            .spawn(move || {
                std::thread::sleep(CARD_SWAP_GAP);
                // Under the reader's lock, which every dock command takes after counting itself:
                // a command that came in the meantime wins.
                let mut sam = state.lock().unwrap_or_else(|p| p.into_inner());
                if moves.load(Ordering::SeqCst) == turn {
                    sam.place_fixture(fixture);
                }
            });
        if let Err(e) = spawned {
            tracing::warn!("simulated reader: cannot swap cards: {e}");
        }
    }

    /// Whether a card lies on the simulated reader.
    pub fn card_placed(&self) -> bool {
        self.sam.control().card.is_some()
    }

    fn paper(&self, near_end: bool, end: bool) {
        let mut p = self.printer.control();
        p.paper_near_end = near_end;
        p.paper_end = end;
        p.changed();
    }

    /// The simulated reader, for tests (its command log counts the frames the driver sent).
    pub fn reader(&self) -> MutexGuard<'_, SamState> {
        self.sam.control()
    }

    /// The simulated printer, for tests.
    pub fn printer(&self) -> MutexGuard<'_, PrinterState> {
        self.printer.control()
    }
}

/// The document camera's view: one simulated page, written once as a frame file.
fn write_camera_frames(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let frame = dir.join("frame-0001.png");
    if !frame.exists() {
        crate::camera::page::simulated_document(1280, 960, 1)
            .save(&frame)
            .map_err(|e| io::Error::other(format!("{}: {e}", frame.display())))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printer::link;
    use crate::printer::page::Item;

    fn settings(dir: &Path) -> RigSettings {
        RigSettings {
            scanner_framing: Framing::default(),
            scanner_trigger: Trigger::Continuous,
            printer_profile: Profile::generic_80mm(),
            tray: PaperTray::new(dir.join("receipts"), |items| {
                items.iter().find_map(|i| match i {
                    Item::Qr { data, .. } => Some(String::from_utf8_lossy(data).into_owned()),
                    _ => None,
                })
            }),
            camera_dir: dir.join("camera"),
        }
    }

    #[test]
    fn every_device_has_an_address_a_service_can_open() {
        let dir = tempfile::tempdir().unwrap();
        let rig = SimRig::start(settings(dir.path())).unwrap();
        for kind in [
            DeviceKind::IdCardReader,
            DeviceKind::Scanner,
            DeviceKind::Printer,
            DeviceKind::Camera,
        ] {
            let address = rig.address(kind);
            assert!(!address.is_sim(), "{kind:?}");
            // No network: the kiosk unit allows AF_UNIX and AF_NETLINK only.
            assert!(
                matches!(
                    address,
                    DeviceAddress::Serial { .. } | DeviceAddress::Frames { .. }
                ),
                "{kind:?} at {address}"
            );
        }
        assert!(link::open(&rig.address(DeviceKind::Printer)).is_ok());
        assert!(dir.path().join("camera/frame-0001.png").exists());
    }

    #[test]
    fn dock_commands_change_the_simulators() {
        let dir = tempfile::tempdir().unwrap();
        let rig = SimRig::start(settings(dir.path())).unwrap();
        rig.apply(DockCommand::PlaceCard(CardFixture::Resident));
        assert!(rig.reader().card.is_some());
        rig.apply(DockCommand::PlaceCard(CardFixture::HkMoTw));
        assert!(rig.reader().card.is_none(), "the first card is lifted");
        std::thread::sleep(CARD_SWAP_GAP + Duration::from_millis(300));
        assert!(rig.reader().card.is_some(), "then the second placed");
        rig.apply(DockCommand::RemoveCard);
        assert!(rig.reader().card.is_none());
        rig.apply(DockCommand::PaperOut);
        assert!(!rig.printer().status().can_print());
        rig.apply(DockCommand::PaperOk);
        assert!(rig.printer().status().can_print());
        rig.apply(DockCommand::ToggleCover);
        assert!(rig.printer().status().cover_open);
        rig.apply(DockCommand::ToggleCover);
        assert!(!rig.printer().status().cover_open);
        rig.apply(DockCommand::ToggleReaderFault);
        assert!(rig.reader().faults.mute);
    }
}
