//! The platform under abuse (issue 21), against the real server process over loopback TCP and
//! real TLS: stalled and slow clients do not hold up a kiosk, an unauthenticated huge body is
//! refused unread, a kiosk's token over another kiosk's certificate is refused, a kiosk over its
//! rate gets 429 with Retry-After, the platform at its request limit answers 503 with Retry-After,
//! a body that comes too slowly gets 408, and the fleet page needs an operator's login.
//!
//! `HALLKIOSK_PLATFORM_BIN=/path/to/hallkiosk-platform` runs the same tests against another build
//! (how the tests were seen failing on the code before).

use hallkiosk_platform::lab::{admin, PlatformProcess};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TOKEN_A: &str = "token-of-kiosk-A-0123456789";
const TOKEN_B: &str = "token-of-kiosk-B-0123456789";

fn bin() -> PathBuf {
    std::env::var_os("HALLKIOSK_PLATFORM_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_hallkiosk-platform")))
}

/// A platform with kiosks KA-01 and KB-02 registered.
fn platform(dir: &Path, extra: &[&str]) -> (PlatformProcess, String) {
    let db = dir.join("platform.db").to_str().unwrap().to_string();
    admin(&bin(), &db, &["kiosk", "add", "KA-01", "--token", TOKEN_A]);
    admin(&bin(), &db, &["kiosk", "add", "KB-02", "--token", TOKEN_B]);
    (PlatformProcess::start(&bin(), &db, extra), db)
}

fn host_of(url: &str) -> String {
    url.split_once("://")
        .unwrap()
        .1
        .trim_end_matches('/')
        .to_string()
}

/// A lab CA, the platform's certificate (127.0.0.1) and client certificates for KA-01 and KB-02
/// (subject CN = kiosk id): ca.pem, server.pem/.key, KA-01.pem/.key, KB-02.pem/.key.
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
        vec!["127.0.0.1".into()],
        "platform",
        ExtendedKeyUsagePurpose::ServerAuth,
        "server",
    );
    for kiosk in ["KA-01", "KB-02"] {
        issue(
            Vec::new(),
            kiosk,
            ExtendedKeyUsagePurpose::ClientAuth,
            kiosk,
        );
    }
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
}

/// A platform requiring client certificates from the lab CA.
fn mtls_platform(dir: &Path) -> PlatformProcess {
    lab_pki(dir);
    let p = |f: &str| dir.join(f).to_str().unwrap().to_string();
    let (platform, _) = platform(
        dir,
        &[
            "--tls-cert",
            &p("server.pem"),
            "--tls-key",
            &p("server.key"),
            "--client-ca",
            &p("ca.pem"),
        ],
    );
    assert!(platform.url.starts_with("https://"), "{}", platform.url);
    platform
}

/// A client trusting the lab CA and presenting `kiosk`'s certificate.
fn mtls_client(dir: &Path, kiosk: &str) -> reqwest::blocking::Client {
    let ca = std::fs::read(dir.join("ca.pem")).unwrap();
    let mut identity = std::fs::read(dir.join(format!("{kiosk}.pem"))).unwrap();
    identity.extend(std::fs::read(dir.join(format!("{kiosk}.key"))).unwrap());
    reqwest::blocking::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .identity(reqwest::Identity::from_pem(&identity).unwrap())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn heartbeat() -> serde_json::Value {
    serde_json::json!({
        "software_version": "0.1.0", "outbox_depth": 0, "oldest_unacknowledged_secs": null,
        "rejected": 0, "last_error": null, "sent_at_ms": 1, "devices": []
    })
}

/// A TLS connection from `kiosk`'s certificate, handshake done, as a blocking stream.
fn tls_stream(
    dir: &Path,
    host: &str,
    kiosk: &str,
) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(dir.join("ca.pem")).unwrap())
        .unwrap();
    let chain = vec![CertificateDer::from_pem_file(dir.join(format!("{kiosk}.pem"))).unwrap()];
    let key = PrivateKeyDer::from_pem_file(dir.join(format!("{kiosk}.key"))).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .unwrap();
    let conn =
        rustls::ClientConnection::new(Arc::new(config), ServerName::try_from("127.0.0.1").unwrap())
            .unwrap();
    let tcp = TcpStream::connect(host).unwrap();
    let mut s = rustls::StreamOwned::new(conn, tcp);
    while s.conn.is_handshaking() {
        s.conn.complete_io(&mut s.sock).unwrap();
    }
    s
}

/// Waits until the peer closes `read`'s connection (a read returns 0 or fails); `None` when it is
/// still open after `within`.
fn closed_within(mut read: impl Read, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    while started.elapsed() < within {
        match read.read(&mut buf) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return Some(started.elapsed()),
        }
    }
    None
}

