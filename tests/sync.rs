//! The way from the outbox to the platform, with real processes over loopback: `hallkiosk outbox
//! test-submit` (the writer), `hallkiosk sync` (the daemon) and `hallkiosk-platform` (SQLite).
//!
//! - every submission arrives exactly once, payloads are purged, no personal bytes remain on disk;
//! - refusals: a permanent one is kept as rejected and not retried; bad credentials keep entries;
//! - a fault-injecting proxy (response dropped after the platform committed, 500s, resets, stalls,
//!   truncated answers): 0 duplicates, 0 lost;
//! - kill -9 of the writer and the daemon at random moments over many cycles (200 in CI;
//!   `HALLKIOSK_KILL_CYCLES` for a soak, see scripts/soak-sync): every acknowledged submission
//!   reaches the platform exactly once and `PRAGMA integrity_check` stays `ok`.

#[path = "common/platform.rs"]
mod platform;
use hallkiosk_platform::lab::{admin, PlatformProcess};
use platform::platform_bin;
use rand::{Rng, SeedableRng};
use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const KIOSK: &str = "K-LAB";
const TOKEN: &str = "lab-kiosk-token-0123456789abcdef";
/// The lab's fleet-page operator `lab-ops` and their token, as an HTTP Basic credential.
const OPERATOR_TOKEN: &str = "lab-operator-token-0123456789";
const OPERATOR_BASIC: &str = "bGFiLW9wczpsYWItb3BlcmF0b3ItdG9rZW4tMDEyMzQ1Njc4OQ==";

fn hallkiosk() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_hallkiosk"))
}

/// `hallkiosk-platform` from the same target directory (built here if this test runs alone).
/// A platform with the lab kiosk registered, and the kiosk's data directory and configuration.
struct Lab {
    dir: tempfile::TempDir,
    db: String,
    platform: Option<PlatformProcess>,
    config: PathBuf,
}

impl Lab {
    fn new(kiosk_id: &str, batch: u32) -> Lab {
        Lab::with(kiosk_id, batch, |_| Vec::new())
    }

    /// `serve_args` gets the lab directory (to write certificates into) and returns extra arguments.
    fn with(kiosk_id: &str, batch: u32, serve_args: impl FnOnce(&Path) -> Vec<String>) -> Lab {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("platform.db").to_str().unwrap().to_string();
        admin(
            &platform_bin(),
            &db,
            &["kiosk", "add", KIOSK, "--token", TOKEN],
        );
        admin(
            &platform_bin(),
            &db,
            &["operator", "add", "lab-ops", "--token", OPERATOR_TOKEN],
        );
        // The lab's daemon restarts and retries far faster than a hall's (kill cycles, 20 ms
        // backoff): the per-kiosk rate limit is platform/tests/abuse.rs's subject, not this file's.
        let mut extra = serve_args(dir.path());
        extra.extend(["--kiosk-rate", "1000", "--kiosk-burst", "1000"].map(String::from));
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let platform = PlatformProcess::start(&platform_bin(), &db, &extra);
        let data = dir.path().join("kiosk");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(data.join("platform.token"), TOKEN).unwrap();
        let lab = Lab {
            config: dir.path().join("kiosk.toml"),
            dir,
            db,
            platform: Some(platform),
        };
        lab.configure(kiosk_id, &lab.platform_url(), batch);
        lab
    }

    fn platform_url(&self) -> String {
        self.platform.as_ref().unwrap().url.clone()
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("kiosk")
    }

    fn configure(&self, kiosk_id: &str, url: &str, batch: u32) {
        self.configure_with(kiosk_id, url, batch, "");
    }

    /// `extra` goes into the `[platform]` section.
    fn configure_with(&self, kiosk_id: &str, url: &str, batch: u32, extra: &str) {
        std::fs::write(
            &self.config,
            format!(
                "[kiosk]\nid = \"{kiosk_id}\"\n[storage]\ndata_dir = \"{}\"\n[platform]\nurl = \"{url}\"\n\
                 batch_size = {batch}\nrequest_timeout_secs = 1\nbackoff_base_ms = 20\nbackoff_cap_secs = 1\n\
                 poll_ms = 50\nheartbeat_secs = 5\npull_secs = 5\n{extra}",
                self.data().display()
            ),
        )
        .unwrap();
    }

