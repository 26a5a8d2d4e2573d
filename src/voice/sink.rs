//! Where audio goes. [`Sink::write`] blocks about as long as the audio lasts (a sound card's
//! buffer), so the player can stop between chunks; [`Sink::cut`] drops what is queued at once.
//! [`AlsaSink`] plays through ALSA (no PulseAudio on the image); without a usable device it logs
//! once and stays silent. [`MemorySink`] records what was written, and when, for tests.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An audio output for mono 16-bit samples.
pub trait Sink: Send {
    /// Plays `samples` at `rate`; returns when they are queued (blocking while the device's
    /// buffer is full).
    fn write(&mut self, rate: u32, samples: &[i16]);
    /// Drops whatever is queued and not yet heard.
    fn cut(&mut self);
}

/// Discards everything.
#[derive(Debug, Default)]
pub struct NullSink;

impl Sink for NullSink {
    fn write(&mut self, _rate: u32, _samples: &[i16]) {}
    fn cut(&mut self) {}
}

/// One write to a [`MemorySink`].
#[derive(Debug, Clone)]
pub struct Written {
    pub at: Instant,
    pub rate: u32,
    pub samples: Vec<i16>,
}

/// Records every write with its time; `realtime` makes each write take as long as its audio,
/// like a sound card.
#[derive(Debug, Clone, Default)]
pub struct MemorySink {
    pub log: Arc<Mutex<Vec<Written>>>,
    pub cuts: Arc<Mutex<Vec<Instant>>>,
    pub realtime: bool,
}

impl Sink for MemorySink {
    fn write(&mut self, rate: u32, samples: &[i16]) {
        let at = Instant::now();
        if let Ok(mut log) = self.log.lock() {
            log.push(Written {
                at,
                rate,
                samples: samples.to_vec(),
            });
        }
        if self.realtime && rate > 0 {
            std::thread::sleep(Duration::from_secs_f64(samples.len() as f64 / rate as f64));
        }
    }
    fn cut(&mut self) {
        if let Ok(mut c) = self.cuts.lock() {
            c.push(Instant::now());
        }
    }
}

/// ALSA playback on a named device ("default", "hw:0,0"), opened on first use and reopened
/// when the rate changes. A device that cannot be opened is logged once (its name and ALSA's
/// error, nothing spoken) and the sink is silent from then on: the kiosk never stops for audio.
pub struct AlsaSink {
    device: String,
    pcm: Option<(alsa::pcm::PCM, u32)>,
    failed: bool,
}

impl AlsaSink {
    pub fn new(device: &str) -> Self {
        AlsaSink {
            device: device.to_string(),
            pcm: None,
            failed: false,
        }
    }

    /// Whether the device could not be opened (the sink is silent).
    pub fn failed(&self) -> bool {
        self.failed
    }

    fn open(&self, rate: u32) -> Result<alsa::pcm::PCM, alsa::Error> {
        use alsa::pcm::{Access, Format, HwParams, PCM};
        use alsa::{Direction, ValueOr};
        let pcm = PCM::new(&self.device, Direction::Playback, false)?;
        {
            let hwp = HwParams::any(&pcm)?;
            hwp.set_channels(1)?;
            hwp.set_rate(rate, ValueOr::Nearest)?;
            hwp.set_format(Format::s16())?;
            hwp.set_access(Access::RWInterleaved)?;
            // A short buffer: a cut is heard within ~100 ms.
            hwp.set_buffer_time_near(80_000, ValueOr::Nearest)?;
            hwp.set_period_time_near(20_000, ValueOr::Nearest)?;
            pcm.hw_params(&hwp)?;
        }
        pcm.prepare()?;
        Ok(pcm)
    }
}

impl Sink for AlsaSink {
    fn write(&mut self, rate: u32, samples: &[i16]) {
        if self.failed {
            return;
        }
        if self.pcm.as_ref().is_none_or(|(_, r)| *r != rate) {
            self.pcm = None;
            match self.open(rate) {
                Ok(p) => self.pcm = Some((p, rate)),
                Err(e) => {
                    tracing::warn!(device = %self.device, "voice: no sound device, staying silent: {e}");
                    self.failed = true;
                    return;
                }
            }
        }
        let mut lost = false;
        if let Some((pcm, _)) = &self.pcm {
            let mut rest = samples;
            while !rest.is_empty() {
                let Ok(io) = pcm.io_i16() else { break };
                match io.writei(rest) {
                    Ok(n) => rest = &rest[n.min(rest.len())..],
                    Err(e) => {
                        if pcm.try_recover(e, true).is_err() {
                            tracing::warn!(device = %self.device, "voice: sound device lost: {e}");
                            lost = true;
                            break;
                        }
                    }
                }
            }
        }
        if lost {
            self.pcm = None;
        }
    }

    fn cut(&mut self) {
        if let Some((pcm, _)) = &self.pcm {
            let _ = pcm.drop();
            let _ = pcm.prepare();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_alsa_device_degrades_to_silence() {
        let mut s = AlsaSink::new("hw:CARD=NoSuchCard_hallkiosk");
        s.write(22050, &[0; 441]);
        assert!(s.failed());
        s.write(22050, &[0; 441]);
        s.cut();
    }
}
