//! Device drivers of the hallkiosk terminal.
//!
//! This crate talks to the kiosk's devices: the resident ID-card reader (GA/T 467 SAM), QR scanners,
//! the receipt printer (ESC/POS) and the document camera. It knows nothing about Slint, SQL or HTTP:
//! the application sees devices only as typed [`DeviceEvent`]s and commands.
//!
//! Every driver is built from three parts (see `docs/architecture.md` in the repository):
//! - a **codec** — sans-IO, bytes in → frames/events out, commands → bytes;
//! - a **transport** ([`transport`]) — serial, USB, usblp, TCP, evdev, V4L2;
//! - a **service** — an async task that polls, reconnects with backoff and reports health.
//!
//! The simulators in [`sim`] stand in for real devices during development and in CI; the dev dock on
//! the kiosk screen drives them.

pub mod camera;
pub mod event;
pub mod fault;
pub mod idcard;
pub mod printer;
pub mod scanner;
pub mod sim;
pub mod transport;

pub use event::{DeviceEvent, DeviceKind};