    /// `hallkiosk --config <lab config> ARGS`.
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(hallkiosk());
        c.arg("--config")
            .arg(&self.config)
            .args(args)
            .env("RUST_LOG", "warn");
        c
    }

    fn kiosk(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    /// `sync --once`, which must exit with `code` (0: nothing waits, 3: entries wait).
    fn sync_once(&self, code: i32) -> Output {
        let out = self.kiosk(&["sync", "--once"]);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Queues `n` synthetic submissions; returns their tracking codes.
    fn submit(&self, n: u64) -> Vec<String> {
        let out = self.kiosk(&["outbox", "test-submit", "--count", &n.to_string()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        codes(&out.stdout)
    }

    fn stats(&self) -> serde_json::Value {
        let out = self.kiosk(&["outbox", "stats", "--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// What the platform stored: tracking code → count.
    fn platform_codes(&self) -> HashMap<String, usize> {
        let mut seen = HashMap::new();
        for line in admin(&platform_bin(), &self.db, &["submissions"]).lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            *seen
                .entry(v["tracking_code"].as_str().unwrap().to_string())
                .or_insert(0) += 1;
        }
        seen
    }

    /// Runs `sync --once` until nothing waits (the network is fine by then; a key still leased by a
    /// request the platform never finished answers 409 until its 30 s lease ends).
    fn drain(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let out = self.kiosk(&["sync", "--once"]);
            if out.status.code() == Some(0) {
                return;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        panic!("the outbox did not drain: {}", self.stats());
    }
}

/// Complete `CODE\tKEY` lines (a line cut by a kill is not an acknowledgement).
fn codes(stdout: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(stdout);
    text.split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .filter_map(|l| l.split('\t').next())
        .map(str::to_string)
        .collect()
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

/// Occurrences of `needle` in the outbox's database, WAL and shared-memory files.
fn scan(data: &Path, needle: &[u8]) -> usize {
    ["outbox.db", "outbox.db-wal", "outbox.db-shm"]
        .iter()
        .filter_map(|f| std::fs::read(data.join(f)).ok())
        .map(|bytes| count(&bytes, needle))
        .sum()
}

#[test]
fn every_submission_arrives_once_and_leaves_no_personal_data_behind() {
    let lab = Lab::new(KIOSK, 7);
    let catalog = std::fs::read_to_string("data/catalog/catalog.json")
        .unwrap()
        .replace("\"version\": \"2026.11.1\"", "\"version\": \"2099.1.1\"");
    let file = lab.dir.path().join("catalog.json");
    std::fs::write(&file, catalog).unwrap();
    admin(
        &platform_bin(),
        &lab.db,
        &["catalog", "publish", file.to_str().unwrap()],
    );

    let sent = lab.submit(30);
    assert_eq!(sent.len(), 30);
    // The kiosk process records a device fault for the heartbeat (the daemon has no devices).
    let config = hallkiosk::shared::config::Config::load(Some(&lab.config))
        .unwrap()
        .0;
    let health = hallkiosk::kiosk::health::HealthRecorder::start(&config);
    let paper_out = hallkiosk_drivers::printer::PrinterStatus {
        paper_end: true,
        ..Default::default()
    };
    health.record(&hallkiosk_drivers::event::DeviceEvent::PrinterStatus(
        paper_out,
    ));
    drop(health);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while rt
        .block_on(async {
            let ob = hallkiosk::outbox::open_configured(&config).await.unwrap();
            let h = ob.device_health().await.unwrap();
            ob.close().await;
            h
        })
        .is_empty()
    {
        assert!(Instant::now() < deadline, "device health not recorded");
        std::thread::sleep(Duration::from_millis(50));
    }
    let name = "测试样例".as_bytes();
    let out = lab.sync_once(0);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "waiting 0");

    let stored = lab.platform_codes();
    assert_eq!(stored.len(), 30);
    assert!(sent.iter().all(|c| stored.get(c) == Some(&1)));
    // The platform received the real fields and material bytes.
    let store = rt
        .block_on(hallkiosk_platform::store::Store::open(
            &lab.db,
            Duration::from_secs(30),
        ))
        .unwrap();
    let rows = rt.block_on(store.submissions(Some(KIOSK))).unwrap();
    let first = rows.iter().find(|r| r.tracking_code == sent[0]).unwrap();
    let expected = hallkiosk::outbox::test_submission(0, 2048);
    assert_eq!(
        first.submission.fields[0].value,
        expected.payload.fields[0].1
    );
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&first.submission.materials[0].data_base64)
        .unwrap();
    assert_eq!(bytes, expected.payload.materials[0].bytes);
    rt.block_on(store.close());

    let stats = lab.stats();
    assert_eq!(
        (stats["accepted"].as_i64(), stats["depth"].as_i64()),
        (Some(30), Some(0))
    );
    // After acknowledgement: no personal bytes in the db, -wal or -shm (and the scan can find one).
    assert_eq!(scan(&lab.data(), name), 0);
    assert_eq!(scan(&lab.data(), "政务服务中心自助区".as_bytes()), 0);
    assert!(
        scan(&lab.data(), KIOSK.as_bytes()) > 0,
        "the scan reads the files"
    );

    // Heartbeat on the platform; the newer catalog stored for the UI; a clerk's decision comes back.
    let kiosks: serde_json::Value =
        serde_json::from_str(&admin(&platform_bin(), &lab.db, &["kiosk", "list"])).unwrap();
    assert_eq!(kiosks[0]["outbox_depth"], 0);
    assert_eq!(kiosks[0]["devices"][0]["device"], "printer");
    assert_eq!(kiosks[0]["devices"][0]["level"], "fault");
    assert_eq!(kiosks[0]["devices"][0]["detail"], "paper out");
    assert!(kiosks[0]["last_heartbeat_ms"].as_i64().is_some());
    assert!(lab.data().join("catalog/2099.1.1.json").exists());
    let (c, _) = hallkiosk::shared::catalog::Catalog::newest(&lab.data().join("catalog")).unwrap();
    assert_eq!(c.version, "2099.1.1");
    admin(
        &platform_bin(),
        &lab.db,
        &["review", "--kiosk", KIOSK, &sent[3], "approved"],
    );
    lab.sync_once(0);
    let list = lab.kiosk(&["outbox", "list", "--limit", "100", "--json"]);
    let entries: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let e = entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["tracking_code"] == sent[3].as_str())
        .unwrap();
    assert_eq!(e["platform_state"], "approved");
    assert_eq!(e["payload_present"], false);
}

#[test]
fn refusals_keep_the_submission() {
    // The platform knows this kiosk as K-LAB; a kiosk configured as K-OTHER sends codes that are not
    // its token's: the platform refuses each for good (403), and the kiosk keeps them as rejected.
    let lab = Lab::new("K-OTHER", 10);
    lab.submit(3);
    lab.sync_once(0); // nothing left waiting
    let stats = lab.stats();
    assert_eq!(stats["rejected"].as_i64(), Some(3), "{stats}");
    let list = lab.kiosk(&["outbox", "list", "--json"]);
    let entries: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert!(entries[0]["reject_reason"]
        .as_str()
        .unwrap()
        .contains("forbidden"));
    assert!(
        entries[0]["payload_present"].as_bool().unwrap(),
        "kept for maintainers"
    );
    assert!(lab.platform_codes().is_empty());

    // Wrong credentials are a provisioning fault, not the submission's: entries stay queued.
    std::fs::write(lab.data().join("platform.token"), "not-the-right-token-000").unwrap();
    lab.submit(2);
    lab.sync_once(3); // entries still wait
    let stats = lab.stats();
    assert_eq!(
        (stats["queued"].as_i64(), stats["rejected"].as_i64()),
        (Some(2), Some(3))
    );
    let list = lab.kiosk(&["outbox", "list", "--json"]);
    let entries: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert!(entries[0]["last_error"]
        .as_str()
        .unwrap()
        .contains("credentials"));

    // No platform configured: a clear error, nothing touched.
    let bare = lab.dir.path().join("bare.toml");
    std::fs::write(
        &bare,
        format!("[storage]\ndata_dir = \"{}\"\n", lab.data().display()),
    )
    .unwrap();
    let out = Command::new(hallkiosk())
        .args(["--config", bare.to_str().unwrap(), "sync", "--once"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no platform is configured"));
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Fault {
    Pass,
    /// Forward, let the platform commit, then hang up without the answer.
    DropAfterCommit,
    Http500,
    /// TCP reset before anything is forwarded.
    Reset,
    /// Forward, then say nothing past the client's timeout.
    Stall,
    /// Forward, then send half of the answer.
    Truncate,
}

/// Sits between the kiosk and the platform; one request per connection, a seeded random fault each.
struct FaultProxy {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    counts: Arc<Mutex<HashMap<Fault, usize>>>,
}

impl FaultProxy {
    fn start(upstream: SocketAddr, seed: u64) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let counts = Arc::new(Mutex::new(HashMap::new()));
        let rng = Arc::new(Mutex::new(rand::rngs::StdRng::seed_from_u64(seed)));
        let (s, c) = (stop.clone(), counts.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let fault = match rng.lock().unwrap().gen_range(0..100) {
                    0..=44 => Fault::Pass,
                    45..=59 => Fault::DropAfterCommit,
                    60..=69 => Fault::Http500,
                    70..=79 => Fault::Reset,
                    80..=89 => Fault::Stall,
                    _ => Fault::Truncate,
                };
                let c = c.clone();
                std::thread::spawn(move || {
                    if relay(conn, upstream, fault).is_ok() {
                        *c.lock().unwrap().entry(fault).or_insert(0) += 1;
                    }
                });
            }
        });
        FaultProxy { addr, stop, counts }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

/// Reads one HTTP/1.1 request (headers and a Content-Length body) and rewrites it to close.
fn read_request(conn: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 4096];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let n = conn.read(&mut byte)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&byte[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())
                .flatten()
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = conn.read(&mut byte)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&byte[..n]);
    }
    let mut out: Vec<u8> = head
        .trim_end()
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .flat_map(|l| [l.as_bytes(), b"\r\n"].concat())
        .collect();
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out.extend_from_slice(&buf[head_end..]);
    Ok(out)
}

fn forward(request: &[u8], upstream: SocketAddr) -> std::io::Result<Vec<u8>> {
    let mut up = TcpStream::connect(upstream)?;
    up.write_all(request)?;
    let mut response = Vec::new();
    up.read_to_end(&mut response)?;
    Ok(response)
}

fn relay(mut conn: TcpStream, upstream: SocketAddr, fault: Fault) -> std::io::Result<()> {
    let request = read_request(&mut conn)?;
    match fault {
        Fault::Pass => conn.write_all(&forward(&request, upstream)?)?,
        Fault::DropAfterCommit => {
            forward(&request, upstream)?;
        }
        Fault::Http500 => conn.write_all(
            b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )?,
        Fault::Reset => {
            use std::os::fd::AsRawFd;
            let linger = libc::linger {
                l_onoff: 1,
                l_linger: 0,
            };
            // SAFETY: a valid socket and a correctly sized option value.
            unsafe {
                libc::setsockopt(
                    conn.as_raw_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_LINGER,
                    &linger as *const libc::linger as *const libc::c_void,
                    std::mem::size_of::<libc::linger>() as libc::socklen_t,
                );
            }
        }
        Fault::Stall => {
            forward(&request, upstream)?;
            std::thread::sleep(Duration::from_millis(1500));
        }
        Fault::Truncate => {
            let response = forward(&request, upstream)?;
            conn.write_all(&response[..response.len() / 2])?;
        }
    }
    Ok(())
}

#[test]
fn a_faulty_network_causes_no_duplicates_and_no_losses() {
    let lab = Lab::new(KIOSK, 4);
    let upstream: SocketAddr = lab
        .platform_url()
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let proxy = FaultProxy::start(upstream, 0x5EED);
    lab.configure(KIOSK, &format!("http://{}", proxy.addr), 4);
    let sent = lab.submit(120);
    let mut daemon = lab.spawn(&["sync"]);
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let stats = lab.stats();
        if stats["accepted"].as_i64() == Some(sent.len() as i64) {
            break;
        }
        assert_eq!(stats["rejected"].as_i64(), Some(0), "{stats}");
        assert!(Instant::now() < deadline, "not delivered in time: {stats}");
        std::thread::sleep(Duration::from_millis(500));
    }
    let _ = daemon.kill();
    let _ = daemon.wait();
    let counts = proxy.counts.lock().unwrap().clone();
    for f in [
        Fault::Pass,
        Fault::DropAfterCommit,
        Fault::Http500,
        Fault::Reset,
        Fault::Stall,
        Fault::Truncate,
    ] {
        assert!(
            counts.get(&f).copied().unwrap_or(0) > 0,
            "{f:?} never injected: {counts:?}"
        );
    }
    let stored = lab.platform_codes();
    assert_eq!(stored.len(), sent.len(), "lost or extra: {counts:?}");
    let duplicates: Vec<_> = stored.iter().filter(|(_, n)| **n > 1).collect();
    assert!(duplicates.is_empty());
    assert!(sent.iter().all(|c| stored.contains_key(c)));
    eprintln!("faults injected: {counts:?}");
}

fn integrity(data: &Path) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let key = hallkiosk::outbox::crypto::PayloadKey::load_or_create(
            &data.join(hallkiosk::outbox::KEY_FILE),
        )
        .unwrap();
        let ob = hallkiosk::outbox::Outbox::open(&data.join("outbox.db"), key, KIOSK)
            .await
            .unwrap();
        let r = ob.integrity_check().await.unwrap();
        ob.close().await;
        r
    })
}

