//! `hallkiosk-platform`: the reference platform server and its administration commands
//! (docs/platform.md).

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use hallkiosk_platform::store::Store;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "hallkiosk-platform",
    version,
    about = "Reference platform for hallkiosk kiosks"
)]
struct Cli {
    /// Database: a SQLite file path (created if missing) or a postgres:// URL.
    #[arg(
        long,
        env = "HALLKIOSK_PLATFORM_DB",
        default_value = "platform.db",
        global = true
    )]
    db: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the sync API and the fleet page.
    Serve {
        /// Address to listen on (port 0 picks a free port; the chosen one is printed).
        #[arg(long, default_value = "127.0.0.1:8700")]
        listen: String,
        /// How long a submission request holds its Idempotency-Key before a retry may take over.
        #[arg(long, default_value_t = 30)]
        lease_secs: u64,
        /// Serve HTTPS with this certificate chain (PEM)…
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<std::path::PathBuf>,
        /// …and this private key (PEM).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<std::path::PathBuf>,
        /// Mutual TLS: require client certificates signed by this CA (PEM); a kiosk's certificate
        /// must name it (subject CN or a DNS alternative name equal to the kiosk id).
        #[arg(long, requires = "tls_cert")]
        client_ca: Option<std::path::PathBuf>,
        /// Serve the fleet page on this address only (no client certificate asked there), not on
        /// --listen. Operators log in on either.
        #[arg(long)]
        operator_listen: Option<String>,
        /// Offer the newest hallkiosk-VERSION.raucb in this directory to kiosks running an older
        /// version (GET /v1/update); the kiosks' RAUC checks its signature, not the platform.
        #[arg(long, value_name = "DIR")]
        updates: Option<std::path::PathBuf>,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Operators of the fleet page and their tokens.
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// Kiosks and their tokens.
    #[command(subcommand)]
    Kiosk(KioskCommand),
    /// Publish the service catalog.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Set a submission's review state (what a clerk's decision does).
    Review {
        #[arg(long)]
        kiosk: String,
        tracking_code: String,
        state: String,
    },
    /// List stored submissions (tracking code, key, service item, state) as JSON lines.
    Submissions {
        #[arg(long)]
        kiosk: Option<String>,
    },
}

#[derive(Subcommand)]
enum KioskCommand {
    /// Register a kiosk (or replace its token). Prints the token unless one is given.
    Add {
        id: String,
        /// Use this token instead of a random one (read from a file with --token-file).
        #[arg(long, conflicts_with = "token_file")]
        token: Option<String>,
        #[arg(long)]
        token_file: Option<std::path::PathBuf>,
    },
    /// List kiosks with their last heartbeat as JSON.
    List,
}

/// The server's limits (docs/platform.md, "Limits").
#[derive(clap::Args)]
struct LimitArgs {
    /// A TLS handshake must finish within this many seconds.
    #[arg(long, default_value_t = 10)]
    handshake_timeout_secs: u64,
    /// A request's headers must arrive within this many seconds (an idle connection is closed
    /// after it, too).
    #[arg(long, default_value_t = 10)]
    header_timeout_secs: u64,
    /// A request's body must arrive within this many seconds (else 408).
    #[arg(long, default_value_t = 60)]
    body_timeout_secs: u64,
    /// Open connections at most; more are closed at once.
    #[arg(long, default_value_t = 16_000)]
    max_connections: usize,
    /// Requests handled at once at most; more are answered 503 with Retry-After.
    #[arg(long, default_value_t = 256)]
    max_requests: usize,
    /// Requests per second one kiosk may make on average (429 with Retry-After beyond)…
    #[arg(long, default_value_t = 2.0)]
    kiosk_rate: f64,
    /// …and in a burst.
    #[arg(long, default_value_t = 60.0)]
    kiosk_burst: f64,
}

