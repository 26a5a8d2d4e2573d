//! Progress queries (查询进度): by the placed card (this person's submissions at this kiosk) or by
//! a scanned receipt, with the platform's live state when the sync daemon can ask it.

use super::effect::ProgressReport;
use super::text::Text2;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgressStep {
    /// 请放置身份证或扫描回执二维码.
    Waiting,
    Looking,
    Found(ProgressReport),
    Failed,
}

impl ProgressStep {
    /// The lookup's answer, if one was awaited.
    pub fn found(&mut self, result: Result<ProgressReport, String>) {
        if *self == ProgressStep::Looking {
            *self = match result {
                Ok(report) => ProgressStep::Found(report),
                Err(e) => {
                    tracing::error!("progress lookup failed: {e}");
                    ProgressStep::Failed
                }
            };
        }
    }
}

/// A submission's local state in plain words.
pub fn local_state_text(state: &str) -> Text2 {
    let (zh, en) = match state {
        "queued" => ("已保存，等待联网提交", "Saved, waiting to be sent"),
        "sending" => ("正在提交", "Being sent"),
        "accepted" => ("已提交至平台", "Sent to the platform"),
        "rejected" => (
            "平台未受理，请到窗口咨询",
            "Not accepted by the platform; please ask at a window",
        ),
        _ => ("状态未知", "Unknown state"),
    };
    Text2 { zh, en }
}

/// The platform's review state in plain words (unknown states are shown as they are).
pub fn platform_state_text(state: &str) -> Option<Text2> {
    let (zh, en) = match state {
        "received" => ("平台已接收，等待审核", "Received, waiting for review"),
        "in_review" => ("审核中", "Under review"),
        "approved" => ("审核通过", "Approved"),
        "completed" => ("已办结", "Completed"),
        "returned" => (
            "需补正材料，请留意短信通知",
            "More documents needed; watch for a text message",
        ),
        "refused" => ("不予受理", "Refused"),
        _ => return None,
    };
    Some(Text2 { zh, en })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_in_plain_words() {
        assert_eq!(local_state_text("queued").zh, "已保存，等待联网提交");
        assert!(platform_state_text("completed").is_some());
        assert!(platform_state_text("something-new").is_none());
    }
}
