//! `hallkiosk voice check|list|say`: the spoken prompts for technicians (docs/voice.md). `check`
//! renders every prompt in both languages with espeak-ng and plays a short test tone on the
//! configured ALSA device; `list` prints each prompt's Chinese text and reviewed pinyin; `say`
//! speaks one prompt, or writes it to a WAV file.

use crate::shared::config::{Config, Locale};
use crate::voice::catalogue::{transcripts, Prompt, PromptId, Slot};
use crate::voice::engine::{wav_bytes, Engine, Espeak};
use crate::voice::sink::{AlsaSink, Sink};
use crate::voice::Clip;
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Subcommand)]
pub enum VoiceCommand {
    /// espeak-ng and its voices present, every prompt renders (time, length, level), and a
    /// 1 s test tone on the sound device ([voice] device, or --device)
    Check {
        #[arg(long)]
        device: Option<String>,
        /// Render only; do not open the sound device
        #[arg(long)]
        no_tone: bool,
    },
    /// Every prompt: id, Chinese text, the pinyin the engine is given
    List,
    /// Say one prompt (by id, e.g. TicketIssued) on the sound device, or write it as WAV
    Say {
        prompt: String,
        /// en or zh_CN
        #[arg(long, default_value = "zh_CN")]
        locale: String,
        /// The variable part: a queue number or code (said character by character)
        #[arg(long)]
        code: Option<String>,
        #[arg(long, value_name = "FILE")]
        wav: Option<PathBuf>,
        #[arg(long)]
        device: Option<String>,
    },
}

fn locale(s: &str) -> Result<Locale> {
    match s {
        "zh_CN" | "zh" => Ok(Locale::ZhCn),
        "en" => Ok(Locale::En),
        other => bail!("unknown locale {other:?}: use zh_CN or en"),
    }
}

fn prompt_id(s: &str) -> Result<PromptId> {
    PromptId::ALL
        .into_iter()
        .find(|id| format!("{id:?}").eq_ignore_ascii_case(s))
        .with_context(|| format!("no prompt {s:?}: `hallkiosk voice list` shows them"))
}

/// A test tone: 1 s of 440 Hz at a quarter of full scale.
pub(crate) fn tone() -> Clip {
    let rate = 22050;
    Clip {
        sample_rate: rate,
        samples: (0..rate)
            .map(|i| {
                let t = i as f64 / rate as f64;
                ((t * 440.0 * std::f64::consts::TAU).sin() * 8192.0) as i16
            })
            .collect(),
    }
}

pub(crate) fn play(device: &str, clip: &Clip) -> Result<()> {
    let mut sink = AlsaSink::new(device);
    sink.write(clip.sample_rate, &clip.samples);
    if sink.failed() {
        bail!("cannot open the sound device {device:?} (see the log line above)");
    }
    Ok(())
}

pub fn command(config_path: Option<&Path>, c: VoiceCommand) -> Result<()> {
    let (config, _) = Config::load(config_path)?;
    let mut engine = Espeak::default();
    match c {
        VoiceCommand::List => {
            print!("{}", transcripts());
            Ok(())
        }
        VoiceCommand::Check { device, no_tone } => {
            let version = engine.version()?;
            println!("engine: {version}");
            let mut worst = 0.0f64;
            for id in PromptId::ALL {
                for l in [Locale::ZhCn, Locale::En] {
                    let slot = if matches!(id, PromptId::TicketAhead | PromptId::IdleCountdown) {
                        Slot::Count(20)
                    } else if id.texts().0.contains("{}") {
                        Slot::Code("A023".into())
                    } else {
                        Slot::None
                    };
                    let t = Instant::now();
                    let clip = engine
                        .render(&Prompt { id, slot }.speech(l))
                        .with_context(|| format!("{id:?} {l:?}"))?;
                    let ms = t.elapsed().as_secs_f64() * 1000.0;
                    worst = worst.max(ms);
                    println!(
                        "{id:?} {l:?}: {:.1} s, peak {}, rendered in {ms:.0} ms",
                        clip.duration_secs(),
                        clip.peak()
                    );
                    if clip.rms() < 300.0 {
                        bail!("{id:?} {l:?} is silent");
                    }
                }
            }
            println!(
                "all {} prompts render; slowest {worst:.0} ms",
                PromptId::ALL.len() * 2
            );
            if !no_tone {
                let device = device.unwrap_or(config.voice.device.clone());
                play(&device, &tone())?;
                println!("test tone played on {device:?}: did it sound?");
            }
            Ok(())
        }
        VoiceCommand::Say {
            prompt,
            locale: l,
            code,
            wav,
            device,
        } => {
            let id = prompt_id(&prompt)?;
            let slot = match code {
                Some(c) if matches!(id, PromptId::TicketAhead | PromptId::IdleCountdown) => {
                    Slot::Count(c.parse().context("--code: a number for this prompt")?)
                }
                Some(c) => Slot::Code(c),
                None if id.texts().0.contains("{}") => bail!("{id:?} needs --code"),
                None => Slot::None,
            };
            let speech = Prompt { id, slot }.speech(locale(&l)?);
            let clip = engine.render(&speech)?;
            match wav {
                Some(path) => std::fs::write(&path, wav_bytes(&clip))
                    .with_context(|| format!("cannot write {}", path.display())),
                None => play(&device.unwrap_or(config.voice.device.clone()), &clip),
            }
        }
    }
}
