//! hallkiosk — the software of self-service terminals in government service halls (政务服务自助终端).
//!
//! The tree shows the processes that share this crate:
//!
//! | module | what | runs in |
//! |---|---|---|
//! | [`shared`] | configuration, the service catalog, the clock, device health, logging | every process |
//! | [`flows`] | the kiosk as plain state machines: the routing `Kiosk` and one module per page or task | `hallkiosk run` |
//! | [`kiosk`] | the kiosk runtime: app wiring, the Slint bridge, effects, document camera, device services, control socket | `hallkiosk run` |
//! | [`outbox`] | the store: sealed submissions, tickets, ratings, device health (SQLite) | `hallkiosk run`, `hallkiosk-sync` |
//! | [`sync`] | the sync daemon: delivery to the platform, pulls, heartbeat, the local socket | `hallkiosk-sync` |
//! | [`cli`] | the maintainers' and technicians' subcommands (`idcard`, `print`, `scan`, `hil`, …) | `hallkiosk …` |
//!
//! Devices live in the `hallkiosk-drivers` crate and reach the flows only as typed events. `main.rs`
//! only dispatches the command line to these modules.

pub mod cli;
pub mod flows;
pub mod kiosk;
pub mod outbox;
pub mod shared;
pub mod sync;
pub mod voice;
