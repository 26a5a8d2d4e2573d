//! Payload routing: what a scanned text is, through a small plug-in interface.
//!
//! A [`Router`] asks its classifiers in order; the first that recognises the text decides. The
//! drivers bring the generic ones (e-ID codes by prefix, URLs); the application adds the one that
//! knows this kiosk's receipts (tracking codes with their check character) in front of them.

/// What a scan is, as far as the kiosk's screens care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanKind {
    /// A receipt printed by a kiosk: its tracking code, and whether this kiosk printed it.
    Receipt {
        tracking_code: String,
        this_kiosk: bool,
    },
    /// An e-ID / e-certificate code (电子身份证 / CTID): identifies the citizen after online
    /// verification.
    Eid,
    /// A web address (a platform page, a phone app's link).
    Url,
    /// Anything else.
    Other,
}

/// One plug-in.
pub trait Classifier: Send + Sync {
    /// A short name for logs.
    fn name(&self) -> &'static str;
    /// `Some` when this classifier recognises the text.
    fn classify(&self, text: &str) -> Option<ScanKind>;
}

/// The e-ID code classifier: codes that start with one of the configured prefixes.
pub struct EidPrefixes(pub Vec<String>);

impl Default for EidPrefixes {
    fn default() -> Self {
        EidPrefixes(vec!["EID:".into(), "CTID:".into()])
    }
}

impl Classifier for EidPrefixes {
    fn name(&self) -> &'static str {
        "eid"
    }
    fn classify(&self, text: &str) -> Option<ScanKind> {
        self.0
            .iter()
            .any(|p| text.starts_with(p.as_str()) && text.len() > p.len())
            .then_some(ScanKind::Eid)
    }
}

/// URLs (http and https only).
pub struct Urls;

impl Classifier for Urls {
    fn name(&self) -> &'static str {
        "url"
    }
    fn classify(&self, text: &str) -> Option<ScanKind> {
        let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
        let rest = if lower.starts_with("https://") {
            &text[8..]
        } else if lower.starts_with("http://") {
            &text[7..]
        } else {
            return None;
        };
        (!rest.is_empty() && !rest.chars().any(char::is_whitespace)).then_some(ScanKind::Url)
    }
}

/// The classifiers in order.
pub struct Router {
    classifiers: Vec<Box<dyn Classifier>>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.classifiers.iter().map(|c| c.name()))
            .finish()
    }
}

impl Default for Router {
    /// e-ID prefixes, then URLs.
    fn default() -> Self {
        Router {
            classifiers: vec![Box::new(EidPrefixes::default()), Box::new(Urls)],
        }
    }
}

impl Router {
    pub fn empty() -> Self {
        Router {
            classifiers: Vec::new(),
        }
    }

    /// Adds a classifier in front of the others.
    pub fn first(mut self, classifier: Box<dyn Classifier>) -> Self {
        self.classifiers.insert(0, classifier);
        self
    }

    /// Adds a classifier after the others.
    pub fn then(mut self, classifier: Box<dyn Classifier>) -> Self {
        self.classifiers.push(classifier);
        self
    }

    /// What `text` is (surrounding whitespace ignored).
    pub fn classify(&self, text: &str) -> ScanKind {
        let text = text.trim();
        for classifier in &self.classifiers {
            if let Some(kind) = classifier.classify(text) {
                tracing::debug!("scan classified by {}", classifier.name());
                return kind;
            }
        }
        ScanKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;
    impl Classifier for Fixed {
        fn name(&self) -> &'static str {
            "fixed"
        }
        fn classify(&self, text: &str) -> Option<ScanKind> {
            text.starts_with("EID:special").then_some(ScanKind::Other)
        }
    }

    #[test]
    fn default_router_knows_eid_and_urls() {
        let router = Router::default();
        assert_eq!(router.classify("EID:abc"), ScanKind::Eid);
        assert_eq!(router.classify(" CTID:12 \n"), ScanKind::Eid);
        assert_eq!(router.classify("EID:"), ScanKind::Other);
        assert_eq!(router.classify("https://gov.example/x?y=1"), ScanKind::Url);
        assert_eq!(router.classify("HTTP://A"), ScanKind::Url);
        assert_eq!(router.classify("http:// x"), ScanKind::Other);
        assert_eq!(router.classify("hello"), ScanKind::Other);
        assert_eq!(router.classify("回执"), ScanKind::Other);
    }

    #[test]
    fn plug_ins_in_front_decide_first() {
        let router = Router::default().first(Box::new(Fixed));
        assert_eq!(router.classify("EID:special"), ScanKind::Other);
        assert_eq!(router.classify("EID:plain"), ScanKind::Eid);
        let router = Router::empty().then(Box::new(Urls));
        assert_eq!(router.classify("EID:plain"), ScanKind::Other);
    }
}
