//! The kiosk as plain state machines, testable without a window, a clock or a device.
//!
//! - [`kiosk`]: the routing `Kiosk` — page, session, language and elder mode, idle countdown,
//!   notices, device faults — and its contract (inputs, outputs, the order to call them);
//! - one module per page or task, each with its own intents, `handle` and `done`:
//!   [`identify`], [`guide`], [`apply`] (with `form`, `materials`, `pinyin`), [`ticket`],
//!   [`progress`], [`rating`], [`maintenance`];
//! - what pages share: [`effect`] (the work a flow asks for and the answers), [`text`] (the
//!   bilingual consent text; the screen's other words are in `ui/` and the catalog),
//!   [`session`] (the identified citizen), [`idle`] (the countdown), [`route`] (which scanned
//!   code is whose).

pub mod apply;
pub mod effect;
pub mod guide;
pub mod identify;
pub mod idle;
pub mod kiosk;
pub mod maintenance;
pub mod progress;
pub mod rating;
pub mod route;
pub mod session;
pub mod text;
pub mod ticket;
