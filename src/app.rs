//! The running kiosk, wired: flow, window, device services, and the effect runner (outbox,
//! camera, printer). `hallkiosk run` and the end-to-end test both start the kiosk through
//! [`start`], so the test exercises exactly the wiring a kiosk runs.

use crate::catalog::Catalog;
use crate::config::Config;
use crate::effects::{EffectRunner, PrinterTarget};
use crate::flows::kiosk::{FlowSettings, HallSetup, Kiosk};
use crate::ui::{local_today, KioskUi, UiOptions};
use anyhow::{Context, Result};

/// The kiosk's window with everything it needs kept alive.
pub struct RunningKiosk {
    pub ui: KioskUi,
    _pumps: Vec<slint::Timer>,
    _printer_jobs:
        Option<tokio::sync::mpsc::UnboundedSender<hallkiosk_drivers::printer::service::JobRequest>>,
}

/// Builds the window (not yet shown) and starts the configured device services.
pub fn start(config: &Config, catalog: Catalog) -> Result<RunningKiosk> {
    let data_dir = config.data_dir();
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create data directory {}", data_dir.display()))?;
    let kiosk = Kiosk::new(FlowSettings::from_config(config), catalog)
        .with_kiosk_id(&config.kiosk.id.0)
        .with_hall(HallSetup::from_config(config));
    // The printer service starts first: receipts and tickets go to it from the flows' effects.
    let printer = if config.devices.printer.is_sim() {
        None
    } else {
        tracing::info!(printer = %config.devices.printer, "starting the printer service");
        Some(crate::devices::spawn_printer_service(
            config.devices.printer.clone(),
            &data_dir.join("print-jobs.jsonl"),
        )?)
    };
    let target = match &printer {
        Some((_, jobs)) => PrinterTarget::Service(jobs.clone()),
        None => PrinterTarget::Rendered(data_dir.join("receipts")),
    };
    let effects = EffectRunner::start(config, target);
    let ui = KioskUi::new(
        kiosk,
        UiOptions {
            hall_name: config.kiosk.hall_name.clone(),
            hall_name_en: config.kiosk.hall_name_en.clone(),
            kiosk_id: config.kiosk.id.to_string(),
            dev_dock: config.show_dev_dock(),
            today: Box::new(local_today),
            effects: Some(effects),
        },
    )?;
    // Configured devices: their services run on their own threads; events reach the flow through
    // the UI's pump, and their health reaches the outbox database for the sync daemon's heartbeat.
    let health =
        (!config.all_devices_simulated()).then(|| crate::health::HealthRecorder::start(config));
    let tap = |events| match &health {
        Some(h) => h.tap(events),
        None => events,
    };
    let mut pumps = Vec::new();
    if !config.devices.idcard.is_sim() {
        tracing::info!(reader = %config.devices.idcard, "starting the ID-card reader service");
        let events = crate::devices::spawn_idcard_service(
            config.devices.idcard.clone(),
            std::sync::Arc::new(local_today),
        )?;
        pumps.push(ui.pump_device_events(tap(events)));
    }
    if !config.devices.scanner.is_sim() {
        tracing::info!(scanner = %config.devices.scanner, "starting the QR scanner service");
        let events =
            crate::devices::spawn_scanner_service(&config.devices.scanner, &config.scanner)?;
        pumps.push(ui.pump_device_events(tap(events)));
    }
    if config.scanner.camera_reads_codes && !config.devices.camera.is_sim() {
        tracing::info!(camera = %config.devices.camera, "reading codes from the camera");
        let events = crate::devices::spawn_camera_scanner(&config.devices.camera, &config.scanner)?;
        pumps.push(ui.pump_device_events(tap(events)));
    }
    // The printer's status reaches the flow (paper banner, print outcome) through the pump.
    let printer_jobs = match printer {
        Some((events, jobs)) => {
            pumps.push(ui.pump_device_events(tap(events)));
            Some(jobs)
        }
        None => None,
    };
    Ok(RunningKiosk {
        ui,
        _pumps: pumps,
        _printer_jobs: printer_jobs,
    })
}
