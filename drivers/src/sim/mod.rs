//! Simulated devices for development, the dev dock and CI.
//!
//! The byte-level simulators speak the real devices' protocols with the drivers' own codecs:
//! [`sam`] (ID-card reader on a pty), [`printer`] (ESC/POS printer on loopback TCP or a pty) and
//! [`scanner`] (serial QR scanner on a pty); the camera's stand-in is a folder of frames.
//! There is one simulation path: [`rig::SimRig`] starts them all for a kiosk whose devices are
//! `sim`, and the kiosk's real services open them like any device; the dev dock drives the
//! simulators ([`DockCommand`]), never the flow. The CLI starts them one at a time
//! (`hallkiosk idcard sim`, `hallkiosk print sim`, `hallkiosk scan sim`).

pub mod fixtures;
pub mod gadget;
pub mod printer;
pub mod rig;
pub mod sam;
pub mod scanner;

pub use rig::DockCommand;

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
    /// The simulator's state, shared (for a thread that changes it later).
    pub fn shared(&self) -> Arc<Mutex<S>> {
        Arc::clone(&self.state)
    }

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

/// Opens a tty the simulator serves on as the device side (a USB gadget's `/dev/ttyGS0`): raw,
/// with the same 20 ms read timeout as a pty's master.
pub fn open_device_tty(path: &str) -> std::io::Result<serialport::TTYPort> {
    serialport::new(path, 115_200)
        .timeout(std::time::Duration::from_millis(20))
        .open_native()
        .map_err(std::io::Error::from)
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
