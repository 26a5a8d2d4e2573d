//! Queue tickets (取号): a category tapped, a number from the hall's queue system (or numbered
//! by the kiosk when it cannot be reached), printed.

use super::effect::{Done, Effect, PrintProblem, Ticket};
use crate::shared::config::{Locale, QueueCategory};

/// What the citizen can do on the ticket page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketIntent {
    /// A queue category, by its letter.
    ChooseQueue(String),
    /// 重新打印 after the ticket's printing failed (paper out, printer unavailable): the same
    /// number again, never a new one.
    Reprint,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketStep {
    Choose,
    Issuing,
    Issued {
        ticket: Ticket,
        print: Option<Result<(), PrintProblem>>,
    },
    /// Not even a local number could be given (the kiosk's storage failed).
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketDesk {
    pub step: TicketStep,
}

impl TicketDesk {
    /// A tap on the ticket page, with the hall's categories and the citizen's language.
    pub fn handle(
        &mut self,
        intent: TicketIntent,
        categories: &[QueueCategory],
        locale: Locale,
    ) -> Option<Effect> {
        match intent {
            TicketIntent::ChooseQueue(code) => {
                let category = categories.iter().find(|c| c.code.0 == code)?.clone();
                self.choose(category, locale)
            }
            TicketIntent::Reprint => self.reprint(),
        }
    }

    /// The issued ticket printed again, only when its printing failed.
    pub fn reprint(&mut self) -> Option<Effect> {
        match &mut self.step {
            TicketStep::Issued { ticket, print } if matches!(print, Some(Err(_))) => {
                *print = None;
                Some(Effect::PrintTicket(ticket.clone()))
            }
            _ => None,
        }
    }

    /// An answer for this page: the ticket issued (then printed), or its printing.
    pub fn done(&mut self, done: Done) -> Option<Effect> {
        match done {
            Done::TicketIssued(r) => self.issued(r),
            Done::TicketPrinted(r) => {
                self.printed(r);
                None
            }
            _ => None,
        }
    }

    pub fn new() -> Self {
        TicketDesk {
            step: TicketStep::Choose,
        }
    }

    pub fn choose(&mut self, category: QueueCategory, locale: Locale) -> Option<Effect> {
        if self.step != TicketStep::Choose && self.step != TicketStep::Failed {
            return None;
        }
        self.step = TicketStep::Issuing;
        Some(Effect::IssueTicket { category, locale })
    }

    pub fn issued(&mut self, result: Result<Ticket, String>) -> Option<Effect> {
        if self.step != TicketStep::Issuing {
            return None;
        }
        match result {
            Ok(ticket) => {
                self.step = TicketStep::Issued {
                    ticket: ticket.clone(),
                    print: None,
                };
                Some(Effect::PrintTicket(ticket))
            }
            Err(e) => {
                tracing::error!("no queue ticket: {e}");
                self.step = TicketStep::Failed;
                None
            }
        }
    }

    pub fn printed(&mut self, result: Result<(), PrintProblem>) {
        if let TicketStep::Issued { print, .. } = &mut self.step {
            *print = Some(result);
        }
    }
}

impl Default for TicketDesk {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn category() -> QueueCategory {
        crate::shared::config::HallSection::default().queue_categories[0].clone()
    }

    #[test]
    fn a_ticket_printed_with_paper_out_is_printed_again_with_the_same_number() {
        let mut d = TicketDesk::new();
        d.choose(category(), Locale::ZhCn);
        let ticket = Ticket {
            number: "DEV-0001-A001".into(),
            category: category(),
            ahead: Some(2),
            issued_at_ms: 0,
            local: false,
            locale: Locale::ZhCn,
        };
        d.issued(Ok(ticket.clone()));
        assert!(d.reprint().is_none(), "nothing to reprint while it prints");
        d.printed(Err(PrintProblem::PaperOut));
        assert!(
            matches!(d.reprint(), Some(Effect::PrintTicket(t)) if t == ticket),
            "the same ticket again"
        );
        assert!(
            matches!(d.step, TicketStep::Issued { print: None, .. }),
            "printing again"
        );
        assert!(d.reprint().is_none(), "one reprint per failure");
        d.printed(Ok(()));
        assert!(d.reprint().is_none(), "printed: nothing more");
    }

    #[test]
    fn a_ticket_is_issued_then_printed() {
        let mut d = TicketDesk::new();
        let Some(Effect::IssueTicket { category: c, .. }) = d.choose(category(), Locale::ZhCn)
        else {
            panic!()
        };
        assert_eq!(c.code.0, "A");
        assert!(
            d.choose(category(), Locale::ZhCn).is_none(),
            "one at a time"
        );
        let t = Ticket {
            number: "K1-A001".into(),
            category: c,
            ahead: None,
            issued_at_ms: 0,
            local: true,
            locale: Locale::ZhCn,
        };
        assert!(matches!(d.issued(Ok(t)), Some(Effect::PrintTicket(_))));
        d.printed(Err(PrintProblem::PaperOut));
        assert!(matches!(
            d.step,
            TicketStep::Issued {
                print: Some(Err(PrintProblem::PaperOut)),
                ..
            }
        ));
    }

    #[test]
    fn a_failed_ticket_can_be_tried_again() {
        let mut d = TicketDesk::new();
        d.choose(category(), Locale::ZhCn);
        assert!(d.issued(Err("disk".into())).is_none());
        assert_eq!(d.step, TicketStep::Failed);
        assert!(d.choose(category(), Locale::ZhCn).is_some());
    }
}
