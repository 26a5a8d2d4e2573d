//! Ratings (好差评): five levels; below 满意 one tap on a reason; stored for the sync daemon.

use super::effect::{Done, Effect};
use crate::outbox::NewRating;

/// What the citizen can do on the rating page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RateIntent {
    /// A level (0 非常满意 … 4 非常不满意).
    Level(usize),
    /// A reason below 满意 (its position in [`REASONS`]).
    Reason(usize),
}

/// How many levels there are: 非常满意, 满意, 基本满意, 不满意, 非常不满意 (best first; the words
/// are in ui/pages/rate.slint).
pub const LEVEL_COUNT: usize = 5;

/// The codes of the reasons offered below 满意, as the platform's API defines them, in the order
/// ui/pages/rate.slint lists their words: 等待时间长, 操作复杂, 设备故障, 材料要求不清楚,
/// 工作人员服务, 其他.
pub const REASONS: [&str; 6] = hallkiosk_api::RATING_REASONS;

/// Level numbers as stored: 5 非常满意 … 1 非常不满意. `index` is the position on the page, best
/// first.
pub fn level_of(index: usize) -> Option<u8> {
    (index < LEVEL_COUNT).then(|| 5 - index as u8)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RatingStep {
    Choose,
    /// Below 满意: one tap on a reason.
    Reason {
        level: u8,
    },
    Saving,
    Thanks,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingDesk {
    pub step: RatingStep,
    /// What is rated: the service applied for in this session, if any.
    pub service_item: Option<String>,
    pub tracking_code: Option<String>,
}

impl RatingDesk {
    pub fn new(service_item: Option<String>, tracking_code: Option<String>) -> Self {
        RatingDesk {
            step: RatingStep::Choose,
            service_item,
            tracking_code,
        }
    }

    /// A tap on the rating page.
    pub fn handle(&mut self, intent: RateIntent) -> Option<Effect> {
        match intent {
            RateIntent::Level(i) => self.level(i),
            RateIntent::Reason(i) => self.reason(i),
        }
    }

    /// An answer for this page: the rating stored.
    pub fn done(&mut self, done: Done) {
        if let Done::RatingSaved(r) = done {
            self.saved(r);
        }
    }

    /// A level tapped; 满意 and better are saved at once, lower ones ask for a reason first.
    pub fn level(&mut self, index: usize) -> Option<Effect> {
        if !matches!(self.step, RatingStep::Choose | RatingStep::Reason { .. }) {
            return None;
        }
        let level = level_of(index)?;
        if level >= 4 {
            return self.save(level, None);
        }
        self.step = RatingStep::Reason { level };
        None
    }

    pub fn reason(&mut self, index: usize) -> Option<Effect> {
        let RatingStep::Reason { level } = self.step else {
            return None;
        };
        let code = REASONS.get(index)?;
        self.save(level, Some(code.to_string()))
    }

    fn save(&mut self, level: u8, reason: Option<String>) -> Option<Effect> {
        self.step = RatingStep::Saving;
        Some(Effect::SaveRating(NewRating {
            service_item: self.service_item.clone(),
            tracking_code: self.tracking_code.clone(),
            level,
            reason,
        }))
    }

    pub fn saved(&mut self, result: Result<(), String>) {
        if self.step == RatingStep::Saving {
            self.step = match result {
                Ok(()) => RatingStep::Thanks,
                Err(e) => {
                    tracing::error!("rating not saved: {e}");
                    RatingStep::Failed
                }
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn satisfied_ratings_save_at_once_lower_ones_ask_why() {
        let mut r = RatingDesk::new(Some("P-TAX-001".into()), None);
        let Some(Effect::SaveRating(n)) = r.level(1) else {
            panic!()
        };
        assert_eq!((n.level, n.reason.as_deref()), (4, None));
        assert_eq!(n.service_item.as_deref(), Some("P-TAX-001"));
        r.saved(Ok(()));
        assert_eq!(r.step, RatingStep::Thanks);

        let mut r = RatingDesk::new(None, None);
        assert!(r.level(2).is_none(), "基本满意 asks for a reason");
        assert_eq!(r.step, RatingStep::Reason { level: 3 });
        let Some(Effect::SaveRating(n)) = r.reason(0) else {
            panic!()
        };
        assert_eq!((n.level, n.reason.as_deref()), (3, Some("long_wait")));
        assert!(r.level(9).is_none());
        assert!(r.reason(0).is_none(), "already saving");
    }

    #[test]
    fn level_numbers() {
        assert_eq!(level_of(0), Some(5));
        assert_eq!(level_of(4), Some(1));
        assert_eq!(level_of(5), None);
    }
}
