//! Text → audio. [`Engine`] is what the player needs; [`Espeak`] runs Debian's `espeak-ng`
//! binary (GPL-3.0-or-later, like hallkiosk) as a child process: pinyin with the
//! `cmn-latn-pinyin` voice, English with `en`, WAV on its standard output. The text goes in on
//! standard input, never on the command line. Call it on a worker thread, never on the UI thread.

use super::{Clip, Speech, VoiceLang};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot run {0}: {1} (scripts/setup installs espeak-ng)")]
    Spawn(String, std::io::Error),
    #[error("the engine failed: {0}")]
    Failed(String),
    #[error("the engine's audio is not a WAV this kiosk reads: {0}")]
    Wav(&'static str),
}

/// Renders a text in a voice.
pub trait Engine: Send {
    fn render(&mut self, speech: &Speech) -> Result<Clip, EngineError>;
}

/// Debian's espeak-ng, as a child process per clip.
#[derive(Debug, Clone)]
pub struct Espeak {
    pub binary: PathBuf,
    /// Words per minute (espeak's default is 175; slower for a kiosk).
    pub speed: u32,
    /// A render that takes longer is killed and counts as failed, so a stuck engine never
    /// holds the player thread (a prompt renders in ~20 ms).
    pub timeout: Duration,
}

impl Default for Espeak {
    fn default() -> Self {
        Espeak {
            binary: PathBuf::from("espeak-ng"),
            speed: 150,
            timeout: Duration::from_secs(10),
        }
    }
}

impl Espeak {
    pub fn voice(lang: VoiceLang) -> &'static str {
        match lang {
            VoiceLang::Pinyin => "cmn-latn-pinyin",
            VoiceLang::English => "en",
        }
    }

    /// `espeak-ng --version`'s line, or why it cannot run.
    pub fn version(&self) -> Result<String, EngineError> {
        let out = Command::new(&self.binary)
            .arg("--version")
            .output()
            .map_err(|e| EngineError::Spawn(self.binary.display().to_string(), e))?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// espeak-ng's phonemes for a text (`-q -x`), for the pronunciation tests.
    pub fn phonemes(&self, lang: VoiceLang, text: &str) -> Result<String, EngineError> {
        let out = self.run(&["-q", "-x", "-v", Self::voice(lang)], text)?;
        Ok(String::from_utf8_lossy(&out).trim().to_string())
    }

    fn run(&self, args: &[&str], text: &str) -> Result<Vec<u8>, EngineError> {
        let mut child = Command::new(&self.binary)
            .args(args)
            .args(["-b", "1"]) // UTF-8 input
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| EngineError::Spawn(self.binary.display().to_string(), e))?;
        let mut stdin = child.stdin.take().expect("piped");
        // Small texts: written whole before reading; espeak reads all input before speaking.
        stdin
            .write_all(text.as_bytes())
            .map_err(|e| EngineError::Failed(e.to_string()))?;
        drop(stdin);
        let mut stdout = child.stdout.take().expect("piped");
        let reader = std::thread::spawn(move || {
            let mut out = Vec::new();
            stdout.read_to_end(&mut out).map(|_| out)
        });
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(1))
                }
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(EngineError::Failed(format!(
                        "no answer within {:?}, killed",
                        self.timeout
                    )));
                }
                Err(e) => return Err(EngineError::Failed(e.to_string())),
            }
        };
        let out = reader
            .join()
            .map_err(|_| EngineError::Failed("reader thread panicked".into()))?
            .map_err(|e| EngineError::Failed(e.to_string()))?;
        if !status.success() {
            let mut err = String::new();
            if let Some(mut s) = child.stderr.take() {
                let _ = s.read_to_string(&mut err);
            }
            return Err(EngineError::Failed(format!("{status}: {}", err.trim())));
        }
        Ok(out)
    }
}

impl Engine for Espeak {
    fn render(&mut self, speech: &Speech) -> Result<Clip, EngineError> {
        let speed = self.speed.to_string();
        let wav = self.run(
            &["-v", Self::voice(speech.lang), "-s", &speed, "--stdout"],
            &speech.text,
        )?;
        parse_wav(&wav)
    }
}

