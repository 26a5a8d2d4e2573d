//! The running kiosk, wired: flow, window, device services, and the effect runner (outbox,
//! camera, printer). `hallkiosk run`, the end-to-end test and the UI tests all start the kiosk
//! through [`start`], so they exercise exactly the wiring a kiosk runs.
//!
//! Devices start after the window (see [`RunningKiosk`]). There is one device path. A device configured `sim` is a byte-level simulator started here
//! ([`SimRig`]: SAM reader, QR scanner and printer on ptys, camera frames in a folder; no
//! network), and the same services a hall's kiosk runs open it by its address. The dev dock drives
//! the simulators, never the flow.

use crate::flows::kiosk::{FlowSettings, HallSetup, Kiosk};
use crate::kiosk::bridge::{KioskUi, UiOptions};
use crate::kiosk::effects::EffectRunner;
use crate::shared::catalog::Catalog;
use crate::shared::config::Config;
use anyhow::{Context, Result};
use hallkiosk_drivers::event::DeviceKind;
use hallkiosk_drivers::printer::page::Item;
use hallkiosk_drivers::printer::service::JobRequest;
use hallkiosk_drivers::scanner::route::{Classifier, ScanKind};
use hallkiosk_drivers::sim::printer::PaperTray;
use hallkiosk_drivers::sim::rig::{RigSettings, SimRig};
use hallkiosk_drivers::transport::DeviceAddress;
use std::cell::OnceCell;
use std::rc::Rc;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedReceiver;

/// Today's date `YYYY-MM-DD`, for card expiry (the kiosk's clock; tests fix it).
pub type Today = Arc<dyn Fn() -> String + Send + Sync>;

/// The folder under the data directory that holds the simulated document camera's frames.
pub const SIM_CAMERA_DIR: &str = "sim-camera";

/// The kiosk's window with everything it needs kept alive.
///
/// Start-up has two steps so that the first frame is not kept waiting by devices: [`start`]
/// builds the window, the flow and the effect runner; [`RunningKiosk::start_devices`] — called
/// right after the first frame (`hallkiosk run`) or at once (tests) — starts the simulators for
/// `sim` devices, the device services and the health recorder. Until then, receipts wait in the
/// printer's job queue and the screen works without devices.
pub struct RunningKiosk {
    pub ui: KioskUi,
    rig: Rc<OnceCell<Arc<SimRig>>>,
    pending: Option<PendingDevices>,
    pumps: Vec<slint::Timer>,
}

/// What [`RunningKiosk::start_devices`] needs.
struct PendingDevices {
    config: Config,
    today: Today,
    printer_jobs: UnboundedReceiver<JobRequest>,
}

impl RunningKiosk {
    /// The simulated devices, once started, when any device is `sim`.
    pub fn rig(&self) -> Option<&SimRig> {
        self.rig.get().map(|r| &**r)
    }

    /// Starts the devices: the simulators for `sim` devices, then every device's service on its
    /// own thread, their events tapped for the health recorder and pumped into the flow. Does
    /// nothing the second time.
    pub fn start_devices(&mut self) -> Result<()> {
        let Some(pending) = self.pending.take() else {
            return Ok(());
        };
        let data_dir = pending.config.data_dir();
        // `sim` devices become simulators with addresses; from here on every device is opened alike.
        let (config, rig) = resolve_simulated(&pending.config)?;
        if let Some(rig) = rig {
            let _ = self.rig.set(rig);
        }
        let health = crate::kiosk::health::HealthRecorder::start(&config);
        tracing::info!(printer = %config.devices.printer, "starting the printer service");
        let events = crate::kiosk::devices::spawn_printer_service_for(
            config.devices.printer.clone(),
            &data_dir.join(crate::outbox::retention::PRINT_LEDGER),
            Some(std::time::Duration::from_secs(
                config.retention.print_ledger_days.0 * 24 * 3600,
            )),
            pending.printer_jobs,
        )?;
        self.pumps
            .push(self.ui.pump_device_events(health.tap(events)));
        tracing::info!(reader = %config.devices.idcard, "starting the ID-card reader service");
        let events = crate::kiosk::devices::spawn_idcard_service(
            config.devices.idcard.clone(),
            pending.today,
        )?;
        self.pumps
            .push(self.ui.pump_device_events(health.tap(events)));
        tracing::info!(scanner = %config.devices.scanner, "starting the QR scanner service");
        let events =
            crate::kiosk::devices::spawn_scanner_service(&config.devices.scanner, &config.scanner)?;
        self.pumps
            .push(self.ui.pump_device_events(health.tap(events)));
        if config.scanner.camera_reads_codes {
            tracing::info!(camera = %config.devices.camera, "reading codes from the camera");
            let events = crate::kiosk::devices::spawn_camera_scanner(
                &config.devices.camera,
                &config.scanner,
            )?;
            self.pumps
                .push(self.ui.pump_device_events(health.tap(events)));
        }
        Ok(())
    }
}

