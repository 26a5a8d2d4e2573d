//! Real processes for tests and benchmarks (the platform's, the kiosk's sync tests, the drain
//! benchmark): the `hallkiosk-platform` binary on a loopback port, and a private PostgreSQL server
//! (Debian's packages, installed by scripts/setup) in a temporary directory.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Runs a platform admin command; panics with its stderr when it fails.
pub fn admin(bin: &Path, db: &str, args: &[&str]) -> String {
    let out = Command::new(bin)
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("run hallkiosk-platform");
    assert!(
        out.status.success(),
        "hallkiosk-platform {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A running `hallkiosk-platform serve`, killed on drop.
pub struct PlatformProcess {
    pub child: Child,
    pub url: String,
    /// The fleet page's own address (`serve --operator-listen`).
    pub operator_url: Option<String>,
}

impl PlatformProcess {
    pub fn start(bin: &Path, db: &str, extra: &[&str]) -> PlatformProcess {
        let mut child = Command::new(bin)
            .arg("--db")
            .arg(db)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .env("HALLKIOSK_PLATFORM_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start hallkiosk-platform");
        // "operators on URL" (with --operator-listen) comes before "listening on URL".
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut operator_url = None;
        let url = loop {
            let mut line = String::new();
            out.read_line(&mut line).unwrap();
            if let Some(u) = line.trim().strip_prefix("operators on ") {
                operator_url = Some(u.to_string());
                continue;
            }
            break line
                .trim()
                .strip_prefix("listening on ")
                .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
                .to_string();
        };
        PlatformProcess {
            child,
            url,
            operator_url,
        }
    }
}

impl Drop for PlatformProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pg_bin() -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server is not installed (scripts/setup installs `postgresql`)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("postgres").exists())
        .collect();
    dirs.sort();
    dirs.pop()
        .expect("no PostgreSQL server binaries under /usr/lib/postgresql")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A throwaway PostgreSQL cluster on a loopback port, owned by the `postgres` system user.
pub struct Postgres {
    child: Child,
    dir: PathBuf,
    pub url: String,
}

impl Postgres {
    pub fn start() -> Postgres {
        let bin = pg_bin();
        let dir = std::env::temp_dir().join(format!(
            "hallkiosk-pg-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let as_root = unsafe { libc_geteuid() } == 0;
        let run = |program: &Path| -> Command {
            if as_root {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(program);
                c
            } else {
                Command::new(program)
            }
        };
        if as_root {
            let ok = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&dir)
                .status()
                .unwrap()
                .success();
            assert!(ok, "chown the PostgreSQL directory");
        }
        let data = dir.join("data");
        let out = run(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-instructions",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let child = run(&bin.join("postgres"))
            .arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(&dir)
            .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = Command::new(bin.join("pg_isready"))
                .args(["-h", "127.0.0.1", "-p", &port.to_string()])
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false);
            if ready {
                break;
            }
            assert!(Instant::now() < deadline, "PostgreSQL did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Postgres { child, dir, url }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // SIGINT to the postmaster (its pid heads postmaster.pid) is PostgreSQL's fast shutdown;
        // runuser does not pass signals on.
        let pid = std::fs::read_to_string(self.dir.join("data/postmaster.pid"))
            .ok()
            .and_then(|t| t.lines().next().map(str::to_string));
        let target = pid.unwrap_or_else(|| self.child.id().to_string());
        let _ = Command::new("kill").args(["-INT", &target]).status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}