fn kill9(child: &mut Child) {
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    let _ = child.wait();
}

#[test]
fn kill_9_of_writer_and_daemon_loses_and_duplicates_nothing() {
    let cycles: usize = std::env::var("HALLKIOSK_KILL_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let seed: u64 = std::env::var("HALLKIOSK_KILL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20261123);
    let lab = Lab::new(KIOSK, 5);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut acknowledged: HashSet<String> = HashSet::new();
    let started = Instant::now();
    for cycle in 0..cycles {
        let mut writer = lab.spawn(&[
            "outbox",
            "test-submit",
            "--count",
            "40",
            "--material-bytes",
            "512",
        ]);
        let mut daemon = lab.spawn(&["sync"]);
        std::thread::sleep(Duration::from_millis(rng.gen_range(5..120)));
        // Kill one, then the other a little later, in a random order.
        let writer_first = rng.gen_bool(0.5);
        let gap = Duration::from_millis(rng.gen_range(0..60));
        if writer_first {
            kill9(&mut writer);
            std::thread::sleep(gap);
            kill9(&mut daemon);
        } else {
            kill9(&mut daemon);
            std::thread::sleep(gap);
            kill9(&mut writer);
        }
        let mut out = Vec::new();
        writer.stdout.take().unwrap().read_to_end(&mut out).unwrap();
        acknowledged.extend(codes(&out));
        if cycle % 10 == 9 || cycle + 1 == cycles {
            assert_eq!(integrity(&lab.data()), "ok", "cycle {cycle}");
        }
    }
    eprintln!(
        "{cycles} kill cycles in {:.1} s, {} acknowledged submissions",
        started.elapsed().as_secs_f64(),
        acknowledged.len()
    );
    lab.drain();
    assert_eq!(integrity(&lab.data()), "ok");
    let stats = lab.stats();
    assert_eq!(stats["rejected"].as_i64(), Some(0), "{stats}");
    let stored = lab.platform_codes();
    let lost: Vec<_> = acknowledged
        .iter()
        .filter(|c| !stored.contains_key(*c))
        .collect();
    assert!(
        lost.is_empty(),
        "acknowledged but not on the platform: {lost:?}"
    );
    assert!(
        stored.values().all(|n| *n == 1),
        "duplicates on the platform"
    );
    // Everything the kiosk holds (acknowledged or committed just before a kill) arrived, nothing else.
    assert_eq!(
        stats["accepted"].as_i64(),
        Some(stored.len() as i64),
        "{stats}"
    );
    assert!(
        acknowledged.len() > cycles,
        "the writer got work done: {}",
        acknowledged.len()
    );
}

