//! Every visible string exists in zh_CN and en: each `@tr("…")` in ui/ has a non-empty English
//! translation in ui/lang/en/LC_MESSAGES/hallkiosk.po with the same `{}` placeholders, and the .po
//! holds no entry the UI no longer uses. On failure the message lists the missing entries in .po
//! syntax, ready to translate and paste.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const PO: &str = "ui/lang/en/LC_MESSAGES/hallkiosk.po";

fn slint_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            slint_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "slint") {
            out.push(path);
        }
    }
}

/// Reads a Slint string literal starting right after its opening quote; returns it and the rest.
fn string_literal(s: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &s[i + 1..])),
            '\\' => match chars.next()?.1 {
                'n' => out.push('\n'),
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

fn tr_strings(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find("@tr(") {
        let after = rest[at + 4..].trim_start();
        let after = after.strip_prefix('"').expect("@tr takes a string literal");
        let (text, tail) = string_literal(after).expect("unterminated @tr string");
        assert!(
            !tail.trim_start().starts_with("=>"),
            "translation contexts are not used: {text}"
        );
        found.push(text);
        rest = tail;
    }
    found
}

/// msgid → msgstr of a .po file (no plural forms, no contexts).
fn po_entries(po: &str) -> BTreeMap<String, String> {
    let mut entries = BTreeMap::new();
    let (mut id, mut value, mut in_str) = (None::<String>, String::new(), false);
    let quoted = |l: &str| {
        string_literal(l.trim().strip_prefix('"').unwrap())
            .unwrap()
            .0
    };
    for line in po.lines().chain(std::iter::once("")) {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("msgid ") {
            id = Some(quoted(rest));
            in_str = false;
        } else if let Some(rest) = line.strip_prefix("msgstr ") {
            value = quoted(rest);
            in_str = true;
        } else if line.starts_with('"') {
            if in_str {
                value.push_str(&quoted(line));
            } else if let Some(id) = id.as_mut() {
                id.push_str(&quoted(line));
            }
        } else if line.is_empty() && in_str {
            if let Some(id) = id.take() {
                if !id.is_empty() {
                    entries.insert(id, std::mem::take(&mut value));
                }
            }
            in_str = false;
        }
    }
    entries
}

#[test]
fn every_tr_string_has_an_english_translation() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    slint_files(&root.join("ui"), &mut files);
    let used: BTreeSet<String> = files
        .iter()
        .flat_map(|f| tr_strings(&std::fs::read_to_string(f).unwrap()))
        .collect();
    assert!(
        used.len() > 50,
        "the extractor found only {} strings",
        used.len()
    );
    let po = po_entries(&std::fs::read_to_string(root.join(PO)).unwrap());

    let missing: Vec<&String> = used
        .iter()
        .filter(|s| po.get(*s).is_none_or(|t| t.trim().is_empty()))
        .collect();
    let stale: Vec<&String> = po.keys().filter(|k| !used.contains(*k)).collect();
    let placeholder_mismatch: Vec<&String> = used
        .iter()
        .filter(|s| {
            po.get(*s)
                .is_some_and(|t| t.matches("{}").count() != s.matches("{}").count())
        })
        .collect();
    let as_po = |list: &[&String]| {
        list.iter()
            .map(|s| format!("msgid \"{s}\"\nmsgstr \"\"\n"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        missing.is_empty(),
        "untranslated strings — add to {PO}:\n\n{}",
        as_po(&missing)
    );
    assert!(
        stale.is_empty(),
        "entries the UI no longer uses — remove from {PO}: {stale:?}"
    );
    assert!(
        placeholder_mismatch.is_empty(),
        "placeholders differ: {placeholder_mismatch:?}"
    );
}

#[test]
fn the_extractor_reads_escapes_and_arguments() {
    let found = tr_strings(r#"text: @tr("您好，{}", name); x: @tr( "a \"b\" c" );"#);
    assert_eq!(found, vec!["您好，{}".to_string(), "a \"b\" c".to_string()]);
}

#[test]
fn the_po_reader_handles_continuation_lines() {
    let po = "msgid \"\"\nmsgstr \"\"\n\"Language: en\\n\"\n\nmsgid \"甲\"\nmsgstr \"A\"\n\"B\"\n\nmsgid \"乙\"\nmsgstr \"\"\n";
    let e = po_entries(po);
    assert_eq!(e.get("甲").map(String::as_str), Some("AB"));
    assert_eq!(e.get("乙").map(String::as_str), Some(""));
    assert!(!e.contains_key(""));
}