/// Reads a mono 16-bit PCM WAV. espeak-ng's `--stdout` header gives no real data size (it
/// streams), so the data chunk is taken to the end of the bytes.
pub fn parse_wav(b: &[u8]) -> Result<Clip, EngineError> {
    if b.len() < 12 || &b[0..4] != b"RIFF" || &b[8..12] != b"WAVE" {
        return Err(EngineError::Wav("no RIFF/WAVE header"));
    }
    let mut at = 12;
    let mut rate = None;
    while at + 8 <= b.len() {
        let id = &b[at..at + 4];
        let len = u32::from_le_bytes([b[at + 4], b[at + 5], b[at + 6], b[at + 7]]) as usize;
        let body = at + 8;
        if id == b"fmt " {
            let f = b
                .get(body..body + 16)
                .ok_or(EngineError::Wav("short fmt chunk"))?;
            let format = u16::from_le_bytes([f[0], f[1]]);
            let channels = u16::from_le_bytes([f[2], f[3]]);
            let bits = u16::from_le_bytes([f[14], f[15]]);
            if format != 1 || channels != 1 || bits != 16 {
                return Err(EngineError::Wav("not mono 16-bit PCM"));
            }
            rate = Some(u32::from_le_bytes([f[4], f[5], f[6], f[7]]));
        } else if id == b"data" {
            let rate = rate.ok_or(EngineError::Wav("data before fmt"))?;
            let end = body.saturating_add(len).min(b.len());
            let samples = b[body..end]
                .chunks_exact(2)
                .map(|p| i16::from_le_bytes([p[0], p[1]]))
                .collect();
            return Ok(Clip {
                sample_rate: rate,
                samples,
            });
        }
        at = body.saturating_add(len).saturating_add(len & 1);
    }
    Err(EngineError::Wav("no data chunk"))
}

/// A mono 16-bit PCM WAV of a clip (the file sink, test artefacts).
pub fn wav_bytes(clip: &Clip) -> Vec<u8> {
    let data = (clip.samples.len() * 2) as u32;
    let mut b = Vec::with_capacity(44 + data as usize);
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&clip.sample_rate.to_le_bytes());
    b.extend_from_slice(&(clip.sample_rate * 2).to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data.to_le_bytes());
    for s in &clip.samples {
        b.extend_from_slice(&s.to_le_bytes());
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_round_trip_and_streamed_size() {
        let clip = Clip {
            sample_rate: 22050,
            samples: vec![0, 1, -1, i16::MAX, i16::MIN],
        };
        let mut b = wav_bytes(&clip);
        assert_eq!(parse_wav(&b).unwrap(), clip);
        // espeak's --stdout: the data chunk's size is a placeholder larger than the bytes.
        b[40..44].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
        assert_eq!(parse_wav(&b).unwrap(), clip);
    }

    #[test]
    fn a_stuck_engine_is_killed_after_its_timeout() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("hallkiosk-stuck-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let script = dir.join("stuck-espeak");
        std::fs::write(&script, "#!/bin/sh\nexec sleep 30\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut e = Espeak {
            binary: script,
            timeout: Duration::from_millis(200),
            ..Espeak::default()
        };
        let t = Instant::now();
        let r = e.render(&Speech {
            lang: VoiceLang::Pinyin,
            text: "ni3 hao3".into(),
            cache: true,
        });
        assert!(matches!(r, Err(EngineError::Failed(_))), "{r:?}");
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn bad_wavs_are_errors_not_panics() {
        for b in [
            &b""[..],
            b"RIFF",
            b"RIFF\0\0\0\0WAVE",
            b"RIFF\0\0\0\0WAVEfmt \xff\xff\xff\xff",
        ] {
            assert!(parse_wav(b).is_err());
        }
        let mut stereo = wav_bytes(&Clip {
            sample_rate: 8000,
            samples: vec![0; 4],
        });
        stereo[22] = 2;
        assert!(parse_wav(&stereo).is_err());
    }
}