/// A lab CA, the platform's server certificate (127.0.0.1) and the kiosk's client certificate, as
/// PEM files in `dir`: ca.pem, server.pem, server.key, kiosk.pem, kiosk.key.
fn lab_pki(dir: &Path) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "hallkiosk lab CA");
    let ca = ca.self_signed(&ca_key).unwrap();
    let issue = |names: Vec<String>, cn: &str, purpose: ExtendedKeyUsagePurpose, file: &str| {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(names).unwrap();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.extended_key_usages = vec![purpose];
        let cert = p.signed_by(&key, &ca, &ca_key).unwrap();
        std::fs::write(dir.join(format!("{file}.pem")), cert.pem()).unwrap();
        std::fs::write(dir.join(format!("{file}.key")), key.serialize_pem()).unwrap();
    };
    issue(
        vec!["127.0.0.1".into(), "localhost".into()],
        "platform",
        ExtendedKeyUsagePurpose::ServerAuth,
        "server",
    );
    issue(
        Vec::new(),
        KIOSK,
        ExtendedKeyUsagePurpose::ClientAuth,
        "kiosk",
    );
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
}

#[test]
fn mutual_tls_delivers_and_a_kiosk_without_its_certificate_cannot() {
    let lab = Lab::with(KIOSK, 10, |dir| {
        lab_pki(dir);
        let path = |f: &str| dir.join(f).to_str().unwrap().to_string();
        vec![
            "--tls-cert".into(),
            path("server.pem"),
            "--tls-key".into(),
            path("server.key"),
            "--client-ca".into(),
            path("ca.pem"),
        ]
    });
    let url = lab.platform_url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let pki = lab.dir.path();
    let trust = format!("ca_file = \"{}\"\n", pki.join("ca.pem").display());
    let identity = format!(
        "client_cert = \"{}\"\nclient_key = \"{}\"\n",
        pki.join("kiosk.pem").display(),
        pki.join("kiosk.key").display()
    );

    // Without its client certificate the handshake fails: nothing is delivered, nothing is lost.
    lab.configure_with(KIOSK, &url, 10, &trust);
    let sent = lab.submit(3);
    lab.sync_once(3);
    // Without trusting the lab CA the kiosk refuses the platform's certificate.
    lab.configure_with(KIOSK, &url, 10, &identity);
    lab.sync_once(3);
    assert!(lab.platform_codes().is_empty());
    let list = lab.kiosk(&["outbox", "list", "--json"]);
    let entries: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert!(
        entries[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("connect"),
        "{entries}"
    );

    // With both: delivered over mutual TLS.
    lab.configure_with(KIOSK, &url, 10, &format!("{trust}{identity}"));
    lab.sync_once(0);
    let stored = lab.platform_codes();
    assert_eq!(stored.len(), 3);
    assert!(sent.iter().all(|c| stored.get(c) == Some(&1)));
}

/// `GET url` as the lab's operator over a plain TCP connection; the response body.
fn http_get(url: &str) -> String {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
    let mut conn = TcpStream::connect(host).unwrap();
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic {OPERATOR_BASIC}\r\n\
         Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    conn.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response).to_string();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    text.split_once("\r\n\r\n").unwrap().1.to_string()
}