#[test]
fn a_stalled_connection_and_a_slow_loris_do_not_hold_up_a_kiosk() {
    let dir = tempfile::tempdir().unwrap();
    let platform = mtls_platform(dir.path());
    let host = host_of(&platform.url);

    // A TCP connection that never starts its TLS handshake…
    let idle = TcpStream::connect(&host).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    // …and a slow loris: handshake done, then a header byte every 200 ms, never finishing.
    let loris_closed = {
        let (dir, host) = (dir.path().to_path_buf(), host.clone());
        std::thread::spawn(move || {
            let mut loris = tls_stream(&dir, &host, "KA-01");
            loris
                .write_all(b"POST /v1/heartbeat HTTP/1.1\r\nHost: x\r\n")
                .unwrap();
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(15) {
                if loris.write_all(b"X").and_then(|_| loris.flush()).is_err() {
                    return Some(started.elapsed());
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            None
        })
    };
    std::thread::sleep(Duration::from_millis(300));

    // A kiosk's heartbeat still goes through at once.
    let client = mtls_client(dir.path(), "KA-01");
    let started = Instant::now();
    let r = client
        .post(format!("{}/v1/heartbeat", platform.url))
        .bearer_auth(TOKEN_A)
        .json(&heartbeat())
        .timeout(Duration::from_secs(1))
        .send();
    let took = started.elapsed();
    let status = r.map(|r| r.status().as_u16());
    assert!(
        matches!(status, Ok(204)) && took < Duration::from_secs(1),
        "kiosk request beside a stalled connection: {status:?} after {took:?}"
    );
    eprintln!("kiosk heartbeat beside an idle connection and a slow loris: {took:?}");

    // Neither is kept forever: the handshake and the header timeouts (10 s each by default) close them.
    idle.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let idle_closed = closed_within(&idle, Duration::from_secs(13));
    let loris_closed = loris_closed.join().unwrap();
    assert!(
        idle_closed.is_some(),
        "a connection without a handshake was kept open"
    );
    assert!(loris_closed.is_some(), "the slow loris was kept open");
    eprintln!("idle connection closed after {idle_closed:?}, slow loris after {loris_closed:?}");
}

/// Sends `POST path` with `Content-Length: len` and headers `extra`, then body bytes as fast as the
/// platform takes them, until it answers or closes. Returns (status line, bytes of body written,
/// time to the answer).
fn huge_post(host: &str, path: &str, len: u64, extra: &str) -> (String, u64, Duration) {
    let mut conn = TcpStream::connect(host).unwrap();
    let started = Instant::now();
    write!(
        conn,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Content-Length: {len}\r\n{extra}\r\n"
    )
    .unwrap();
    let written = Arc::new(AtomicU64::new(0));
    let writer = {
        let mut conn = conn.try_clone().unwrap();
        let written = written.clone();
        std::thread::spawn(move || {
            let chunk = vec![b'['; 64 * 1024];
            while written.load(Ordering::Relaxed) < len {
                let n = chunk
                    .len()
                    .min((len - written.load(Ordering::Relaxed)) as usize);
                match conn.write(&chunk[..n]) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        written.fetch_add(n as u64, Ordering::Relaxed);
                    }
                }
            }
        })
    };
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
    }
    let took = started.elapsed();
    // The platform closes the connection instead of draining the rest: the writer stops.
    let _ = conn.shutdown(std::net::Shutdown::Read);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !writer.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    (status, written.load(Ordering::Relaxed), took)
}

#[test]
fn an_unauthenticated_60_mib_post_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let (platform, _) = platform(dir.path(), &[]);
    let host = host_of(&platform.url);
    const LEN: u64 = 60 * 1024 * 1024;

    let (status, written, took) = huge_post(&host, "/v1/submissions/batch", LEN, "");
    eprintln!(
        "unauthenticated 60 MiB POST: {status:?} after {took:?}, {} KiB of body written",
        written / 1024
    );
    assert!(status.starts_with("HTTP/1.1 401"), "{status}");
    // What the client got into the socket bounds what the platform read: the kernel's buffers
    // (a few MiB on loopback), not the 60 MiB.
    assert!(
        written < LEN / 4,
        "{} MiB of the body went in before the refusal",
        written / (1024 * 1024)
    );
    assert!(took < Duration::from_secs(1), "{took:?}");

    // Authenticated, but longer than the route takes: 413 from the Content-Length, unread too.
    let (status, written, _) = huge_post(
        &host,
        "/v1/heartbeat",
        LEN,
        &format!("Authorization: Bearer {TOKEN_A}\r\n"),
    );
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    assert!(written < LEN / 4, "{written}");
}

#[test]
fn a_cross_kiosk_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let platform = mtls_platform(dir.path());
    let as_a = mtls_client(dir.path(), "KA-01");
    let send = |client: &reqwest::blocking::Client, token: &str| {
        client
            .post(format!("{}/v1/heartbeat", platform.url))
            .bearer_auth(token)
            .json(&heartbeat())
            .send()
            .unwrap()
    };
    assert_eq!(send(&as_a, TOKEN_A).status(), 204);
    // KB-02's token over KA-01's certificate (a stolen token on another kiosk): refused.
    let r = send(&as_a, TOKEN_B);
    assert_eq!(r.status(), 403);
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["error"], "forbidden", "{body}");
    // And the other way round.
    let as_b = mtls_client(dir.path(), "KB-02");
    assert_eq!(send(&as_b, TOKEN_A).status(), 403);
    assert_eq!(send(&as_b, TOKEN_B).status(), 204);
}

