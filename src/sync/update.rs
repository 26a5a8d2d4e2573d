//! Fetching update bundles the platform offers (docs/sync.md, "Update bundles"). The sync daemon
//! only downloads: into a hidden partial file in the drop directory `<data_dir>/update/`, resumed
//! after a network fault, never more than the offered size nor `[platform] max_update_mib`, checked
//! against the offered SHA-256 (a damaged download is thrown away, not offered to RAUC) and renamed
//! atomically to `hallkiosk.raucb`, where `hallkiosk-update.path` sees it. Nothing in a bundle is
//! trusted or run here: RAUC installs it only when the update CA on the read-only root signed it
//! and it is newer than the running image.

use super::adapter::{AdapterError, PlatformAdapter};
use super::Backoff;
use crate::outbox::Outbox;
use anyhow::Context;
use hallkiosk_api::UpdateOffer;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The drop directory under the data directory, and the name `hallkiosk-update.path` waits for.
pub const DROP_DIR: &str = "update";
pub const DROP_NAME: &str = "hallkiosk.raucb";
/// The sync value holding the newest version fetched (each version lands once).
const FETCHED: &str = "update_fetched";
/// Downloads of one offer per pull before the daemon waits for the next pull.
const ATTEMPTS: u32 = 5;

/// Where the running image's version is read: `$HALLKIOSK_OS_RELEASE` (tests), else
/// `/etc/os-release`.
pub fn os_release_path() -> PathBuf {
    std::env::var_os("HALLKIOSK_OS_RELEASE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/etc/os-release"))
}

/// The running image's version: `IMAGE_VERSION` when `IMAGE_ID=hallkiosk` (a kiosk image, written
/// by scripts/build-image); `None` elsewhere (a developer's machine fetches no updates).
pub fn running_version(os_release: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(os_release).ok()?;
    let value = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().trim_matches('"').to_string())
    };
    if value("IMAGE_ID=")? != "hallkiosk" {
        return None;
    }
    let v = value("IMAGE_VERSION=")?;
    v.bytes().all(|b| b.is_ascii_digit()).then_some(())?;
    v.parse().ok()
}

/// What an update pull needs.
#[derive(Debug, Clone)]
pub struct UpdateSettings {
    pub data_dir: PathBuf,
    pub max_bytes: u64,
    pub os_release: PathBuf,
    /// Between download attempts of one pull.
    pub backoff: Backoff,
}