#[test]
fn ratings_reach_the_platform_once_and_low_ones_are_flagged() {
    use hallkiosk::outbox::{crypto::PayloadKey, NewRating, Outbox};
    let lab = Lab::new(KIOSK, 50);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let open = || async {
        let key = PayloadKey::load_or_create(&lab.data().join("outbox.key")).unwrap();
        Outbox::open(&lab.data().join("outbox.db"), key, KIOSK)
            .await
            .unwrap()
    };
    rt.block_on(async {
        let ob = open().await;
        let good = NewRating {
            service_item: Some("P-TAX-001".into()),
            tracking_code: None,
            level: 5,
            reason: None,
        };
        ob.add_rating(&good, 1_000).await.unwrap();
        let low = NewRating {
            level: 2,
            reason: Some("long_wait".into()),
            ..good
        };
        ob.add_rating(&low, 2_000).await.unwrap();
        ob.close().await;
    });
    lab.sync_once(0);
    let flagged: Vec<serde_json::Value> = serde_json::from_str(&http_get(&format!(
        "{}/fleet/ratings.json",
        lab.platform_url()
    )))
    .unwrap();
    assert_eq!(flagged.len(), 1, "{flagged:?}");
    assert_eq!(flagged[0]["kiosk_id"], KIOSK);
    assert_eq!(flagged[0]["level"], 2);
    assert_eq!(flagged[0]["reason"], "long_wait");
    assert_eq!(flagged[0]["service_item"], "P-TAX-001");
    let page = http_get(&format!("{}/fleet", lab.platform_url()));
    assert!(page.contains("To follow up (1)"), "{page}");
    assert!(page.contains("非常满意 very satisfied: 1"));
    // Delivered ratings are not sent again; a replay (as after a lost answer) stores nothing twice.
    rt.block_on(async {
        let ob = open().await;
        assert_eq!(ob.unsent_rating_count().await.unwrap(), 0);
        sqlx::query("UPDATE ratings SET sent_at_ms = NULL")
            .execute(ob.pool())
            .await
            .unwrap();
        ob.close().await;
    });
    lab.sync_once(0);
    let flagged: Vec<serde_json::Value> = serde_json::from_str(&http_get(&format!(
        "{}/fleet/ratings.json",
        lab.platform_url()
    )))
    .unwrap();
    assert_eq!(flagged.len(), 1, "no duplicate after a replay");
    let page = http_get(&format!("{}/fleet", lab.platform_url()));
    assert!(page.contains("非常满意 very satisfied: 1"));
}

