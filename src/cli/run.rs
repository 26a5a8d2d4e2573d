//! `hallkiosk run` (the default): the kiosk itself — configuration, catalog, the window with its
//! flows and devices ([`crate::kiosk::app`]), first-frame timing and systemd's watchdog.

use crate::kiosk::startup::{watch_first_frame, FirstFrame, FrameLog};
use crate::shared::catalog::Catalog;
use crate::shared::config::{Config, Locale, Orientation};
use anyhow::{Context, Result};
use clap::ValueEnum;
use slint::ComponentHandle;
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Instant;

#[derive(clap::Args, Default)]
pub struct RunArgs {
    /// Override the configured screen orientation
    #[arg(long, value_enum)]
    orientation: Option<OrientationArg>,
    /// Override the configured start language
    #[arg(long, value_enum)]
    locale: Option<LocaleArg>,
    /// Full screen (kiosks) instead of a window
    #[arg(long)]
    fullscreen: bool,
    /// Write the time of the first rendered frame (ns since the Unix epoch) to FILE
    #[arg(long, value_name = "FILE")]
    first_frame_file: Option<PathBuf>,
    /// Quit right after the first frame (start-up benchmarks and screenshot tests)
    #[arg(long)]
    exit_after_first_frame: bool,
    /// Append a line per frame presented to FILE: the time (ns since the Unix epoch) and the page
    /// shown, with language and mode, as `Home/zh/standard` (the responsiveness benchmark,
    /// scripts/bench-ui)
    #[arg(long, value_name = "FILE")]
    frame_log: Option<PathBuf>,
    /// Answer where labelled elements are on screen at this Unix socket, for the end-to-end
    /// test's synthetic taps (debug builds only; see src/kiosk/control.rs)
    #[cfg(debug_assertions)]
    #[arg(long, value_name = "PATH", hide = true)]
    control_socket: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum OrientationArg {
    Landscape,
    Portrait,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LocaleArg {
    #[value(name = "zh_CN")]
    ZhCn,
    En,
}

pub fn command(config_path: Option<&Path>, args: RunArgs, started: Instant) -> Result<()> {
    let (mut config, source) = Config::load(config_path)?;
    if let Some(o) = args.orientation {
        config.kiosk.orientation = match o {
            OrientationArg::Landscape => Orientation::Landscape,
            OrientationArg::Portrait => Orientation::Portrait,
        };
    }
    if let Some(l) = args.locale {
        config.kiosk.locale = match l {
            LocaleArg::ZhCn => Locale::ZhCn,
            LocaleArg::En => Locale::En,
        };
    }
    let fullscreen = args.fullscreen || config.kiosk.fullscreen;
    let catalog = Catalog::load_configured(&config)?;
    tracing::info!(
        config = %source,
        kiosk = %config.kiosk.id,
        catalog = %catalog.version,
        data_dir = %config.data_dir().display(),
        simulated = config.all_devices_simulated(),
        "starting kiosk"
    );
    let scanner_node = match &config.devices.scanner {
        hallkiosk_drivers::transport::DeviceAddress::Evdev { path } => Some(PathBuf::from(path)),
        _ => None,
    };
    crate::kiosk::keyboard::install(scanner_node.as_deref())?;
    let running = Rc::new(RefCell::new(crate::kiosk::app::start(&config, catalog)?));
    let failed: Rc<RefCell<Option<anyhow::Error>>> = Rc::default();
    let guard = running.borrow();
    let ui = &guard.ui;
    let window = ui.window().window();
    let (w, h) = config.kiosk.orientation.size();
    window.set_size(slint::LogicalSize::new(w as f32, h as f32));
    if fullscreen {
        window.set_fullscreen(true);
        crate::kiosk::keyboard::keep_open(window);
    }
    let frames = match &args.frame_log {
        Some(path) => {
            let app = ui.window().as_weak();
            let page = move || {
                app.upgrade()
                    .map(|app| {
                        use crate::kiosk::bridge::{Shell, Theme};
                        let shell = app.global::<Shell>();
                        let language = if shell.get_english() { "en" } else { "zh" };
                        let mode = if app.global::<Theme>().get_elder() {
                            "elder"
                        } else {
                            "standard"
                        };
                        format!("{:?}/{language}/{mode}", shell.get_page())
                    })
                    .unwrap_or_default()
            };
            Some(
                FrameLog::create(path, page)
                    .with_context(|| format!("cannot create the frame log {}", path.display()))?,
            )
        }
        None => None,
    };
    watch_first_frame(
        window,
        started,
        FirstFrame {
            file: args.first_frame_file,
            exit: args.exit_after_first_frame,
        },
        frames,
        {
            // The devices start once the home screen is up. A kiosk that cannot start them
            // stops (systemd restarts it and the failure shows) rather than run without devices.
            let (running, failed) = (Rc::clone(&running), Rc::clone(&failed));
            let app = ui.window().as_weak();
            move || {
                if fullscreen {
                    fill_the_monitor(&app);
                }
                if let Err(e) = running.borrow_mut().start_devices() {
                    *failed.borrow_mut() = Some(e);
                    let _ = slint::quit_event_loop();
                }
            }
        },
    );
    #[cfg(debug_assertions)]
    if let Some(path) = &args.control_socket {
        crate::kiosk::control::serve(path, ui.window().as_weak())
            .with_context(|| format!("cannot open the control socket {}", path.display()))?;
    }
    let _keepalive = crate::kiosk::watchdog::start();
    let window = ui.window().clone_strong();
    drop(guard);
    window.run()?;
    if let Some(e) = failed.borrow_mut().take() {
        return Err(e.context("cannot start the devices"));
    }
    tracing::info!("kiosk stopped");
    Ok(())
}

/// Full screen without a window manager (an X server alone, as on a bare hall PC or under Xvfb)
/// is a request nobody grants: the window would keep its 1920×1080 on a 1280×800 panel, its right
/// side and bottom off the screen. After the first frame, when the window exists, it takes its
/// monitor's size. On DRM/KMS there is no winit window: the display's mode is used already.
fn fill_the_monitor(app: &slint::Weak<crate::kiosk::bridge::AppWindow>) {
    use slint::winit_030::WinitWindowAccessor;
    let Some(app) = app.upgrade() else { return };
    let window = app.window();
    let monitor = window
        .with_winit_window(|w| w.current_monitor().map(|m| m.size()))
        .flatten();
    match monitor {
        Some(size) if size.width > 0 && size.height > 0 => {
            let size = slint::PhysicalSize::new(size.width, size.height);
            if window.size() != size {
                tracing::info!(
                    width = size.width,
                    height = size.height,
                    "full screen: the monitor's size"
                );
                window.set_size(size);
            }
        }
        _ => tracing::debug!("full screen: no monitor size to take"),
    }
}
