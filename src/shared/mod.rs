//! What every process of the kiosk shares: the configuration file, the service catalog, the one
//! clock, device health words, and logging. Nothing here opens a window, a device or a socket.

pub mod admin;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod health;
pub mod logging;