#[test]
fn a_payload_that_cannot_be_opened_is_quarantined_and_the_rest_flow() {
    // Issue 21: one bad payload used to fail the whole claim, and the daemon exited before sending
    // anything (systemd restarted it onto the same row, forever).
    let lab = Lab::new(KIOSK, 7);
    let sent = lab.submit(30);
    assert_eq!(sent.len(), 30);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let key =
            hallkiosk::outbox::crypto::PayloadKey::load_or_create(&lab.data().join("outbox.key"))
                .unwrap();
        let ob = hallkiosk::outbox::Outbox::open(&lab.data().join("outbox.db"), key, KIOSK)
            .await
            .unwrap();
        // Row 5: one byte of the ciphertext flipped on storage (a bad byte).
        let sealed: Vec<u8> = sqlx::query_scalar("SELECT payload FROM submissions WHERE id = 5")
            .fetch_one(ob.pool())
            .await
            .unwrap();
        let mut damaged = sealed.clone();
        let at = damaged.len() - 20;
        damaged[at] ^= 0x40;
        sqlx::query("UPDATE submissions SET payload = ? WHERE id = 5")
            .bind(&damaged)
            .execute(ob.pool())
            .await
            .unwrap();
        // Row 12: its service item edited in the database (the payload itself is intact).
        sqlx::query("UPDATE submissions SET service_item = 'P-OTHER' WHERE id = 12")
            .execute(ob.pool())
            .await
            .unwrap();
        ob.close().await;
    });
    let out = lab.sync_once(0);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "waiting 0");
    let stored = lab.platform_codes();
    let bad = [sent[4].clone(), sent[11].clone()];
    assert_eq!(stored.len(), 28, "{stored:?}");
    for code in &sent {
        let expected = usize::from(!bad.contains(code));
        assert_eq!(stored.get(code).copied().unwrap_or(0), expected, "{code}");
    }
    let stats = lab.stats();
    assert_eq!(stats["quarantined"].as_i64(), Some(2), "{stats}");
    assert_eq!(stats["accepted"].as_i64(), Some(28), "{stats}");
    let list = lab.kiosk(&["outbox", "list", "--limit", "100", "--json"]);
    let entries: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    for code in &bad {
        let e = entries
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["tracking_code"] == code.as_str())
            .unwrap();
        assert_eq!(e["state"], "quarantined", "{e}");
        let reason = e["quarantine_reason"].as_str().unwrap();
        assert!(reason.contains("failed authentication"), "{reason}");
        assert_eq!(e["payload_present"], true, "kept for a maintainer");
    }
    // The heartbeat carried the count to the platform.
    let kiosks: serde_json::Value =
        serde_json::from_str(&admin(&platform_bin(), &lab.db, &["kiosk", "list"])).unwrap();
    assert_eq!(kiosks[0]["quarantined"], 2, "{kiosks}");
    // Never claimed again: another pass sends nothing new, and nothing twice.
    lab.submit(3);
    lab.sync_once(0);
    let stored = lab.platform_codes();
    assert_eq!(stored.len(), 31);
    assert!(stored.values().all(|&n| n == 1));
    assert_eq!(lab.stats()["quarantined"].as_i64(), Some(2));
}

#[test]
fn an_answer_longer_than_the_cap_is_an_error_and_not_read_whole() {
    use hallkiosk::sync::adapter::{AdapterError, HttpAdapter, HttpSettings, PlatformAdapter};
    // A "platform" on loopback that answers every request with 4 MiB: once with Content-Length,
    // once chunked without one (the cap must hold while streaming too).
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for (n, conn) in listener.incoming().enumerate() {
            let Ok(mut conn) = conn else { continue };
            let _ = read_request(&mut conn);
            let body = vec![b'x'; 4 << 20];
            let _ = if n % 2 == 0 {
                write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                )
                .and_then(|_| conn.write_all(&body))
            } else {
                (|| {
                    write!(
                        conn,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                    )?;
                    for chunk in body.chunks(64 << 10) {
                        write!(conn, "{:x}\r\n", chunk.len())?;
                        conn.write_all(chunk)?;
                        conn.write_all(b"\r\n")?;
                    }
                    conn.write_all(b"0\r\n\r\n")
                })()
            };
        }
    });
    let adapter = HttpAdapter::new(&HttpSettings {
        base_url: format!("http://{addr}"),
        token: TOKEN.into(),
        timeout: Duration::from_secs(5),
        ca_file: None,
        client_identity: None,
        max_response_bytes: 1 << 20,
    })
    .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for _ in 0..2 {
        match rt.block_on(adapter.status_changes(0)) {
            Err(AdapterError::Transient(e)) => assert!(e.contains("longer than"), "{e}"),
            other => panic!("{other:?}"),
        }
    }
}

