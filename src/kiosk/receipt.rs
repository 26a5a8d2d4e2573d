//! The citizen's receipt (受理回执) as a printer document: service, tracking code, time, hall,
//! kiosk, a QR code with the tracking code and its verification digest, and a plain note when the
//! submission waits offline.

use crate::flows::effect::ReceiptInfo;
use crate::shared::config::Locale;
use hallkiosk_drivers::printer::receipt::{Align, Receipt};

/// Where and when, as the receipt prints them.
pub struct ReceiptPlace<'a> {
    pub hall: &'a str,
    pub kiosk: &'a str,
    /// Local time of saving, `YYYY-MM-DD HH:MM`.
    pub time: &'a str,
}

/// The receipt for a saved application. Chinese always; English lines too when the citizen used
/// the kiosk in English.
pub fn application_receipt(info: &ReceiptInfo, place: &ReceiptPlace<'_>) -> Receipt {
    let en = info.locale == Locale::En;
    let mut r = Receipt::new()
        .styled("受理回执", Align::Centre, (2, 2), true)
        .feed(1)
        .text(format!("办理事项：{}", info.service.zh));
    if en {
        r = r.text(format!("Service: {}", info.service.en));
    }
    r = r
        .text("受理编号 Tracking code:")
        .styled(info.tracking_code.clone(), Align::Centre, (1, 2), true)
        .text(format!("时间：{}", place.time))
        .text(format!("大厅：{}", place.hall))
        .text(format!("终端：{}", place.kiosk))
        .feed(1)
        .qr(info.qr.clone(), 6)
        .feed(1);
    if info.queued_offline {
        r = r.text("网络恢复后自动提交，无需再次办理。");
        if en {
            r = r.text("Saved; it is sent automatically when the network is back.");
        }
    }
    match &info.next_step {
        Some((0, at)) => {
            r = r.text(format!("即时办结，办理结果请到{}领取。", at.zh));
            if en {
                r = r.text(format!("Done at once; collect the result at {}.", at.en));
            }
        }
        Some((days, at)) => {
            r = r.text(format!(
                "承诺{days}个工作日内办结，办理结果请到{}领取。",
                at.zh
            ));
            if en {
                r = r.text(format!(
                    "Promised within {days} working days; collect the result at {}.",
                    at.en
                ));
            }
        }
        None => {}
    }
    r = r.text("凭此回执可在本机扫码查询办理进度。");
    if en {
        r = r.text("Scan this receipt at the kiosk to check progress.");
    }
    r.feed(3)
}

/// A queue ticket (取号凭条): number big, category, people ahead, time; a note when the kiosk
/// numbered it itself.
pub fn ticket_receipt(t: &crate::flows::effect::Ticket, place: &ReceiptPlace<'_>) -> Receipt {
    let en = t.locale == Locale::En;
    let mut r = Receipt::new()
        .styled("排队取号", Align::Centre, (1, 1), true)
        .styled(t.number.clone(), Align::Centre, (3, 3), true)
        .styled(t.category.zh.clone(), Align::Centre, (1, 2), false);
    if en {
        r = r.styled(t.category.en.clone(), Align::Centre, (1, 1), false);
    }
    r = match t.ahead {
        Some(n) => r.text(format!("前面等候：{n} 人")),
        None => r.text("前面等候人数请以大厅叫号屏为准"),
    };
    r = r
        .text(format!("时间：{}", place.time))
        .text(format!("大厅：{}", place.hall))
        .text(format!("终端：{}", place.kiosk));
    if t.local {
        r = r.text("大厅排队系统暂时无法连接，本号由本机编号，请留意叫号。");
        if en {
            r = r.text("Numbered by this kiosk while the hall's queue system is unreachable.");
        }
    }
    r.feed(3)
}

/// The maintenance status page: the kiosk's own words and numbers, nothing personal.
pub fn status_receipt(lines: &[String], place: &ReceiptPlace<'_>) -> Receipt {
    let mut r = Receipt::new()
        .styled("终端状态页", Align::Centre, (1, 2), true)
        .text(format!("时间：{}", place.time))
        .text(format!("终端：{}", place.kiosk));
    for l in lines {
        r = r.text(l.clone());
    }
    r.feed(3)
}

pub use crate::shared::clock::local_time;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared::catalog::Text;
    use hallkiosk_drivers::printer::receipt::Block;

    fn info(offline: bool, locale: Locale) -> ReceiptInfo {
        ReceiptInfo {
            service: Text {
                zh: "生育登记".into(),
                en: "Birth registration".into(),
            },
            tracking_code: "K1-000001-X".into(),
            qr: "HKR1:K1-000001-X:0011aabb".into(),
            saved_at_ms: 0,
            queued_offline: offline,
            next_step: Some((
                15,
                Text {
                    zh: "一楼3号窗口".into(),
                    en: "Window 3, ground floor".into(),
                },
            )),
            locale,
        }
    }

    fn texts(r: &Receipt) -> Vec<String> {
        r.blocks
            .iter()
            .filter_map(|b| match b {
                Block::Text { text, .. } => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_receipt_carries_code_qr_place_and_the_offline_note() {
        let place = ReceiptPlace {
            hall: "测试大厅",
            kiosk: "K1",
            time: "2026-11-23 09:30",
        };
        let r = application_receipt(&info(true, Locale::ZhCn), &place);
        let t = texts(&r);
        assert!(t.iter().any(|l| l == "K1-000001-X"));
        assert!(t.iter().any(|l| l.contains("生育登记")));
        assert!(t.iter().any(|l| l.contains("测试大厅")));
        assert!(t.iter().any(|l| l.contains("2026-11-23 09:30")));
        // What happens next (issue 18): the promised time and where to collect.
        assert!(
            t.iter()
                .any(|l| l == "承诺15个工作日内办结，办理结果请到一楼3号窗口领取。"),
            "{t:?}"
        );
        assert!(t.iter().any(|l| l.contains("网络恢复后自动提交")));
        assert!(!t.iter().any(|l| l.contains("Birth registration")));
        assert!(r
            .blocks
            .iter()
            .any(|b| matches!(b, Block::Qr { data, .. } if data == "HKR1:K1-000001-X:0011aabb")));
        let online = texts(&application_receipt(&info(false, Locale::En), &place));
        assert!(!online.iter().any(|l| l.contains("网络恢复")));
        assert!(online.iter().any(|l| l.contains("Birth registration")));
    }
}