fn sha256_hex(path: &Path) -> std::io::Result<String> {
    use sha2::Digest;
    let mut f = std::fs::File::open(path)?;
    let mut h = sha2::Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Asks the platform for a newer bundle and, if it offers one not fetched before, downloads it
/// into the drop directory. `Ok(Some(version))` once it is there.
pub async fn pull_update<A: PlatformAdapter>(
    outbox: &Outbox,
    adapter: &A,
    s: &UpdateSettings,
) -> anyhow::Result<Option<String>> {
    if s.max_bytes == 0 {
        return Ok(None);
    }
    let Some(current) = running_version(&s.os_release) else {
        return Ok(None);
    };
    let Some(offer) = adapter.update_offer(&current.to_string()).await? else {
        return Ok(None);
    };
    let version = check_offer(&offer, current, s.max_bytes)?;
    let fetched: u64 = outbox
        .sync_value(FETCHED)
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if version <= fetched {
        return Ok(None);
    }
    let dir = s.data_dir.join(DROP_DIR);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let drop = dir.join(DROP_NAME);
    if drop.exists() {
        // An earlier bundle still waits for RAUC: never replace a file it may be reading.
        return Ok(None);
    }
    let part = dir.join(format!(".hallkiosk-{version}.raucb.part"));
    // Partial downloads of other versions are dead weight on the data partition.
    for entry in std::fs::read_dir(&dir)?.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(".hallkiosk-") && name.ends_with(".raucb.part") && entry.path() != part
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    let mut attempt = 0;
    let have = loop {
        match adapter.fetch_update(&offer, &part).await {
            Ok(n) if n == offer.size => break n,
            Ok(n) => tracing::warn!(
                "update {version}: the download ended at {n} of {} bytes; resuming",
                offer.size
            ),
            Err(e @ AdapterError::Auth(_)) => return Err(e.into()),
            Err(e) => tracing::warn!("update {version}: {e}; resuming"),
        }
        attempt += 1;
        if attempt >= ATTEMPTS {
            let n = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
            anyhow::bail!(
                "update {version}: {n} of {} bytes after {ATTEMPTS} attempts; the next pull resumes",
                offer.size
            );
        }
        let wait = s
            .backoff
            .delay(attempt, &mut rand::thread_rng())
            .max(Duration::from_millis(10));
        tokio::time::sleep(wait).await;
    };
    let hash_of = part.clone();
    let sha = tokio::task::spawn_blocking(move || sha256_hex(&hash_of)).await??;
    if sha != offer.sha256 {
        let _ = std::fs::remove_file(&part);
        anyhow::bail!(
            "update {version}: the {have} bytes downloaded do not match the offered SHA-256 \
             (damaged or not what was offered): thrown away"
        );
    }
    std::fs::rename(&part, &drop)
        .with_context(|| format!("cannot rename {} to {}", part.display(), drop.display()))?;
    std::fs::File::open(&dir)?.sync_all()?;
    outbox.set_sync_value(FETCHED, &version.to_string()).await?;
    Ok(Some(version.to_string()))
}

/// The offer's version, when it is one worth fetching: newer than `current`, a plausible size
/// within `max_bytes`, a SHA-256 in hex.
fn check_offer(offer: &UpdateOffer, current: u64, max_bytes: u64) -> anyhow::Result<u64> {
    let version: u64 = (!offer.version.is_empty()
        && offer.version.len() <= 19
        && offer.version.bytes().all(|b| b.is_ascii_digit()))
    .then(|| offer.version.parse().ok())
    .flatten()
    .with_context(|| {
        format!(
            "the platform offers an update of version {:?}, which is not a version",
            offer.version
        )
    })?;
    anyhow::ensure!(
        offer.sha256.len() == 64
            && offer
                .sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "the platform's offer of update {version} has no SHA-256 (lower-case hex)"
    );
    anyhow::ensure!(
        offer.size > 0 && offer.size <= max_bytes,
        "the platform offers update {version} of {} bytes; the limit is {max_bytes} \
         ([platform] max_update_mib): not fetched",
        offer.size
    );
    anyhow::ensure!(
        version > current,
        "the platform offers update {version}, not newer than the running {current}: not fetched"
    );
    Ok(version)
}

/// Pulls updates every `every`, forever (beside the delivery loop, so a long download never holds
/// up submissions).
pub async fn update_loop<A: PlatformAdapter>(
    outbox: &Outbox,
    adapter: &A,
    s: &UpdateSettings,
    every: Duration,
) {
    loop {
        log_pull(pull_update(outbox, adapter, s).await);
        tokio::time::sleep(every).await;
    }
}

/// Logs one pull's outcome.
pub fn log_pull(r: anyhow::Result<Option<String>>) {
    match r {
        Ok(Some(v)) => tracing::info!(
            "update {v} fetched into the drop directory; RAUC checks and installs it"
        ),
        Ok(None) => {}
        Err(e) => tracing::warn!("update not fetched: {e:#}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_running_version_comes_from_a_kiosk_image_only() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("os-release");
        std::fs::write(
            &f,
            "ID=debian\nIMAGE_ID=hallkiosk\nIMAGE_VERSION=1795400000\n",
        )
        .unwrap();
        assert_eq!(running_version(&f), Some(1_795_400_000));
        std::fs::write(&f, "ID=debian\nIMAGE_VERSION=1795400000\n").unwrap();
        assert_eq!(running_version(&f), None, "not a kiosk image");
        std::fs::write(&f, "IMAGE_ID=\"hallkiosk\"\nIMAGE_VERSION=\"12x\"\n").unwrap();
        assert_eq!(running_version(&f), None);
        assert_eq!(running_version(&dir.path().join("none")), None);
    }

    #[test]
    fn offers_are_checked_before_anything_is_fetched() {
        let offer = |version: &str, size: u64, sha: &str| UpdateOffer {
            version: version.into(),
            size,
            sha256: sha.into(),
        };
        let sha = "ab".repeat(32);
        assert_eq!(check_offer(&offer("20", 10, &sha), 19, 100).unwrap(), 20);
        for (bad, why) in [
            (offer("20", 101, &sha), "the limit is 100"),
            (offer("20", 0, &sha), "of 0 bytes"),
            (offer("19", 10, &sha), "not newer"),
            (offer("2x", 10, &sha), "not a version"),
            (offer("20", 10, &"AB".repeat(32)), "no SHA-256"),
        ] {
            let e = check_offer(&bad, 19, 100).unwrap_err().to_string();
            assert!(e.contains(why), "{e}");
        }
    }
}
