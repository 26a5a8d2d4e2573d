//! The fleet status page: one row per kiosk with its last heartbeat, software version, outbox depth
//! and oldest unacknowledged age, and device faults; rows that need a visit are flagged.

use crate::store::{KioskRow, RatingRow};

/// A kiosk is flagged when it has not reported for this long.
pub const STALE_AFTER_MS: i64 = 5 * 60 * 1000;
/// …or when a submission has waited for acknowledgement this long (the kiosk's own alarm, too).
pub const OLDEST_ALARM_SECS: i64 = 24 * 3600;

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn age(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min", s / 60),
        3600..=86_399 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
    }
}

/// Why a kiosk needs attention (empty when it does not).
pub fn flags(k: &KioskRow, now: i64) -> Vec<String> {
    let mut out = Vec::new();
    match k.last_heartbeat_ms {
        None => out.push("never reported".to_string()),
        Some(t) if now - t > STALE_AFTER_MS => out.push(format!("silent for {}", age(now - t))),
        _ => {}
    }
    if k.oldest_unacknowledged_secs.unwrap_or(0) > OLDEST_ALARM_SECS {
        out.push("submissions waiting over 24 h".into());
    }
    if k.quarantined.unwrap_or(0) > 0 {
        out.push(format!(
            "{} quarantined submissions (cannot be opened: check the outbox key)",
            k.quarantined.unwrap_or(0)
        ));
    }
    if k.rejected.unwrap_or(0) > 0 {
        out.push(format!("{} rejected submissions", k.rejected.unwrap_or(0)));
    }
    for d in &k.devices {
        if d.level == "fault" {
            out.push(format!("{}: {}", d.device, d.detail));
        }
    }
    out
}

/// The rating levels' names, level 1 first.
const LEVELS: [&str; 5] = [
    "非常不满意 very dissatisfied",
    "不满意 dissatisfied",
    "基本满意 fairly satisfied",
    "满意 satisfied",
    "非常满意 very satisfied",
];

/// The ratings section: counts per level, and every rating below 满意 to follow up.
pub fn ratings_section(counts: &[i64; 5], flagged: &[RatingRow], now: i64) -> String {
    let mut rows = String::new();
    for r in flagged {
        rows.push_str(&format!(
            "<tr class=\"attention\"><td>{}</td><td>{} ago</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            escape(&r.kiosk_id),
            age(now.saturating_sub(r.created_at_ms)),
            escape(LEVELS.get(r.level.saturating_sub(1).clamp(0, 4) as usize).copied().unwrap_or("?")),
            escape(r.reason.as_deref().unwrap_or("—")),
            escape(r.service_item.as_deref().unwrap_or("—")),
            escape(r.tracking_code.as_deref().unwrap_or("—")),
        ));
    }
    let summary: Vec<String> = (0..5)
        .rev()
        .map(|i| format!("{}: {}", LEVELS[i], counts[i]))
        .collect();
    format!(
        "<h2>好差评 · Ratings</h2>\n<p>{}</p>\n<h3>需跟进 · To follow up ({})</h3>\n<table id=\"flagged-ratings\">\n<tr><th>终端 Kiosk</th><th>时间 When</th><th>评价 Level</th><th>原因 Reason</th><th>事项 Service</th><th>受理编号 Tracking code</th></tr>\n{rows}</table>\n",
        escape(&summary.join(" · ")),
        flagged.len(),
    )
}

