//! The kiosk's flows as plain state machines: no window, no devices, no clock of their own.
//!
//! [`kiosk::Kiosk`] takes three kinds of input — a citizen's [`kiosk::Intent`]s from the screen, the
//! devices' [`hallkiosk_drivers::DeviceEvent`]s, and the passing of time as [`kiosk::Kiosk::tick`] —
//! and holds what the screen shows. The Slint bridge (`crate::kiosk::bridge`) only forwards input and copies
//! state to properties, so every rule here is tested without a window.

pub mod apply;
pub mod hall;
pub mod idle;
pub mod kiosk;
pub mod pinyin_input;
pub mod route;
pub mod session;
