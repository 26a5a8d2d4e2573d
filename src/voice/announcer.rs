//! The bridge's one voice call: after each refresh, [`Announcer::update`] compares the flow's
//! prompt with what was last said and hands a change to the [`Player`]; a new visit (any wipe)
//! stops the player first, so the next citizen never hears the previous one's number or code.
//! [`Announcer::repeat`] is the 重听 button.

use super::catalogue::{follow_up, prompt_for, Prompt};
use super::engine::{Engine, Espeak};
use super::player::Player;
use super::policy::should_speak;
use super::sink::{AlsaSink, Sink};
use super::Speech;
use crate::flows::kiosk::{Kiosk, Visit};
use crate::shared::config::{Locale, VoiceSection};

pub struct Announcer {
    player: Player,
    config: VoiceSection,
    /// Minutes after local midnight, now (quiet hours).
    minute: Box<dyn Fn() -> u16>,
    last: Option<(Prompt, Locale)>,
    visit: Option<Visit>,
}

/// Minutes after local midnight by the system clock.
pub fn local_minute() -> u16 {
    use chrono::Timelike;
    let t = chrono::Local::now();
    (t.hour() * 60 + t.minute()) as u16
}

impl Announcer {
    /// espeak-ng through ALSA on the configured device.
    pub fn start(config: &VoiceSection) -> Self {
        let sink = AlsaSink::new(&config.device);
        Self::with(
            config,
            Box::new(Espeak::default()),
            Box::new(sink),
            Box::new(local_minute),
        )
    }

    pub fn with(
        config: &VoiceSection,
        engine: Box<dyn Engine>,
        sink: Box<dyn Sink>,
        minute: Box<dyn Fn() -> u16>,
    ) -> Self {
        let volume = config.volume.0.min(100) as u8;
        Announcer {
            player: Player::spawn(engine, sink, volume),
            config: config.clone(),
            minute,
            last: None,
            visit: None,
        }
    }

    /// Whether the kiosk speaks now (the 重听 button shows only then).
    pub fn active(&self, kiosk: &Kiosk) -> bool {
        should_speak(&self.config, kiosk.elder(), kiosk.page(), (self.minute)())
    }

    /// After every refresh: says the prompt if it changed, stops on a wipe or when silent.
    pub fn update(&mut self, kiosk: &Kiosk) {
        if self.visit != Some(kiosk.visit()) {
            if self.visit.is_some() {
                self.player.stop();
            }
            self.visit = Some(kiosk.visit());
            self.last = None;
        }
        let prompt = if self.active(kiosk) {
            prompt_for(kiosk)
        } else {
            None
        };
        let Some(prompt) = prompt else {
            if self.last.take().is_some() {
                self.player.stop();
            }
            return;
        };
        let now = (prompt, kiosk.locale());
        let same = self
            .last
            .as_ref()
            .is_some_and(|(p, l)| *l == now.1 && p.same_as(&now.0));
        if !same {
            self.say(kiosk, &now.0);
            self.last = Some(now);
        }
    }

    /// Says the current prompt again (the 重听 button).
    pub fn repeat(&mut self, kiosk: &Kiosk) {
        if !self.active(kiosk) {
            return;
        }
        if let Some(p) = prompt_for(kiosk) {
            self.say(kiosk, &p);
            self.last = Some((p, kiosk.locale()));
        }
    }

    fn say(&self, kiosk: &Kiosk, prompt: &Prompt) {
        let locale = kiosk.locale();
        let mut speeches: Vec<Speech> = vec![prompt.speech(locale)];
        if let Some(more) = follow_up(kiosk).filter(|m| m != prompt) {
            speeches.push(more.speech(locale));
        }
        self.player.say(speeches);
    }

    pub fn player(&self) -> &Player {
        &self.player
    }
}

#[cfg(test)]
mod tests {
    use super::super::engine::EngineError;
    use super::super::sink::MemorySink;
    use super::super::Clip;
    use super::*;
    use crate::flows::kiosk::{FlowSettings, Intent};
    use crate::shared::catalog::Catalog;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    /// Records what it was asked to say; 0.2 s of a tone each.
    #[derive(Clone, Default)]
    struct Recorder(Arc<Mutex<Vec<Speech>>>);
    impl Engine for Recorder {
        fn render(&mut self, s: &Speech) -> Result<Clip, EngineError> {
            self.0.lock().unwrap().push(s.clone());
            Ok(Clip {
                sample_rate: 8000,
                samples: vec![1000; 1600],
            })
        }
    }

    fn kiosk() -> Kiosk {
        let s = Duration::from_secs(1);
        Kiosk::new(
            FlowSettings {
                idle: 60 * s,
                countdown: 20 * s,
                elder_factor: 2.0,
                default_locale: Locale::ZhCn,
            },
            Catalog::bundled().unwrap(),
        )
    }

    fn settle() {
        std::thread::sleep(Duration::from_millis(150));
    }