/// The whole page (refreshes itself every 30 s).
pub fn page(kiosks: &[KioskRow], ratings: &str, now: i64) -> String {
    let mut rows = String::new();
    for k in kiosks {
        let flags = flags(k, now);
        let devices: Vec<String> = k
            .devices
            .iter()
            .map(|d| {
                format!(
                    "<span class=\"{}\">{}: {}</span>",
                    escape(&d.level),
                    escape(&d.device),
                    escape(&d.detail)
                )
            })
            .collect();
        rows.push_str(&format!(
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            if flags.is_empty() { "ok" } else { "attention" },
            escape(&k.kiosk_id),
            k.last_heartbeat_ms.map(|t| format!("{} ago", age(now - t))).unwrap_or_else(|| "—".into()),
            escape(k.software_version.as_deref().unwrap_or("—")),
            k.outbox_depth.map(|d| d.to_string()).unwrap_or_else(|| "—".into()),
            k.oldest_unacknowledged_secs.map(|s| age(s * 1000)).unwrap_or_else(|| "—".into()),
            k.submissions,
            devices.join("<br>"),
            escape(k.last_error.as_deref().unwrap_or("")),
            escape(&flags.join("; ")),
        ));
    }
    format!(
        r#"<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta http-equiv="refresh" content="30">
<title>自助终端运行状态 · Kiosk fleet</title>
<style>
body {{ font-family: "Noto Sans CJK SC", sans-serif; margin: 1.5em; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #bbb; padding: .3em .6em; }}
tr.attention {{ background: #fde2e1; }} .fault {{ color: #b00; font-weight: bold; }} .warning {{ color: #a60; }}
</style></head><body>
<h1>自助终端运行状态 · Kiosk fleet</h1>
<p>{count} kiosks, {attention} need attention.</p>
<table id="fleet">
<tr><th>终端 Kiosk</th><th>心跳 Last heartbeat</th><th>版本 Version</th><th>待发 Outbox depth</th><th>最久未确认 Oldest unacknowledged</th><th>已收 Received</th><th>设备 Devices</th><th>最近错误 Last error</th><th>需处理 Attention</th></tr>
{rows}</table>
{ratings}</body></html>
"#,
        count = kiosks.len(),
        attention = kiosks.iter().filter(|k| !flags(k, now).is_empty()).count(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use hallkiosk_api::DeviceHealth;

    fn kiosk() -> KioskRow {
        KioskRow {
            kiosk_id: "K001".into(),
            last_heartbeat_ms: Some(1_000_000),
            software_version: Some("0.1.0".into()),
            outbox_depth: Some(3),
            oldest_unacknowledged_secs: Some(90),
            rejected: Some(0),
            quarantined: None,
            devices: vec![DeviceHealth {
                device: "printer".into(),
                level: "ok".into(),
                detail: "ready".into(),
                since_ms: 0,
            }],
            last_error: None,
            submissions: 7,
        }
    }

    #[test]
    fn a_healthy_kiosk_is_not_flagged_and_faults_are() {
        let now = 1_000_000 + 60_000;
        let mut k = kiosk();
        assert!(flags(&k, now).is_empty());
        k.devices[0].level = "fault".into();
        k.devices[0].detail = "paper out <b>".into();
        assert_eq!(flags(&k, now), vec!["printer: paper out <b>"]);
        let html = page(&[k], "", now);
        assert!(html.contains("paper out &lt;b&gt;"), "escaped");
        assert!(html.contains("class=\"attention\""));
        assert!(html.contains("1 min ago"));
    }

    #[test]
    fn flagged_ratings_are_listed_escaped() {
        let r = RatingRow {
            kiosk_id: "K<1>".into(),
            service_item: Some("P-TAX-001".into()),
            tracking_code: None,
            level: 2,
            reason: Some("long_wait".into()),
            created_at_ms: 0,
        };
        let html = ratings_section(&[0, 1, 0, 0, 3], std::slice::from_ref(&r), 120_000);
        // A kiosk's clock (created_at_ms comes from it) can be anything: no overflow.
        let odd = RatingRow {
            created_at_ms: i64::MIN,
            ..r.clone()
        };
        let _ = ratings_section(&[0; 5], &[odd], i64::MAX);
        assert!(html.contains("K&lt;1&gt;"));
        assert!(html.contains("不满意 dissatisfied"));
        assert!(html.contains("long_wait"));
        assert!(html.contains("非常满意 very satisfied: 3"));
        assert!(html.contains("To follow up (1)"));
    }

    #[test]
    fn quarantined_entries_are_an_alarm() {
        let now = 1_000_000 + 60_000;
        let mut k = kiosk();
        k.quarantined = Some(0);
        assert!(flags(&k, now).is_empty());
        k.quarantined = Some(2);
        assert_eq!(
            flags(&k, now),
            vec!["2 quarantined submissions (cannot be opened: check the outbox key)"]
        );
        assert!(page(&[k], "", now).contains("class=\"attention\""));
    }

    #[test]
    fn silence_and_old_submissions_are_flagged() {
        let mut k = kiosk();
        assert_eq!(flags(&k, 1_000_000 + STALE_AFTER_MS + 1).len(), 1);
        k.oldest_unacknowledged_secs = Some(OLDEST_ALARM_SECS + 1);
        assert!(flags(&k, 1_000_000).iter().any(|f| f.contains("24 h")));
        k.last_heartbeat_ms = None;
        assert!(flags(&k, 1_000_000).iter().any(|f| f == "never reported"));
    }
}