impl LimitArgs {
    fn limits(&self) -> Result<hallkiosk_platform::guard::Limits> {
        anyhow::ensure!(
            self.kiosk_rate > 0.0 && self.kiosk_burst >= 1.0,
            "--kiosk-rate must be above 0 and --kiosk-burst at least 1"
        );
        anyhow::ensure!(
            self.max_connections > 0 && self.max_requests > 0,
            "--max-connections and --max-requests must be at least 1"
        );
        Ok(hallkiosk_platform::guard::Limits {
            handshake_timeout: Duration::from_secs(self.handshake_timeout_secs.max(1)),
            header_timeout: Duration::from_secs(self.header_timeout_secs.max(1)),
            body_timeout: Duration::from_secs(self.body_timeout_secs.max(1)),
            max_connections: self.max_connections,
            max_requests: self.max_requests,
            kiosk_rate: self.kiosk_rate,
            kiosk_burst: self.kiosk_burst,
        })
    }
}

#[derive(Subcommand)]
enum OperatorCommand {
    /// Register an operator (or replace their token). Prints the token unless one is given; log in
    /// to /fleet with the operator's name and that token (HTTP Basic) or `Bearer <token>`.
    Add {
        name: String,
        #[arg(long, conflicts_with = "token_file")]
        token: Option<String>,
        #[arg(long)]
        token_file: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// Publish a catalog file (kiosk catalog format); its `version` must be new.
    Publish { file: std::path::PathBuf },
}

fn main() {
    let level = match std::env::var("HALLKIOSK_PLATFORM_LOG").as_deref() {
        Ok("debug") => tracing::Level::DEBUG,
        Ok("warn") => tracing::Level::WARN,
        _ => tracing::Level::INFO,
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .init();
    if let Err(e) = run(Cli::parse()) {
        eprintln!("hallkiosk-platform: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let lease = match &cli.command {
            Command::Serve { lease_secs, .. } => Duration::from_secs(*lease_secs),
            _ => Duration::from_secs(30),
        };
        let store = Store::open(&cli.db, lease)
            .await
            .with_context(|| format!("cannot open the platform database {}", cli.db))?;
        match cli.command {
            Command::Serve {
                listen,
                tls_cert,
                tls_key,
                client_ca,
                operator_listen,
                updates,
                limits,
                ..
            } => {
                if let Some(d) = &updates {
                    anyhow::ensure!(d.is_dir(), "--updates {} is not a directory", d.display());
                }
                let limits = limits.limits()?;
                let tls = match (tls_cert, tls_key) {
                    (Some(c), Some(k)) => Some(Tls {
                        kiosks: hallkiosk_platform::tls::server_config(
                            &c,
                            &k,
                            client_ca.as_deref(),
                        )?,
                        operators: hallkiosk_platform::tls::server_config(&c, &k, None)?,
                    }),
                    _ => None,
                };
                serve(
                    store,
                    &listen,
                    operator_listen.as_deref(),
                    tls,
                    limits,
                    updates,
                )
                .await
            }
            Command::Kiosk(KioskCommand::Add {
                id,
                token,
                token_file,
            }) => {
                let (token, print) = token_from(token, token_file)?;
                store.add_kiosk(&id, &token).await?;
                if print {
                    println!("{token}");
                }
                Ok(())
            }
            Command::Operator(OperatorCommand::Add {
                name,
                token,
                token_file,
            }) => {
                let (token, print) = token_from(token, token_file)?;
                store.add_operator(&name, &token).await?;
                if print {
                    println!("{token}");
                }
                Ok(())
            }
            Command::Kiosk(KioskCommand::List) => {
                println!("{}", serde_json::to_string_pretty(&store.kiosks().await?)?);
                Ok(())
            }
            Command::Catalog(CatalogCommand::Publish { file }) => {
                let json = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                let v = store.publish_catalog(&json).await?;
                println!("published catalog {v}");
                Ok(())
            }
            Command::Review {
                kiosk,
                tracking_code,
                state,
            } => Ok(store.set_state(&kiosk, &tracking_code, &state).await?),
            Command::Submissions { kiosk } => {
                let mut out = std::io::stdout().lock();
                for s in store.submissions(kiosk.as_deref()).await? {
                    writeln!(
                        out,
                        "{}",
                        serde_json::json!({
                            "kiosk_id": s.kiosk_id,
                            "tracking_code": s.tracking_code,
                            "idempotency_key": s.idempotency_key,
                            "platform_id": s.platform_id,
                            "service_item": s.service_item,
                            "state": s.state,
                        })
                    )?;
                }
                Ok(())
            }
        }
    })
}

/// A given token, one read from a file, or a new random one (then `true`: print it).
fn token_from(
    token: Option<String>,
    token_file: Option<std::path::PathBuf>,
) -> Result<(String, bool)> {
    let (token, print) = match (token, token_file) {
        (Some(t), _) => (t, false),
        (None, Some(f)) => (
            std::fs::read_to_string(&f)
                .with_context(|| format!("cannot read {}", f.display()))?
                .trim()
                .to_string(),
            false,
        ),
        (None, None) => (
            format!(
                "{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            ),
            true,
        ),
    };
    anyhow::ensure!(token.len() >= 16, "a token needs at least 16 characters");
    Ok((token, print))
}

/// The kiosks' TLS settings (with client certificates when asked) and the operators' (without).
struct Tls {
    kiosks: rustls::ServerConfig,
    operators: rustls::ServerConfig,
}

async fn serve(
    store: Store,
    listen: &str,
    operator_listen: Option<&str>,
    tls: Option<Tls>,
    limits: hallkiosk_platform::guard::Limits,
    updates: Option<std::path::PathBuf>,
) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let operators = match operator_listen {
        Some(a) => Some(
            tokio::net::TcpListener::bind(a)
                .await
                .with_context(|| format!("cannot listen on {a}"))?,
        ),
        None => None,
    };
    let backend = store.backend();
    let store = Arc::new(store);
    let scheme = if tls.is_some() { "https" } else { "http" };
    let addr = listener.local_addr()?;
    if let Some(o) = &operators {
        println!("operators on {scheme}://{}", o.local_addr()?);
    }
    println!("listening on {scheme}://{addr}");
    std::io::stdout().flush()?;
    tracing::info!("serving the sync API on {scheme}://{addr} ({backend:?})");
    let guard = hallkiosk_platform::guard::Guard::new(store.clone(), limits.clone());
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let stopped_too = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let (kiosk_tls, operator_tls) = match tls {
        Some(t) => (Some(Arc::new(t.kiosks)), Some(Arc::new(t.operators))),
        None => (None, None),
    };
    let main_app = match operators {
        Some(_) => hallkiosk_platform::api_router(store.clone(), guard.clone()),
        None => hallkiosk_platform::router(store.clone(), guard.clone()),
    }
    .merge(hallkiosk_platform::updates::router(updates, guard.clone()));
    let main = hallkiosk_platform::server::serve(
        listener,
        kiosk_tls,
        main_app,
        limits.clone(),
        stopped_too(stopping.clone()),
    );
    let operator = async {
        if let Some(o) = operators {
            let app = hallkiosk_platform::fleet_router(store.clone(), guard.clone())
                .route("/healthz", axum::routing::get(|| async { "ok\n" }));
            hallkiosk_platform::server::serve(
                o,
                operator_tls,
                app,
                limits.clone(),
                stopped_too(stopping.clone()),
            )
            .await
        }
    };
    let signal = async {
        stopped().await;
        let _ = stop.send(true);
    };
    tokio::join!(main, operator, signal);
    store.close().await;
    Ok(())
}

/// SIGTERM or SIGINT.
async fn stopped() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async {
            match term.as_mut() {
                Some(t) => { t.recv().await; }
                None => std::future::pending::<()>().await,
            }
        } => {}
    }
}
