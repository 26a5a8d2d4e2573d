//! The QR corpus in `tests/data/qr-corpus` (shared by the regression test and the benchmark):
//! every image with the text it must decode to, or none when it must decode to nothing.

use std::path::{Path, PathBuf};

pub struct Sample {
    pub path: PathBuf,
    /// `N.txt` beside `N.ext`, byte for byte; `None`: the image must decode to nothing.
    pub expected: Option<String>,
}

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/qr-corpus")
}

pub fn samples() -> Vec<Sample> {
    let mut samples = Vec::new();
    let mut folders: Vec<PathBuf> = std::fs::read_dir(root())
        .expect("the corpus folder")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    for folder in folders {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("png" | "jpg" | "webp")
                )
            })
            .collect();
        files.sort();
        for path in files {
            let expected = std::fs::read(path.with_extension("txt"))
                .ok()
                .map(|bytes| String::from_utf8(bytes).expect("expected texts are UTF-8"));
            samples.push(Sample { path, expected });
        }
    }
    samples
}

/// How one decoder's answer compares with the expectation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Decoded to the expected text.
    Decoded,
    /// A code was expected and nothing came out.
    Missed,
    /// A code was expected and another text came out.
    Misread,
    /// Nothing was expected (no `.txt`) and nothing came out.
    Quiet,
    /// Nothing was expected and a text came out.
    FalsePositive,
}

pub fn judge(expected: Option<&str>, got: Option<&str>) -> Verdict {
    match (expected, got) {
        (Some(e), Some(g)) if e == g => Verdict::Decoded,
        (Some(_), Some(_)) => Verdict::Misread,
        (Some(_), None) => Verdict::Missed,
        (None, None) => Verdict::Quiet,
        (None, Some(_)) => Verdict::FalsePositive,
    }
}
