//! `hallkiosk config check|show` and `hallkiosk catalog check|search`: the configuration file and
//! the service catalog as the kiosk would load them.

use crate::shared::catalog::Catalog;
use crate::shared::config::{Config, ConfigSource};
use anyhow::{Context, Result};
use clap::Subcommand;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration; exits non-zero naming file, line and field when invalid
    Check,
    /// Print the configuration in force, defaults filled in
    Show,
}

#[derive(Subcommand)]
pub enum CatalogCommand {
    /// Validate a catalog file (default: the one the kiosk would use)
    Check { file: Option<PathBuf> },
    /// Search the catalog as the service guide does (Chinese, English, pinyin or initials)
    Search { query: String },
}

pub fn config_command(config_path: Option<&Path>, c: ConfigCommand) -> Result<()> {
    let (config, source) = Config::load(config_path)?;
    match c {
        ConfigCommand::Check => {
            if let ConfigSource::File(_) = source {
                Catalog::load_configured(&config).context("the configured catalog")?;
            }
            println!(
                "ok: {source} (kiosk {}, {} devices simulated)",
                config.kiosk.id,
                if config.all_devices_simulated() {
                    "all"
                } else {
                    "not all"
                }
            );
        }
        ConfigCommand::Show => print!("{}", toml::to_string_pretty(&config)?),
    }
    Ok(())
}

pub fn catalog_command(config_path: Option<&Path>, c: CatalogCommand) -> Result<()> {
    match c {
        CatalogCommand::Check { file } => {
            let catalog = match file {
                Some(f) => Catalog::from_file(&f)?,
                None => Catalog::load_configured(&Config::load(config_path)?.0)?,
            };
            println!(
                "ok: catalog {} published {}: {} themes, {} items",
                catalog.version,
                catalog.published,
                catalog.themes.len(),
                catalog.items.len()
            );
        }
        CatalogCommand::Search { query } => {
            let catalog = Catalog::load_configured(&Config::load(config_path)?.0)?;
            for item in catalog.search(&query) {
                println!("{}\t{}\t{}", item.id, item.name.zh, item.name.en);
            }
        }
    }
    Ok(())
}
