//! The `hallkiosk` command: runs the kiosk and gives technicians and maintainers their tools.
//! `main` only parses the command line and wires parts together; the parts live in the library.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use hallkiosk::catalog::Catalog;
use hallkiosk::config::{Config, ConfigSource, Locale, Orientation};
use hallkiosk::flows::kiosk::{FlowSettings, Kiosk};
use hallkiosk::startup::{watch_first_frame, FirstFrame};
use hallkiosk::ui::{local_today, KioskUi, UiOptions};
use slint::ComponentHandle;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "hallkiosk",
    version,
    about = "Self-service terminal for government service halls (政务服务自助终端)"
)]
struct Cli {
    /// Configuration file [default: /etc/hallkiosk/config.toml if present, else embedded defaults]
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the kiosk (the default)
    Run(RunArgs),
    /// Check or show the configuration
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Check or search the service catalog
    #[command(subcommand)]
    Catalog(CatalogCommand),
}

#[derive(clap::Args, Default)]
struct RunArgs {
    /// Override the configured screen orientation
    #[arg(long, value_enum)]
    orientation: Option<OrientationArg>,
    /// Override the configured start language
    #[arg(long, value_enum)]
    locale: Option<LocaleArg>,
    /// Full screen (kiosks) instead of a window
    #[arg(long)]
    fullscreen: bool,
    /// Write the time of the first rendered frame (ns since the Unix epoch) to FILE
    #[arg(long, value_name = "FILE")]
    first_frame_file: Option<PathBuf>,
    /// Quit right after the first frame (start-up benchmarks and screenshot tests)
    #[arg(long)]
    exit_after_first_frame: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum OrientationArg {
    Landscape,
    Portrait,
}

#[derive(Clone, Copy, ValueEnum)]
enum LocaleArg {
    #[value(name = "zh_CN")]
    ZhCn,
    En,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate the configuration; exits non-zero naming file, line and field when invalid
    Check,
    /// Print the configuration in force, defaults filled in
    Show,
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// Validate a catalog file (default: the one the kiosk would use)
    Check { file: Option<PathBuf> },
    /// Search the catalog as the service guide does (Chinese, English, pinyin or initials)
    Search { query: String },
}

fn main() -> ExitCode {
    let started = Instant::now();
    hallkiosk::logging::init();
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Run(RunArgs::default())) {
        Command::Run(args) => run(cli.config.as_deref(), args, started),
        Command::Config(c) => config_command(cli.config.as_deref(), c),
        Command::Catalog(c) => catalog_command(cli.config.as_deref(), c),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hallkiosk: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn load_catalog(config: &Config) -> Result<Catalog> {
    if let Some(file) = &config.catalog.file {
        return Ok(Catalog::from_file(file)?);
    }
    let (catalog, skipped) = Catalog::newest(&config.data_dir().join("catalog"))?;
    for e in skipped {
        tracing::warn!("skipping cached catalog: {e}");
    }
    Ok(catalog)
}

fn run(config_path: Option<&Path>, args: RunArgs, started: Instant) -> Result<()> {
    let (mut config, source) = Config::load(config_path)?;
    if let Some(o) = args.orientation {
        config.kiosk.orientation = match o {
            OrientationArg::Landscape => Orientation::Landscape,
            OrientationArg::Portrait => Orientation::Portrait,
        };
    }
    if let Some(l) = args.locale {
        config.kiosk.locale = match l {
            LocaleArg::ZhCn => Locale::ZhCn,
            LocaleArg::En => Locale::En,
        };
    }
    let fullscreen = args.fullscreen || config.kiosk.fullscreen;
    let catalog = load_catalog(&config)?;
    let data_dir = config.data_dir();
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create data directory {}", data_dir.display()))?;
    tracing::info!(
        config = %source,
        kiosk = %config.kiosk.id,
        catalog = %catalog.version,
        data_dir = %data_dir.display(),
        simulated = config.all_devices_simulated(),
        "starting kiosk"
    );
    if !config.all_devices_simulated() {
        tracing::warn!(
            "real device drivers are not built yet; the configured devices are not opened"
        );
    }

    let kiosk = Kiosk::new(FlowSettings::from_config(&config), catalog);
    let ui = KioskUi::new(
        kiosk,
        UiOptions {
            hall_name: config.kiosk.hall_name.clone(),
            hall_name_en: config.kiosk.hall_name_en.clone(),
            kiosk_id: config.kiosk.id.to_string(),
            dev_dock: config.show_dev_dock(),
            today: Box::new(local_today),
        },
    )?;
    let window = ui.window().window();
    let (w, h) = config.kiosk.orientation.size();
    window.set_size(slint::LogicalSize::new(w as f32, h as f32));
    if fullscreen {
        window.set_fullscreen(true);
    }
    watch_first_frame(
        window,
        started,
        FirstFrame {
            file: args.first_frame_file,
            exit: args.exit_after_first_frame,
        },
    );
    ui.window().run()?;
    tracing::info!("kiosk stopped");
    Ok(())
}

fn config_command(config_path: Option<&Path>, c: ConfigCommand) -> Result<()> {
    let (config, source) = Config::load(config_path)?;
    match c {
        ConfigCommand::Check => {
            if let ConfigSource::File(_) = source {
                load_catalog(&config).context("the configured catalog")?;
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

fn catalog_command(config_path: Option<&Path>, c: CatalogCommand) -> Result<()> {
    match c {
        CatalogCommand::Check { file } => {
            let catalog = match file {
                Some(f) => Catalog::from_file(&f)?,
                None => load_catalog(&Config::load(config_path)?.0)?,
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
            let catalog = load_catalog(&Config::load(config_path)?.0)?;
            for item in catalog.search(&query) {
                println!("{}\t{}\t{}", item.id, item.name.zh, item.name.en);
            }
        }
    }
    Ok(())
}