/// A kiosk image's os-release (what `scripts/build-image` writes) in `dir`, running `version`.
fn image_os_release(dir: &Path, version: &str) -> PathBuf {
    let f = dir.join("os-release");
    std::fs::write(
        &f,
        format!("ID=debian\nIMAGE_ID=hallkiosk\nIMAGE_VERSION={version}\n"),
    )
    .unwrap();
    f
}

/// `hallkiosk sync --once` on a kiosk image running what `os_release` says.
fn sync_once_on_image(lab: &Lab, os_release: &Path) -> Output {
    let out = lab
        .command(&["sync", "--once"])
        .env("HALLKIOSK_OS_RELEASE", os_release)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(0) | Some(3)) && !stderr.contains("panicked"),
        "{:?}: {stderr}",
        out.status
    );
    out
}

/// The files in the kiosk's drop directory (hidden partial downloads included).
fn drop_dir(lab: &Lab) -> Vec<(String, u64)> {
    let mut files: Vec<(String, u64)> = std::fs::read_dir(lab.data().join("update"))
        .map(|d| {
            d.flatten()
                .map(|e| {
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        e.metadata().unwrap().len(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..n).map(|_| rng.gen()).collect()
}

/// The platform offers a newer bundle (`serve --updates DIR`): one `sync --once` on a kiosk
/// image running an older version downloads it into the drop directory as hallkiosk.raucb, byte
/// for byte; once RAUC has taken it away it does not come back; a newer one lands again; a kiosk
/// already running the offered version fetches nothing.
#[test]
fn an_offered_update_lands_once_in_the_drop_directory() {
    let lab = Lab::with(KIOSK, 4, |dir| {
        std::fs::create_dir_all(dir.join("updates")).unwrap();
        vec![
            "--updates".into(),
            dir.join("updates").display().to_string(),
        ]
    });
    let updates = lab.dir.path().join("updates");
    let v2 = random_bytes(3 << 20, 2);
    std::fs::write(updates.join("hallkiosk-1795500000.raucb"), &v2).unwrap();
    std::fs::write(updates.join("hallkiosk-1795300000.raucb"), b"older").unwrap();
    let running = image_os_release(lab.dir.path(), "1795400000");

    sync_once_on_image(&lab, &running);
    assert_eq!(
        drop_dir(&lab),
        [("hallkiosk.raucb".into(), v2.len() as u64)]
    );
    assert!(std::fs::read(lab.data().join("update/hallkiosk.raucb")).unwrap() == v2);

    // hallkiosk-update.service installs and removes it: the same offer is not fetched again.
    std::fs::remove_file(lab.data().join("update/hallkiosk.raucb")).unwrap();
    sync_once_on_image(&lab, &running);
    assert_eq!(drop_dir(&lab), []);

    let v3 = random_bytes(1 << 20, 3);
    std::fs::write(updates.join("hallkiosk-1795600000.raucb"), &v3).unwrap();
    sync_once_on_image(&lab, &running);
    assert!(std::fs::read(lab.data().join("update/hallkiosk.raucb")).unwrap() == v3);
    std::fs::remove_file(lab.data().join("update/hallkiosk.raucb")).unwrap();

    // Not a kiosk image, or already running the newest: nothing is fetched.
    std::fs::write(updates.join("hallkiosk-1795700000.raucb"), b"v4").unwrap();
    let dev = lab.dir.path().join("dev-os-release");
    std::fs::write(&dev, "ID=debian\n").unwrap();
    sync_once_on_image(&lab, &dev);
    sync_once_on_image(&lab, &image_os_release(lab.dir.path(), "1795700000"));
    assert_eq!(drop_dir(&lab), []);
}

/// Between the kiosk and the platform, a proxy that cuts every bundle download after `cut` bytes
/// of the answer while `cutting` is set, and counts the downloads that asked for a range.
struct BundleCutter {
    addr: SocketAddr,
    cutting: Arc<AtomicBool>,
    resumed: Arc<Mutex<usize>>,
}

impl BundleCutter {
    fn start(upstream: SocketAddr, cut: usize) -> BundleCutter {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let cutting = Arc::new(AtomicBool::new(true));
        let resumed = Arc::new(Mutex::new(0));
        let (c, r) = (cutting.clone(), resumed.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let (c, r) = (c.clone(), r.clone());
                std::thread::spawn(move || -> std::io::Result<()> {
                    let request = read_request(&mut conn)?;
                    let head = String::from_utf8_lossy(&request).to_ascii_lowercase();
                    let bundle = head.starts_with("get /v1/update/");
                    if bundle && head.contains("\r\nrange: bytes=") {
                        *r.lock().unwrap() += 1;
                    }
                    let response = forward(&request, upstream)?;
                    if bundle && c.load(Ordering::SeqCst) {
                        conn.write_all(&response[..cut.min(response.len())])
                    } else {
                        conn.write_all(&response)
                    }
                });
            }
        });
        BundleCutter {
            addr,
            cutting,
            resumed,
        }
    }
}

/// Every download of the bundle breaks off: nothing appears in the drop directory (only the
/// hidden partial file, never longer than the bundle); with the network back the next pull
/// resumes from where it stopped (a `Range` request) and the whole bundle lands, byte for byte.
#[test]
fn a_broken_download_never_reaches_the_drop_directory_and_resumes() {
    let lab = Lab::with(KIOSK, 4, |dir| {
        std::fs::create_dir_all(dir.join("updates")).unwrap();
        vec![
            "--updates".into(),
            dir.join("updates").display().to_string(),
        ]
    });
    let bundle = random_bytes(2 << 20, 7);
    std::fs::write(
        lab.dir.path().join("updates/hallkiosk-1795500000.raucb"),
        &bundle,
    )
    .unwrap();
    let upstream: SocketAddr = lab
        .platform_url()
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let cutter = BundleCutter::start(upstream, 300 << 10);
    lab.configure(KIOSK, &format!("http://{}", cutter.addr), 4);
    let running = image_os_release(lab.dir.path(), "1795400000");

    let out = sync_once_on_image(&lab, &running);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("update not fetched"), "{stderr}");
    let files = drop_dir(&lab);
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].0, ".hallkiosk-1795500000.raucb.part");
    assert!(
        files[0].1 > 0 && files[0].1 < bundle.len() as u64,
        "{files:?}"
    );
    assert!(*cutter.resumed.lock().unwrap() > 0, "resumed with Range");

    cutter.cutting.store(false, Ordering::SeqCst);
    let before = *cutter.resumed.lock().unwrap();
    sync_once_on_image(&lab, &running);
    assert_eq!(
        drop_dir(&lab),
        [("hallkiosk.raucb".into(), bundle.len() as u64)]
    );
    assert!(std::fs::read(lab.data().join("update/hallkiosk.raucb")).unwrap() == bundle);
    assert_eq!(
        *cutter.resumed.lock().unwrap(),
        before + 1,
        "the last download resumed instead of starting over"
    );
}

