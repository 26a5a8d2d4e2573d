//! The service guide (办事指南): category → theme → item, or a search in Chinese, English, pinyin
//! or initials. It needs no identification and holds nothing personal.

use crate::shared::catalog::{Catalog, Category, ServiceItem};

/// What the citizen can do in the guide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuideIntent {
    ChooseCategory(Category),
    ChooseTheme(String),
    ChooseItem(String),
    Search(String),
    /// The search field's ⌫ on the on-screen letter pad.
    SearchBackspace,
}

/// The service guide's position: category → theme → item, or a search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuideState {
    pub category: Category,
    pub theme: Option<String>,
    pub item: Option<String>,
    pub query: String,
}

impl Default for GuideState {
    fn default() -> Self {
        GuideState {
            category: Category::Personal,
            theme: None,
            item: None,
            query: String::new(),
        }
    }
}

impl GuideState {
    /// A tap or a search in the guide; codes not in `catalog` change nothing.
    pub fn handle(&mut self, intent: GuideIntent, catalog: &Catalog) {
        match intent {
            GuideIntent::ChooseCategory(c) => {
                *self = GuideState {
                    category: c,
                    ..GuideState::default()
                };
            }
            GuideIntent::ChooseTheme(code) => {
                if catalog.theme(&code).is_some() {
                    self.theme = Some(code);
                    self.item = None;
                    self.query.clear();
                }
            }
            GuideIntent::ChooseItem(id) => {
                if catalog.item(&id).is_some() {
                    self.item = Some(id);
                }
            }
            GuideIntent::Search(q) => {
                self.query = q;
                self.item = None;
            }
            GuideIntent::SearchBackspace => {
                self.query.pop();
                self.item = None;
            }
        }
    }

    /// Back within the guide: the item, then the search, then the theme. False when there is
    /// nothing left to close (leave the page).
    pub fn back(&mut self) -> bool {
        if self.item.take().is_some() {
            return true;
        }
        if !self.query.is_empty() {
            self.query.clear();
            return true;
        }
        self.theme.take().is_some()
    }

    /// Items the guide lists now: a search's results, or the chosen theme's items.
    pub fn items<'a>(&self, catalog: &'a Catalog) -> Vec<&'a ServiceItem> {
        if !self.query.trim().is_empty() {
            return catalog.search(&self.query);
        }
        match &self.theme {
            Some(theme) => catalog.items_in(self.category, theme).collect(),
            None => Vec::new(),
        }
    }

    /// The item whose details are open.
    pub fn item<'a>(&self, catalog: &'a Catalog) -> Option<&'a ServiceItem> {
        self.item.as_deref().and_then(|id| catalog.item(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_letter_pads_backspace_takes_the_last_letter_and_closes_the_item() {
        let catalog = Catalog::bundled().unwrap();
        let mut g = GuideState::default();
        g.handle(GuideIntent::Search("sbk".into()), &catalog);
        let first = g.items(&catalog)[0].id.clone();
        g.handle(GuideIntent::ChooseItem(first), &catalog);
        g.handle(GuideIntent::SearchBackspace, &catalog);
        assert_eq!(g.query, "sb");
        assert_eq!(g.item, None);
        g.handle(GuideIntent::SearchBackspace, &catalog);
        g.handle(GuideIntent::SearchBackspace, &catalog);
        g.handle(GuideIntent::SearchBackspace, &catalog);
        assert_eq!(g.query, "", "nothing left to take");
    }
}
