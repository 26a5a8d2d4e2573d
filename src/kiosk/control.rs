//! The test control socket of `hallkiosk run --control-socket PATH` (debug builds only).
//!
//! The end-to-end test drives the real binary in a real X window (Xvfb) the way a citizen does: it
//! asks this socket where an element with an accessible label is on the screen and taps there with
//! synthetic X input (`xdotool`), so each tap travels X → winit → Slint like a finger's. The socket
//! only answers questions about what is on screen; it never acts on the UI itself.
//!
//! Protocol: one request per line, one JSON reply per line.
//! - `find <label>`: `[{"x":…,"y":…,"w":…,"h":…,"role":"button"}, …]`, the visible elements with
//!   that accessible label, in screen pixels.
//! - `labels`: every accessible label on screen, in tree order (for failure messages).
//!
//! Release builds carry neither the flag nor this module: Slint's element search needs the debug
//! info only debug builds compile into the UI (build.rs), and a kiosk has no business answering.

use i_slint_backend_testing::{ElementHandle, ElementRoot};
use slint::ComponentHandle;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use crate::kiosk::bridge::AppWindow;

/// Listens on `path` (replacing a stale socket) and answers from the UI thread.
pub fn serve(path: &Path, window: slint::Weak<AppWindow>) -> std::io::Result<()> {
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path)?;
    tracing::warn!(socket = %path.display(), "test control socket open (debug build)");
    std::thread::Builder::new()
        .name("control".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                let window = window.clone();
                let _ = std::thread::Builder::new()
                    .name("control-client".into())
                    .spawn(move || client(stream, window));
            }
        })?;
    Ok(())
}

fn client(stream: UnixStream, window: slint::Weak<AppWindow>) {
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    for line in BufReader::new(stream).lines() {
        let Ok(line) = line else { return };
        let reply = answer(line.trim().to_string(), window.clone());
        if writeln!(out, "{reply}").is_err() {
            return;
        }
    }
}

/// Runs the query on the UI thread and waits (at most 5 s) for its answer.
fn answer(request: String, window: slint::Weak<AppWindow>) -> String {
    let (tx, rx) = mpsc::channel();
    let queued = slint::invoke_from_event_loop(move || {
        let reply = match window.upgrade() {
            Some(app) => query(&app, &request),
            None => serde_json::json!({"error": "no window"}),
        };
        let _ = tx.send(reply.to_string());
    });
    if queued.is_err() {
        return r#"{"error":"the event loop is not running"}"#.into();
    }
    rx.recv_timeout(Duration::from_secs(5))
        .unwrap_or_else(|_| r#"{"error":"the UI thread did not answer within 5 s"}"#.into())
}

fn query(app: &AppWindow, request: &str) -> serde_json::Value {
    if let Some(label) = request.strip_prefix("find ") {
        let window = app.window();
        let scale = window.scale_factor();
        let origin = window.position();
        let found: Vec<serde_json::Value> = ElementHandle::find_by_accessible_label(app, label)
            .filter(|e| e.computed_opacity() > 0.0)
            .filter_map(|e| {
                let size = e.size();
                if size.width <= 0.0 || size.height <= 0.0 {
                    return None;
                }
                let p = e.absolute_position();
                Some(serde_json::json!({
                    "x": origin.x as f32 + p.x * scale,
                    "y": origin.y as f32 + p.y * scale,
                    "w": size.width * scale,
                    "h": size.height * scale,
                    "role": e.accessible_role().map(|r| format!("{r:?}").to_lowercase()),
                }))
            })
            .collect();
        serde_json::Value::Array(found)
    } else if request == "labels" {
        let labels: Vec<String> = app
            .root_element()
            .query_descendants()
            .match_predicate(|e| e.accessible_label().is_some_and(|l| !l.is_empty()))
            .find_all()
            .into_iter()
            .filter_map(|e| e.accessible_label().map(|l| l.to_string()))
            .collect();
        serde_json::json!(labels)
    } else {
        serde_json::json!({"error": format!("unknown request {request:?}: find <label> | labels")})
    }
}