/// Builds the window (not yet shown), the flow and the effect runner, with the local clock. The
/// devices start with [`RunningKiosk::start_devices`].
pub fn start(config: &Config, catalog: Catalog) -> Result<RunningKiosk> {
    start_with_clock(config, catalog, Arc::new(crate::shared::clock::local_today))
}

/// [`start`] with another idea of today (tests).
pub fn start_with_clock(config: &Config, catalog: Catalog, today: Today) -> Result<RunningKiosk> {
    let data_dir = config.data_dir();
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create data directory {}", data_dir.display()))?;
    // The flow's rules (the dev dock, the dev kiosk's PIN) follow the configuration as written.
    let kiosk = Kiosk::new(FlowSettings::from_config(config), catalog)
        .with_kiosk_id(&config.kiosk.id.0)
        .with_hall(HallSetup::from_config(config));
    // The document camera opens only on a material step; a `sim` one is the simulator's folder.
    let mut effects_config = config.clone();
    if effects_config.devices.camera.is_sim() {
        effects_config.devices.camera = DeviceAddress::Frames {
            path: data_dir.join(SIM_CAMERA_DIR).display().to_string(),
        };
    }
    let (printer_jobs_tx, printer_jobs) = tokio::sync::mpsc::unbounded_channel();
    let effects = EffectRunner::start(&effects_config, printer_jobs_tx);
    let rig: Rc<OnceCell<Arc<SimRig>>> = Rc::default();
    let dock = config.show_dev_dock().then(|| {
        let rig = Rc::clone(&rig);
        Box::new(move |c| {
            if let Some(rig) = rig.get() {
                rig.apply(c);
            }
        }) as Box<dyn Fn(_)>
    });
    let ui = KioskUi::new(
        kiosk,
        UiOptions {
            hall_name: config.kiosk.hall_name.clone(),
            hall_name_en: config.kiosk.hall_name_en.clone(),
            kiosk_id: config.kiosk.id.to_string(),
            dock,
            today: {
                let today = Arc::clone(&today);
                Box::new(move || today())
            },
            effects: Some(effects),
            voice: Some(crate::voice::announcer::Announcer::start(&config.voice)),
        },
    )?;
    Ok(RunningKiosk {
        ui,
        rig,
        pending: Some(PendingDevices {
            config: config.clone(),
            today,
            printer_jobs,
        }),
        pumps: Vec::new(),
    })
}

/// Starts the simulators when any device is `sim` and returns the configuration with their
/// addresses in place of `sim`.
fn resolve_simulated(config: &Config) -> Result<(Config, Option<Arc<SimRig>>)> {
    if !config.any_device_simulated() {
        return Ok((config.clone(), None));
    }
    let data_dir = config.data_dir();
    let rig = SimRig::start(RigSettings {
        scanner_framing: config.scanner.framing(),
        scanner_trigger: config.scanner.trigger.trigger(),
        printer_profile: config.devices.printer_profile.profile(),
        tray: PaperTray::new(data_dir.join("receipts"), piece_name),
        camera_dir: data_dir.join(SIM_CAMERA_DIR),
    })
    .context("cannot start the simulated devices")?;
    let mut resolved = config.clone();
    for kind in DeviceKind::ALL {
        let address = resolved.devices.address_mut(kind);
        if address.is_sim() {
            *address = rig.address(kind);
            tracing::info!(device = kind.as_str(), %address, "simulated device");
        }
    }
    Ok((resolved, Some(Arc::new(rig))))
}

/// The simulated printer files a receipt under its tracking code (from its QR), a ticket under its
/// number (its largest text), anything else numbered.
fn piece_name(items: &[Item]) -> Option<String> {
    let receipts = crate::flows::route::Receipts { kiosk: None };
    let from_qr = items.iter().find_map(|i| match i {
        Item::Qr { data, .. } => match receipts.classify(&String::from_utf8_lossy(data)) {
            Some(ScanKind::Receipt { tracking_code, .. }) => Some(tracking_code),
            _ => None,
        },
        _ => None,
    });
    from_qr.or_else(|| {
        items
            .iter()
            .filter_map(|i| match i {
                Item::Line { runs, .. } => runs
                    .iter()
                    .filter(|r| !r.text.trim().is_empty())
                    .map(|r| (u32::from(r.size.0) * u32::from(r.size.1), r.text.trim()))
                    .max_by_key(|(size, _)| *size),
                _ => None,
            })
            .filter(|(size, _)| *size > 1)
            .max_by_key(|(size, _)| *size)
            .map(|(_, text)| text.to_string())
    })
}
