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
        /// Mutual TLS: require client certificates signed by this CA (PEM).
        #[arg(long, requires = "tls_cert")]
        client_ca: Option<std::path::PathBuf>,
    },
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
                ..
            } => {
                let tls = match (tls_cert, tls_key) {
                    (Some(c), Some(k)) => Some(hallkiosk_platform::tls::server_config(
                        &c,
                        &k,
                        client_ca.as_deref(),
                    )?),
                    _ => None,
                };
                serve(store, &listen, tls).await
            }
            Command::Kiosk(KioskCommand::Add {
                id,
                token,
                token_file,
            }) => {
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
                anyhow::ensure!(
                    token.len() >= 16,
                    "a kiosk token needs at least 16 characters"
                );
                store.add_kiosk(&id, &token).await?;
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

async fn serve(store: Store, listen: &str, tls: Option<rustls::ServerConfig>) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let backend = store.backend();
    let store = Arc::new(store);
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("listening on {scheme}://{addr}");
    std::io::stdout().flush()?;
    tracing::info!("serving the sync API on {scheme}://{addr} ({backend:?})");
    let app = hallkiosk_platform::router(store.clone());
    match tls {
        Some(config) => {
            let listener = hallkiosk_platform::tls::TlsListener::new(listener, config);
            axum::serve(listener, app)
                .with_graceful_shutdown(stopped())
                .await?
        }
        None => {
            use axum::serve::ListenerExt;
            // Answers go out at once instead of waiting on the client's delayed ACK (Nagle).
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            axum::serve(listener, app)
                .with_graceful_shutdown(stopped())
                .await?
        }
    }
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