    #[test]
    fn speaks_changes_only_in_elder_mode_by_default_and_repeats_on_request() {
        let rec = Recorder::default();
        let sink = MemorySink::default();
        let mut a = Announcer::with(
            &VoiceSection::default(),
            Box::new(rec.clone()),
            Box::new(sink.clone()),
            Box::new(|| 12 * 60),
        );
        let mut k = kiosk();
        a.update(&k);
        settle();
        assert!(
            rec.0.lock().unwrap().is_empty(),
            "standard mode is silent by default"
        );
        k.intent(Intent::SetElder(true));
        a.update(&k);
        a.update(&k); // no change: not said twice
        settle();
        assert_eq!(rec.0.lock().unwrap().len(), 1);
        let written = sink.log.lock().unwrap().len();
        assert!(written > 0);
        a.repeat(&k);
        settle();
        // said again, from the player's cache this time (a fixed prompt)
        assert_eq!(rec.0.lock().unwrap().len(), 1);
        assert_eq!(sink.log.lock().unwrap().len(), 2 * written);
        k.intent(Intent::OpenMaintenance);
        let g = a.player().generation();
        a.update(&k);
        assert!(a.player().generation() > g, "maintenance stops speech");
    }

    /// 2 s per text; samples 1111 when the text carries citizen A's queue number, else 2222.
    struct Marked;
    impl Engine for Marked {
        fn render(&mut self, s: &Speech) -> Result<Clip, EngineError> {
            let mark = if s.text.contains("ling2 er4 san1") {
                1111
            } else {
                2222
            };
            Ok(Clip {
                sample_rate: 8000,
                samples: vec![mark; 16000],
            })
        }
    }

    /// Citizen A's ticket number is being spoken when the session ends (结束办理): from the
    /// wipe on, not one more chunk of it reaches the sound card.
    #[test]
    fn the_next_citizen_never_hears_the_previous_ones_number() {
        use crate::flows::effect::{Done, Effect, Ticket};
        use crate::flows::kiosk::Entry;
        use crate::flows::ticket::TicketIntent;
        use hallkiosk_drivers::event::DeviceEvent;
        use hallkiosk_drivers::sim::fixtures::CardFixture;
        let sink = MemorySink {
            realtime: true,
            ..MemorySink::default()
        };
        let full = VoiceSection {
            volume: crate::shared::config::Ranged(100),
            ..VoiceSection::default()
        };
        let mut a = Announcer::with(
            &full,
            Box::new(Marked),
            Box::new(sink.clone()),
            Box::new(|| 12 * 60),
        );
        let mut k = kiosk();
        k.intent(Intent::SetElder(true));
        k.intent(Intent::Open(Entry::Ticket));
        let card = CardFixture::Resident.card();
        k.device_event(DeviceEvent::CardPresented(Box::new(card)), "2026-11-22");
        k.intent(Intent::IdentifyContinue);
        k.intent(Intent::Ticket(TicketIntent::ChooseQueue("B".into())));
        let effects = k.take_effects();
        let [Effect::IssueTicket { category, .. }] = &effects[..] else {
            panic!("{effects:?}")
        };
        k.done(Done::TicketIssued(Ok(Ticket {
            number: "A023".into(),
            category: category.clone(),
            ahead: None,
            issued_at_ms: 0,
            local: false,
            locale: Locale::ZhCn,
        })));
        a.update(&k);
        let heard = |mark: i16| {
            sink.log
                .lock()
                .unwrap()
                .iter()
                .filter(|w| w.samples.first() == Some(&mark))
                .map(|w| w.at)
                .collect::<Vec<_>>()
        };
        let t = std::time::Instant::now();
        while heard(1111).len() < 5 && t.elapsed() < Duration::from_secs(3) {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(heard(1111).len() >= 5, "A's number was being said");
        k.intent(Intent::EndSession);
        let wiped = std::time::Instant::now();
        a.update(&k);
        std::thread::sleep(Duration::from_millis(500));
        let late: Vec<_> = heard(1111).into_iter().filter(|&at| at > wiped).collect();
        // at most the chunk whose write began as the wipe happened (20 ms, started ≤ 1 ms later)
        assert!(
            late.len() <= 1 && late.iter().all(|&at| at - wiped < Duration::from_millis(5)),
            "{} chunks of A's number after the wipe",
            late.len()
        );
        // The session's end also ends elder mode: the fresh home page is silent by default.
        assert!(!k.elder());
        assert!(heard(2222).is_empty());
    }

    #[test]
    fn a_wipe_stops_the_player() {
        let mut a = Announcer::with(
            &VoiceSection {
                standard_mode: true,
                ..VoiceSection::default()
            },
            Box::new(Recorder::default()),
            Box::new(MemorySink::default()),
            Box::new(|| 12 * 60),
        );
        let mut k = kiosk();
        a.update(&k);
        k.intent(Intent::Open(crate::flows::kiosk::Entry::Guide));
        a.update(&k);
        let before = a.player().generation();
        k.intent(Intent::Home); // ends the visit
        a.update(&k);
        // stop (the wipe) and then say (the home prompt): two bumps
        assert!(a.player().generation() >= before + 2);
    }
}
