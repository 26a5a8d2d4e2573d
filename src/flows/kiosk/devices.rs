//! What device services tell the kiosk: a card read (a new session, or a technician), a card
//! lifted, a scanned code routed to its page, the printer's paper, a device's fault. Card and code
//! handling belongs to identification, but it spans pages: a card read anywhere changes whose
//! session it is.

use super::*;

impl Kiosk {
    /// Whether this visit has work of its own without a card: a ticket asked for or shown, a
    /// rating begun. (A ticket page still offering the queues is nobody's yet.)
    fn anonymous_work(&self) -> bool {
        let ticket = self
            .ticket
            .as_ref()
            .is_some_and(|t| t.step != crate::flows::ticket::TicketStep::Choose);
        let rating = self
            .rating
            .as_ref()
            .is_some_and(|r| r.step != crate::flows::rating::RatingStep::Choose);
        self.session.is_none() && (ticket || rating)
    }

    /// An event from a device service. `today` is the local date `YYYY-MM-DD` (for card expiry).
    pub fn device_event(&mut self, event: DeviceEvent, today: &str) {
        match event {
            DeviceEvent::CardPresented(card) => {
                self.idle.activity();
                self.card_removed_prompt = false;
                if self.hall.admin_card(&card.id_number) {
                    // A technician's card opens maintenance and identifies nobody.
                    self.end_session();
                    self.maintenance = Some(Maintenance::unlocked());
                    self.go(Page::Maintenance);
                    self.effects.push(Effect::MaintenanceStats);
                    return;
                }
                if card.is_expired_on(today) {
                    // An expired card identifies nobody; whatever session there was stays as it was.
                    self.show_identify(IdentifyStatus::Expired);
                    return;
                }
                let same_person = self
                    .session
                    .as_ref()
                    .and_then(Session::card)
                    .is_some_and(|c| c.id_number == card.id_number);
                if same_person {
                    // The citizen put their card back: nothing of theirs is lost.
                    self.session = Some(Session::with_card(*card));
                    match self.page {
                        Page::Home | Page::Identify => self.show_identify(IdentifyStatus::Greeting),
                        _ => self.notice = Some((Notice::Identified, Duration::ZERO)),
                    }
                    return;
                }
                if self.page == Page::Maintenance {
                    // The technicians' screen identifies nobody but a technician.
                    return;
                }
                // A new card is a new person: everything of the previous one is wiped first
                // (with a new visit, so their answers still on the way are dropped). Work done
                // without a card — a ticket asked for, a rating begun — is someone's too: the
                // card may be anybody's.
                if self.session.is_some() || self.anonymous_work() {
                    let page = self.page;
                    self.forget_visit();
                    if matches!(page, Page::Apply | Page::Ticket | Page::Rate) {
                        // Those pages showed the previous person's work: the new one starts from
                        // the greeting, on to the same task.
                        self.history.clear();
                        self.page = Page::Home;
                        if page == Page::Ticket {
                            self.identify_target = Entry::Ticket;
                        }
                    }
                } else if self.progress.is_some() {
                    // Progress found by a scanned receipt belonged to whoever scanned it; the
                    // card's holder gets their own (and answers on their way are dropped).
                    self.progress = None;
                    self.visit += 1;
                }
                self.session = Some(Session::with_card(*card));
                match self.page {
                    Page::Home | Page::Identify => self.show_identify(IdentifyStatus::Greeting),
                    Page::Progress => self.lookup_person(),
                    _ => self.notice = Some((Notice::Identified, Duration::ZERO)),
                }
            }
            DeviceEvent::CardRemoved => {
                if self.session.is_some() && self.page != Page::Home {
                    self.card_removed_prompt = true;
                }
            }
            DeviceEvent::CardRejected(_) => {
                // Whatever went wrong with the read, the citizen's next step is the same.
                self.idle.activity();
                self.show_identify(IdentifyStatus::Rejected);
            }
            DeviceEvent::CodeScanned(_) if self.page == Page::Maintenance => {
                // The technicians' screen is nobody's visit: a receipt scanned there opens nothing.
            }
            DeviceEvent::CodeScanned(payload) => {
                self.idle.activity();
                match self.router.classify(&payload.text) {
                    ScanKind::Eid => self.show_identify(IdentifyStatus::EidUnsupported),
                    ScanKind::Receipt { tracking_code, .. } => {
                        self.go(Page::Progress);
                        self.progress = Some(ProgressStep::Looking);
                        self.effects
                            .push(Effect::LookupProgress(ProgressLookup::Code(tracking_code)));
                    }
                    ScanKind::Url | ScanKind::Other => {
                        self.notice = Some((Notice::CodeNotUnderstood, Duration::ZERO))
                    }
                }
            }
            DeviceEvent::PrinterStatus(status) => {
                self.paper = paper_state(status);
                match crate::shared::health::health_of(&DeviceEvent::PrinterStatus(status)) {
                    Some((_, crate::shared::health::HealthLevel::Fault, why)) => {
                        self.faults.insert(DeviceKind::Printer, why);
                    }
                    _ => {
                        self.faults.remove(&DeviceKind::Printer);
                    }
                }
            }
            DeviceEvent::DeviceFault { device, ref reason }
                if device != DeviceKind::IdCardReader =>
            {
                self.faults.insert(device, reason.clone());
            }
            DeviceEvent::DeviceRecovered { device } if device != DeviceKind::IdCardReader => {
                self.faults.remove(&device);
            }
            DeviceEvent::DeviceFault {
                device: DeviceKind::IdCardReader,
                ref reason,
            } => {
                self.faults.insert(DeviceKind::IdCardReader, reason.clone());
                self.reader_fault = true;
                if self.page == Page::Identify {
                    self.identify_status = IdentifyStatus::ReaderFault;
                }
            }
            DeviceEvent::DeviceRecovered {
                device: DeviceKind::IdCardReader,
            } => {
                self.faults.remove(&DeviceKind::IdCardReader);
                self.reader_fault = false;
                if self.identify_status == IdentifyStatus::ReaderFault {
                    self.identify_status = IdentifyStatus::Waiting;
                }
            }
            DeviceEvent::DeviceFault { .. } | DeviceEvent::DeviceRecovered { .. } => {}
        }
    }

    pub(super) fn lookup_person(&mut self) {
        let Some(number) = self
            .session
            .as_ref()
            .and_then(Session::card)
            .map(|c| zeroize::Zeroizing::new(c.id_number.clone()))
        else {
            self.progress = Some(ProgressStep::Waiting);
            return;
        };
        self.progress = Some(ProgressStep::Looking);
        self.effects
            .push(Effect::LookupProgress(ProgressLookup::Person(number)));
    }
}

fn paper_state(s: PrinterStatus) -> PaperState {
    if s.paper_end {
        PaperState::Out
    } else if s.paper_near_end {
        PaperState::NearEnd
    } else {
        PaperState::Ok
    }
}
