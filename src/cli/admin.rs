//! `hallkiosk admin hash-pin|hash-card|new-card-key`: what a technician provisions for the
//! maintenance screen (docs/operations.md). The PIN or ID number is read from standard input (one
//! line), so it appears in no process list or shell history; only its hash is printed.

use crate::shared::admin::{self, CardKey};
use anyhow::{Context, Result};
use clap::Subcommand;
use std::io::BufRead;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Read a PIN (4–12 digits) from standard input and print its Argon2id PHC string for
    /// `[hall] admin_pin_argon2` (a new random salt each time)
    HashPin,
    /// Read a technician's ID number from standard input and print its HMAC-SHA-256 under the
    /// admin-card key, for `[hall] admin_cards_hmac`
    HashCard {
        /// The admin-card key [default: the configured one]
        #[arg(long, value_name = "FILE")]
        key: Option<PathBuf>,
    },
    /// Create a new admin-card key (32 random bytes, mode 0600; the file must not exist)
    NewCardKey {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

fn read_line() -> Result<zeroize::Zeroizing<String>> {
    let mut line = zeroize::Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read standard input")?;
    let trimmed = zeroize::Zeroizing::new(line.trim().to_string());
    Ok(trimmed)
}

pub fn command(config_path: Option<&Path>, c: AdminCommand) -> Result<()> {
    match c {
        AdminCommand::HashPin => {
            let pin = read_line()?;
            anyhow::ensure!(
                (4..=crate::flows::maintenance::PIN_MAX).contains(&pin.len())
                    && pin.bytes().all(|b| b.is_ascii_digit()),
                "a PIN is 4 to {} digits (the pad has digits only)",
                crate::flows::maintenance::PIN_MAX
            );
            println!("{}", admin::hash_pin(&pin).map_err(anyhow::Error::msg)?);
        }
        AdminCommand::HashCard { key } => {
            let key = match key {
                Some(p) => CardKey::read(&p).map_err(anyhow::Error::msg)?,
                None => {
                    let (config, _) = crate::shared::config::Config::load(config_path)?;
                    CardKey::configured(&config)
                        .map_err(anyhow::Error::msg)?
                        .context("no admin-card key: pass --key FILE or provision one")?
                }
            };
            let id = read_line()?;
            anyhow::ensure!(!id.is_empty(), "no ID number on standard input");
            println!("{}", key.hash_card(&id));
        }
        AdminCommand::NewCardKey { file } => {
            crate::outbox::crypto::create_key_file(&file)?;
            println!("{}", file.display());
        }
    }
    Ok(())
}
