//! The `hallkiosk` subcommands for maintainers and technicians, one module each; `main.rs` only
//! parses the command line and dispatches here.

pub mod admin;
pub mod config;
pub mod hil;
pub mod idcard;
pub mod outbox;
pub mod print;
pub mod run;
pub mod scan;
pub(crate) mod sim_console;
pub mod sync;
pub mod voice;
