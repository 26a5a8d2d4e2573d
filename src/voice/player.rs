//! The voice player thread. [`Player::say`] replaces whatever is playing, [`Player::stop`] cuts
//! it; both return at once. Each call bumps a generation counter, and the thread checks it after
//! rendering and before every 20 ms chunk, so a new page is heard within a chunk and a clip
//! rendered for an ended session is never played (`stop` on the wipe).

use super::engine::Engine;
use super::sink::Sink;
use super::{Clip, Speech};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Audio is handed to the sink in chunks this long (1/50 s), the generation checked before each.
pub const CHUNK_PER_SEC: u32 = 50;
/// Fixed prompts kept rendered (a few hundred kB each at most).
const CACHE_MAX: usize = 128;

enum Command {
    Say(u64, Vec<Speech>),
    Stop,
    Quit,
}

/// The handle the UI thread holds.
pub struct Player {
    tx: Sender<Command>,
    generation: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl Player {
    /// Starts the thread. `volume` is 0–100.
    pub fn spawn(engine: Box<dyn Engine>, sink: Box<dyn Sink>, volume: u8) -> Self {
        let (tx, rx) = mpsc::channel();
        let generation = Arc::new(AtomicU64::new(0));
        let g = generation.clone();
        let thread = std::thread::Builder::new()
            .name("voice".into())
            .spawn(move || run(rx, g, engine, sink, volume.min(100)))
            .ok();
        if thread.is_none() {
            tracing::warn!("voice: cannot start the player thread; staying silent");
        }
        Player {
            tx,
            generation,
            thread,
        }
    }

    /// Says `speeches` one after the other, replacing what plays. Returns its generation.
    pub fn say(&self, speeches: Vec<Speech>) -> u64 {
        let g = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let _ = self.tx.send(Command::Say(g, speeches));
        g
    }

    /// Cuts what plays and drops what was asked for: no clip asked before this call is heard
    /// after it (but for the chunk being written, ≤ 20 ms).
    pub fn stop(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let _ = self.tx.send(Command::Stop);
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }
}

impl Drop for Player {
    fn drop(&mut self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let _ = self.tx.send(Command::Quit);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn scaled(clip: &Clip, volume: u8) -> Vec<i16> {
    clip.samples
        .iter()
        .map(|&s| (s as i32 * volume as i32 / 100) as i16)
        .collect()
}

fn run(
    rx: Receiver<Command>,
    generation: Arc<AtomicU64>,
    mut engine: Box<dyn Engine>,
    mut sink: Box<dyn Sink>,
    volume: u8,
) {
    let mut cache: HashMap<Speech, Clip> = HashMap::new();
    let current = |g: u64| generation.load(Ordering::SeqCst) == g;
    while let Ok(cmd) = rx.recv() {
        let (g, speeches) = match cmd {
            Command::Quit => return,
            Command::Stop => {
                sink.cut();
                continue;
            }
            Command::Say(g, s) => (g, s),
        };
        if !current(g) {
            continue;
        }
        sink.cut();
        'speeches: for speech in speeches {
            let clip = match cache.get(&speech) {
                Some(c) => c.clone(),
                None => match engine.render(&speech) {
                    Ok(c) => {
                        if speech.cache {
                            if cache.len() >= CACHE_MAX {
                                cache.clear();
                            }
                            cache.insert(speech.clone(), c.clone());
                        }
                        c
                    }
                    Err(e) => {
                        tracing::warn!("voice: cannot render a prompt: {e}");
                        break 'speeches;
                    }
                },
            };
            let samples = scaled(&clip, volume);
            let chunk = (clip.sample_rate / CHUNK_PER_SEC).max(1) as usize;
            for part in samples.chunks(chunk) {
                if !current(g) {
                    sink.cut();
                    break 'speeches;
                }
                sink.write(clip.sample_rate, part);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::engine::EngineError;
    use super::super::sink::MemorySink;
    use super::super::VoiceLang;
    use super::*;
    use std::time::{Duration, Instant};

    /// A fake engine: `secs` of a 440 Hz tone per text, after `delay` (rendering time).
    struct Tone {
        secs: f64,
        delay: Duration,
    }
    impl Engine for Tone {
        fn render(&mut self, _s: &Speech) -> Result<Clip, EngineError> {
            std::thread::sleep(self.delay);
            let rate = 16000;
            let n = (self.secs * rate as f64) as usize;
            Ok(Clip {
                sample_rate: rate,
                samples: (0..n)
                    .map(|i| {
                        ((i as f64 * 440.0 * std::f64::consts::TAU / rate as f64).sin() * 8000.0)
                            as i16
                    })
                    .collect(),
            })
        }
    }

    fn speech(t: &str) -> Vec<Speech> {
        vec![Speech {
            lang: VoiceLang::Pinyin,
            text: t.into(),
            cache: false,
        }]
    }

    fn wait_for_audio(sink: &MemorySink) {
        let t = Instant::now();
        while sink.log.lock().unwrap().is_empty() && t.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    #[test]
    fn a_new_page_cuts_speech_within_100_ms() {
        let sink = MemorySink {
            realtime: true,
            ..MemorySink::default()
        };
        let engine = Tone {
            secs: 5.0,
            delay: Duration::ZERO,
        };
        let p = Player::spawn(Box::new(engine), Box::new(sink.clone()), 100);
        let first = p.say(speech("one"));
        wait_for_audio(&sink);
        std::thread::sleep(Duration::from_millis(200));
        let changed = Instant::now();
        p.stop();
        std::thread::sleep(Duration::from_millis(300));
        let log = sink.log.lock().unwrap();
        let last = log.iter().map(|w| w.at).max().unwrap();
        let heard_until = last + Duration::from_secs_f64(1.0 / CHUNK_PER_SEC as f64);
        let late = heard_until.saturating_duration_since(changed);
        assert!(late < Duration::from_millis(100), "speech went on {late:?}");
        assert!(first < p.generation());
        let cut = sink.cuts.lock().unwrap().iter().any(|&c| c >= changed);
        assert!(cut, "the queued audio was not dropped");
    }

    #[test]
    fn a_clip_rendering_when_the_session_ends_is_never_played() {
        let sink = MemorySink::default();
        let engine = Tone {
            secs: 1.0,
            delay: Duration::from_millis(150),
        };
        let p = Player::spawn(Box::new(engine), Box::new(sink.clone()), 100);
        p.say(speech("previous citizen's code"));
        std::thread::sleep(Duration::from_millis(30));
        p.stop(); // the wipe
        std::thread::sleep(Duration::from_millis(400));
        assert!(sink.log.lock().unwrap().is_empty(), "a stale clip played");
        // the next citizen's prompt still plays
        p.say(speech("next"));
        std::thread::sleep(Duration::from_millis(400));
        assert!(!sink.log.lock().unwrap().is_empty());
    }

    #[test]
    fn volume_scales_the_samples() {
        let clip = Clip {
            sample_rate: 8000,
            samples: vec![10000, -10000],
        };
        assert_eq!(scaled(&clip, 50), vec![5000, -5000]);
        assert_eq!(scaled(&clip, 0), vec![0, 0]);
    }
}
