//! The sync daemon's command line (`hallkiosk-sync`, also reached as `hallkiosk sync`).

use crate::shared::config::Config;
use anyhow::{Context, Result};
use std::path::Path;
use std::process::ExitCode;

/// Runs the daemon (or one pass with `once`) as the configuration says. Exit: 0 = nothing waits,
/// 3 = entries still wait for the platform (only with `once`).
pub fn command(config_path: Option<&Path>, once: bool) -> Result<ExitCode> {
    use crate::sync::{self, adapter::HttpAdapter, Backoff, Mode, Settings};
    let (config, _) = Config::load(config_path)?;
    let p = &config.platform;
    let url = p.url.as_ref().context(
        "no platform is configured ([platform] url); submissions stay queued until one is",
    )?;
    let dir = config.data_dir();
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create data directory {}", dir.display()))?;
    let _lock = sync::lock(&dir)?;
    let token = sync::load_token(p.token_file.as_deref(), &dir)?;
    let adapter = HttpAdapter::new(&sync::adapter::HttpSettings {
        base_url: url.0.clone(),
        token,
        timeout: std::time::Duration::from_secs(p.request_timeout_secs.0),
        ca_file: p.ca_file.clone(),
        client_identity: match (&p.client_cert, &p.client_key) {
            (Some(c), Some(k)) => Some((c.clone(), k.clone())),
            (None, None) => None,
            _ => anyhow::bail!("[platform] client_cert and client_key go together"),
        },
        max_response_bytes: (p.max_response_mib.0 as usize) << 20,
    })?;
    let settings = Settings {
        batch_size: p.batch_size.0 as i64,
        backoff: Backoff {
            base: std::time::Duration::from_millis(p.backoff_base_ms.0),
            cap: std::time::Duration::from_secs(p.backoff_cap_secs.0),
        },
        heartbeat_every: std::time::Duration::from_secs(p.heartbeat_secs.0),
        pull_every: std::time::Duration::from_secs(p.pull_secs.0),
        poll_every: std::time::Duration::from_millis(p.poll_ms.0),
        data_dir: dir.clone(),
        retention: config.retention.clone(),
    };
    let updates = sync::update::UpdateSettings {
        data_dir: dir,
        max_bytes: p.max_update_mib.0 << 20,
        os_release: sync::update::os_release_path(),
        backoff: settings.backoff,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let ob = crate::outbox::open_configured(&config).await?;
        let mode = if once { Mode::Once } else { Mode::Forever };
        let socket = config.data_dir().join(sync::local::SOCKET);
        let serve_local = async {
            if once {
                return std::future::pending().await;
            }
            if let Err(e) = sync::local::serve(&ob, &adapter, &socket).await {
                // Delivery goes on without it; the kiosk falls back to local tickets and the
                // cached progress state.
                tracing::error!("the kiosk's live requests cannot be served: {e}");
            }
            std::future::pending::<()>().await
        };
        // Bundles are fetched beside delivery: a long download holds up no submission.
        let fetch_updates = async {
            if once {
                return std::future::pending().await;
            }
            sync::update::update_loop(&ob, &adapter, &updates, settings.pull_every).await
        };
        let waiting = tokio::select! {
            r = sync::run(&ob, &adapter, &settings, mode) => {
                let waiting = r?;
                if once {
                    sync::update::log_pull(sync::update::pull_update(&ob, &adapter, &updates).await);
                }
                waiting
            }
            () = serve_local => unreachable!("serving never ends"),
            () = fetch_updates => unreachable!("the update loop never ends"),
            _ = sync::terminated() => {
                tracing::info!("stopping");
                ob.stats(crate::shared::clock::now_ms()).await?.depth()
            }
        };
        ob.close().await;
        if once {
            println!("waiting {waiting}");
        }
        Ok(if waiting > 0 && once {
            ExitCode::from(3)
        } else {
            ExitCode::SUCCESS
        })
    })
}
