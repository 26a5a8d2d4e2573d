//! hallkiosk — the software of self-service terminals in government service halls (政务服务自助终端).
//!
//! This crate is the kiosk application: configuration ([`config`]), the service catalog
//! ([`catalog`]), the flows as plain state machines ([`flows`]) and the thin bridge to the Slint UI
//! ([`ui`]). Devices live in the `hallkiosk-drivers` crate and reach the flows only as typed events.
//! `main.rs` wires these together behind the `hallkiosk` command line.

pub mod app;
pub mod catalog;
pub mod clock;
pub mod config;
#[cfg(debug_assertions)]
pub mod control;
pub mod devices;
pub mod document_camera;
pub mod effects;
pub mod flows;
pub mod health;
pub mod hil;
pub mod idcard_cli;
pub mod logging;
pub mod outbox;
pub mod print_cli;
pub mod receipt;
pub mod scan_cli;
pub mod sim_console;
pub mod startup;
pub mod sync;
pub mod ui;
pub mod watchdog;