#[test]
fn a_kiosk_over_its_rate_gets_429_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let (platform, _) = platform(dir.path(), &[]);
    let client = reqwest::blocking::Client::new();
    let get = |token: &str| {
        client
            .get(format!("{}/v1/status-changes?after=0", platform.url))
            .bearer_auth(token)
            .send()
            .unwrap()
    };
    let mut limited = None;
    for i in 0..200 {
        let r = get(TOKEN_A);
        match r.status().as_u16() {
            200 => {}
            429 => {
                limited = Some((i, r));
                break;
            }
            s => panic!("request {i}: {s}"),
        }
    }
    let (i, r) = limited.expect("200 requests in a row, none refused");
    let retry: u64 = r.headers()["Retry-After"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=5).contains(&retry), "Retry-After {retry}");
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["error"], "rate_limited");
    eprintln!("429 after {i} requests, Retry-After {retry}");
    // Another kiosk has its own allowance.
    assert_eq!(get(TOKEN_B).status(), 200);
    // After Retry-After the kiosk is served again.
    std::thread::sleep(Duration::from_secs(retry));
    assert_eq!(get(TOKEN_A).status(), 200);
}

#[test]
fn at_its_request_limit_the_platform_answers_503_and_a_slow_body_gets_408() {
    let dir = tempfile::tempdir().unwrap();
    let (platform, _) = platform(
        dir.path(),
        &["--max-requests", "1", "--body-timeout-secs", "2"],
    );
    let host = host_of(&platform.url);
    // One request holds the only slot while its body trickles in.
    let mut slow = TcpStream::connect(&host).unwrap();
    write!(
        slow,
        "POST /v1/heartbeat HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {TOKEN_A}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let r = reqwest::blocking::Client::new()
        .get(format!("{}/v1/status-changes", platform.url))
        .bearer_auth(TOKEN_B)
        .send()
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["Retry-After"], "1");
    // The trickling body runs out of time: 408.
    slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut answer = [0u8; 64];
    let n = slow.read(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    // The slot is free again.
    let r = reqwest::blocking::Client::new()
        .get(format!("{}/v1/status-changes", platform.url))
        .bearer_auth(TOKEN_B)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[test]
fn the_fleet_page_needs_an_operator() {
    let dir = tempfile::tempdir().unwrap();
    let (platform, db) = platform(dir.path(), &[]);
    let client = reqwest::blocking::Client::new();
    let paths = ["/fleet", "/fleet.json", "/fleet/ratings.json"];
    for path in paths {
        let r = client
            .get(format!("{}{path}", platform.url))
            .send()
            .unwrap();
        assert_eq!(r.status(), 401, "{path} without login");
        assert!(
            r.headers()["WWW-Authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Basic "),
            "{path}"
        );
        // A kiosk's token is not an operator's.
        let r = client
            .get(format!("{}{path}", platform.url))
            .bearer_auth(TOKEN_A)
            .send()
            .unwrap();
        assert_eq!(r.status(), 401, "{path} with a kiosk token");
    }
    let token = admin(&bin(), &db, &["operator", "add", "ops-1"]);
    let token = token.trim();
    assert!(token.len() >= 32, "{token}");
    for path in paths {
        let url = format!("{}{path}", platform.url);
        let r = client
            .get(&url)
            .basic_auth("ops-1", Some(token))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{path} as ops-1");
        let r = client.get(&url).bearer_auth(token).send().unwrap();
        assert_eq!(r.status(), 200, "{path} with the operator's bearer token");
        let r = client
            .get(&url)
            .basic_auth("ops-2", Some(token))
            .send()
            .unwrap();
        assert_eq!(r.status(), 401, "{path} under another name");
    }
    // A kiosk's token cannot become an operator's.
    let out = std::process::Command::new(bin())
        .args(["--db", &db, "operator", "add", "ops-3", "--token", TOKEN_A])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn the_fleet_page_can_have_its_own_listener() {
    let dir = tempfile::tempdir().unwrap();
    let (platform, db) = platform(dir.path(), &["--operator-listen", "127.0.0.1:0"]);
    let token = admin(&bin(), &db, &["operator", "add", "ops-1"]);
    let client = reqwest::blocking::Client::new();
    // Not on the kiosks' listener any more.
    let r = client
        .get(format!("{}/fleet", platform.url))
        .basic_auth("ops-1", Some(token.trim()))
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
    let ops = platform.operator_url.clone().expect("operators' address");
    let r = client.get(format!("{ops}/fleet")).send().unwrap();
    assert_eq!(r.status(), 401);
    let r = client
        .get(format!("{ops}/fleet"))
        .basic_auth("ops-1", Some(token.trim()))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    // And no kiosk API there.
    let r = client
        .get(format!("{ops}/v1/status-changes"))
        .bearer_auth(TOKEN_A)
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
}
