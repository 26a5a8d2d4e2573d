//! The kiosk runtime (`hallkiosk run`): the wiring of flow, window, devices and effects ([`app`]),
//! the thin Slint [`bridge`], the [`effects`] runner (outbox store thread, printing, the
//! [`document_camera`]), the device services on their own threads ([`devices`]), receipts' layout
//! ([`receipt`]), start-up timing ([`startup`]), systemd's watchdog ([`watchdog`]) and, in debug
//! builds, the control socket the end-to-end test taps through ([`control`]); no key combination
//! ends it ([`keyboard`]). This process has no
//! network: live answers come through the sync daemon's local socket.

pub mod app;
pub mod bridge;
#[cfg(debug_assertions)]
pub(crate) mod control;
pub mod devices;
pub(crate) mod document_camera;
pub(crate) mod effects;
pub mod health;
pub mod keyboard;
pub(crate) mod receipt;
pub mod startup;
pub(crate) mod watchdog;