/// A hostile "platform" on loopback: an offer that is not JSON, one far over the size limit, a
/// bundle answered with a Content-Length beyond the offer, one streamed without a length past the
/// offer, and one of the right size whose bytes do not match the offered hash. Each is a clear
/// error in the daemon's log, no panic, and nothing in the drop directory.
#[test]
fn a_hostile_update_server_gets_a_clear_error_and_nothing_lands() {
    let lab = Lab::new(KIOSK, 4);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let case = Arc::new(Mutex::new(0usize));
    let offered = 1usize << 20;
    let c = case.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let case = *c.lock().unwrap();
            std::thread::spawn(move || -> std::io::Result<()> {
                let request = read_request(&mut conn)?;
                let line = String::from_utf8_lossy(&request)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string();
                let reply = |conn: &mut TcpStream, head: &str, body: &[u8]| {
                    write!(conn, "HTTP/1.1 {head}\r\nConnection: close\r\n")?;
                    write!(conn, "Content-Length: {}\r\n\r\n", body.len())?;
                    conn.write_all(body)
                };
                let offer = |size: usize| {
                    format!(
                        "{{\"version\":\"1795500000\",\"size\":{size},\"sha256\":\"{}\"}}",
                        "0".repeat(64)
                    )
                };
                if line.starts_with("GET /v1/update?") {
                    match case {
                        0 => reply(&mut conn, "200 OK", b"<html>garbage</html>"),
                        1 => reply(&mut conn, "200 OK", offer(100 << 30).as_bytes()),
                        _ => reply(&mut conn, "200 OK", offer(offered).as_bytes()),
                    }
                } else if line.starts_with("GET /v1/update/") {
                    match case {
                        2 => {
                            write!(
                                conn,
                                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
                                64usize << 20
                            )?;
                            conn.write_all(&vec![b'x'; 1 << 20])
                        }
                        3 => {
                            write!(
                                conn,
                                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                            )?;
                            for _ in 0..(8 << 4) {
                                write!(conn, "{:x}\r\n", 64 << 10)?;
                                conn.write_all(&vec![b'x'; 64 << 10])?;
                                conn.write_all(b"\r\n")?;
                            }
                            conn.write_all(b"0\r\n\r\n")
                        }
                        _ => reply(&mut conn, "200 OK", &vec![b'x'; offered]),
                    }
                } else {
                    reply(&mut conn, "204 No Content", b"")
                }
            });
        }
    });
    lab.configure_with(KIOSK, &format!("http://{addr}"), 4, "max_update_mib = 4\n");
    let running = image_os_release(lab.dir.path(), "1795400000");
    for (n, why) in [
        (0, "unreadable body"),
        (1, "the limit is 4194304"),
        (2, "refused, the rest unread"),
        (3, "refused, the rest unread"),
        (4, "do not match the offered SHA-256"),
    ] {
        *case.lock().unwrap() = n;
        let out = sync_once_on_image(&lab, &running);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("update not fetched") && stderr.contains(why),
            "case {n}: no '{why}' in {stderr}"
        );
        assert!(
            !drop_dir(&lab).iter().any(|(f, _)| f == "hallkiosk.raucb"),
            "case {n}: {:?}",
            drop_dir(&lab)
        );
        for (f, len) in drop_dir(&lab) {
            assert!(len <= offered as u64, "case {n}: {f} is {len} bytes");
        }
    }
    assert_eq!(drop_dir(&lab), [], "the damaged download was thrown away");
}
