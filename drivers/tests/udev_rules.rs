//! The udev rule for the USB reader matches the ids the driver opens, and every line is a
//! well-formed udev rule (`KEY==value` / `KEY=value` pairs separated by commas).

use hallkiosk_drivers::idcard::usb::{PRODUCT_ID, VENDOR_ID};

const RULES: &str = include_str!("../../systemd/udev/60-hallkiosk-idcard.rules");

fn pairs(line: &str) -> Vec<(String, String, String)> {
    line.split(", ")
        .map(|pair| {
            let op_at = pair
                .find(['=', '!', '+'])
                .unwrap_or_else(|| panic!("no operator in {pair:?}"));
            let key = &pair[..op_at];
            let rest = &pair[op_at..];
            let op_len = ["==", "!=", "+=", "="]
                .iter()
                .find(|op| rest.starts_with(*op))
                .unwrap_or_else(|| panic!("bad operator in {pair:?}"))
                .len();
            let value = &rest[op_len..];
            assert!(
                value.starts_with('"') && value.ends_with('"') && value.len() >= 2,
                "value not quoted in {pair:?}"
            );
            assert!(
                key.chars()
                    .all(|c| c.is_ascii_uppercase() || "{}_".contains(c) || c.is_ascii_lowercase()),
                "bad key {key:?}"
            );
            (
                key.to_string(),
                rest[..op_len].to_string(),
                value.trim_matches('"').to_string(),
            )
        })
        .collect()
}

#[test]
fn the_usb_rule_matches_the_driver_ids_and_grants_the_group() {
    let rules: Vec<_> = RULES
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(pairs)
        .collect();
    assert_eq!(rules.len(), 1);
    let rule = &rules[0];
    let get = |k: &str| {
        rule.iter()
            .find(|(key, _, _)| key == k)
            .map(|(_, op, v)| (op.as_str(), v.as_str()))
    };
    assert_eq!(
        get("ATTR{idVendor}"),
        Some(("==", format!("{VENDOR_ID:04x}").as_str()))
    );
    assert_eq!(
        get("ATTR{idProduct}"),
        Some(("==", format!("{PRODUCT_ID:04x}").as_str()))
    );
    assert_eq!(get("SUBSYSTEM"), Some(("==", "usb")));
    assert_eq!(get("MODE"), Some(("=", "0660")));
    assert_eq!(get("GROUP"), Some(("=", "hallkiosk")));
}
