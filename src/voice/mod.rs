//! Spoken prompts (issue 19): what the kiosk says on each page, in Mandarin or English, and the
//! machinery that says it off the UI thread. docs/voice.md has the engine choice and what is
//! measured.
//!
//! | part | what |
//! |---|---|
//! | [`transcribe`] | Chinese text → pinyin with tone numbers (the `pinyin` crate + a reviewed override table), digits one by one |
//! | [`catalogue`] | every prompt in Chinese and English; [`catalogue::prompt_for`]: the prompt for the flow's state (pure) |
//! | [`policy`] | [`policy::should_speak`]: elder mode, standard mode, quiet hours, the maintenance screen |
//! | [`engine`] | the [`engine::Engine`] trait; espeak-ng (`cmn-latn-pinyin` for pinyin, `en` for English) |
//! | [`sink`] | the [`sink::Sink`] trait; ALSA (degrades to silence without a sound card), memory and WAV sinks for tests |
//! | [`player`] | the player thread: `say` replaces what plays, `stop` cuts it; a generation counter drops stale clips |
//!
//! The Mandarin voice is never given Chinese characters: espeak-ng misreads polyphones and
//! numbers, so it gets the transcription, which is committed and reviewed
//! (`src/voice/transcripts.txt`).

pub mod announcer;
pub mod catalogue;
pub mod engine;
pub mod player;
pub mod policy;
pub mod sink;
pub mod transcribe;

/// Which voice a text is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VoiceLang {
    /// Mandarin, the text being tone-numbered pinyin (`chong2 xin1`).
    Pinyin,
    English,
}

/// A text for the engine, in one voice.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Speech {
    pub lang: VoiceLang,
    pub text: String,
    /// A fixed prompt's text, which the player may keep rendered; false for texts with a
    /// citizen's number or code, which are never kept.
    pub cache: bool,
}

/// Rendered audio: mono, signed 16-bit.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Clip {
    pub sample_rate: u32,
    pub samples: Vec<i16>,
}

impl Clip {
    pub fn duration_secs(&self) -> f64 {
        if self.sample_rate == 0 {
            return 0.0;
        }
        self.samples.len() as f64 / self.sample_rate as f64
    }
    /// The largest absolute sample.
    pub fn peak(&self) -> u16 {
        self.samples
            .iter()
            .map(|s| s.unsigned_abs())
            .max()
            .unwrap_or(0)
    }
    /// Root mean square, 0 to 32768.
    pub fn rms(&self) -> f64 {
        if self.samples.is_empty() {
            return 0.0;
        }
        let sum: f64 = self.samples.iter().map(|&s| (s as f64) * (s as f64)).sum();
        (sum / self.samples.len() as f64).sqrt()
    }
}
