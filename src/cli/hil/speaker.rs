//! `[speaker]` of a rig: the voice engine renders a prompt in both languages, and a 1 s test
//! tone plays on the ALSA device. Whether it was heard is the operator's to confirm (a
//! loop-back capture is not wired yet); `device = "null"` (ALSA's null plugin) runs it in CI.

use super::Outcome;
use crate::cli::voice::{play, tone};
use crate::shared::config::Locale;
use crate::voice::catalogue::{Prompt, PromptId};
use crate::voice::engine::{Engine, Espeak};
use serde::Deserialize;
use std::time::Instant;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpeakerRig {
    /// The ALSA playback device, as in `[voice] device`.
    #[serde(default = "default_device")]
    pub device: String,
}

fn default_device() -> String {
    "default".into()
}

/// The engine on the image renders a prompt, not silent, in both languages: a missing engine is
/// the image's fault (fail).
pub fn engine_check() -> Outcome {
    let mut e = Espeak::default();
    let mut said = Vec::new();
    for locale in [Locale::ZhCn, Locale::En] {
        let t = Instant::now();
        match e.render(&Prompt::new(PromptId::IdentifyWaiting).speech(locale)) {
            Ok(c) if c.rms() >= 300.0 => said.push(format!(
                "{locale:?} {:.1} s in {} ms",
                c.duration_secs(),
                t.elapsed().as_millis()
            )),
            Ok(_) => return Outcome::Fail(format!("{locale:?} prompt is silent")),
            Err(err) => return Outcome::Fail(err.to_string()),
        }
    }
    Outcome::Pass(format!("espeak-ng renders: {}", said.join(", ")))
}

/// The test tone on the device: a device that cannot be opened is the rig's (error).
pub fn tone_check(rig: &SpeakerRig) -> Outcome {
    match play(&rig.device, &tone()) {
        Ok(()) => Outcome::Pass(format!(
            "1 s 440 Hz tone played on {:?}; the operator confirms it was heard",
            rig.device
        )),
        Err(e) => Outcome::Error(e.to_string()),
    }
}
