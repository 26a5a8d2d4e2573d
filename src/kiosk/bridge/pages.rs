//! The bridge's page views: the flow's state of the apply, guide, ticket, progress, rating and
//! maintenance pages copied into their Slint globals as data (numbers, enums, codes, catalog
//! texts); the pages word them.

use super::*;
use hallkiosk_drivers::idcard::CardType;

impl KioskUi {
    pub(super) fn refresh_apply(&self, s: &mut BridgeState, locale: Locale) {
        let app = self.app.global::<ApplyState>();
        let k = &s.kiosk;
        let Some(a) = k.application() else {
            // No application (never started, or wiped with the session): nothing typed or
            // photographed stays in the window for the next citizen.
            if s.photo_key.take().is_some() || slint::Model::row_count(&app.get_fields()) > 0 {
                app.set_view(ApplyView::default());
                app.set_fields(model(Vec::new()));
                app.set_candidates(model(Vec::new()));
                app.set_review_materials(model(Vec::new()));
                app.set_preview(slint::Image::default());
                app.set_has_preview(false);
            }
            return;
        };
        let mut view = app.get_view();
        view.step = match a.step {
            ApplyStep::Choose => ApplyStepKind::Choose,
            ApplyStep::Form => ApplyStepKind::Form,
            ApplyStep::Material(_) => ApplyStepKind::Material,
            ApplyStep::Review => ApplyStepKind::Review,
            ApplyStep::Saving => ApplyStepKind::Saving,
            ApplyStep::Submitted => ApplyStepKind::Submitted,
        };
        view.service = a
            .service
            .as_ref()
            .map(|t| t.get(locale).into())
            .unwrap_or_default();
        view.theme_chosen = a.theme.is_some();
        // Form, one step per material, review.
        let count = a.materials.len() as i32 + 2;
        (view.step_number, view.step_count) = match a.step {
            ApplyStep::Form => (1, count),
            ApplyStep::Material(n) => (n as i32 + 2, count),
            ApplyStep::Review | ApplyStep::Saving => (count, count),
            ApplyStep::Choose | ApplyStep::Submitted => (0, 0),
        };
        if a.step == ApplyStep::Choose {
            app.set_themes(theme_tiles(k.apply_themes(), locale));
            app.set_items(service_rows(k.apply_items(), locale));
        }
        view.keyboard = match a.keyboard() {
            Keyboard::None => KeyboardKind::None,
            Keyboard::Digits => KeyboardKind::Digits,
            Keyboard::Pinyin => KeyboardKind::Pinyin,
        };
        view.pinyin = a.pinyin.as_str().into();
        let fields: Vec<FormRow> = a
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| FormRow {
                kind: field_kind(f.key, a.document),
                value: f.shown(locale).into(),
                editable: f.key.keyboard() != Keyboard::None,
                focused: a.focus == Some(i),
                problem: match f.problem {
                    None => FieldProblemKind::None,
                    Some(FieldProblem::Missing) => FieldProblemKind::Missing,
                    Some(FieldProblem::PhoneFormat) => FieldProblemKind::PhoneFormat,
                    Some(FieldProblem::TooLong) => FieldProblemKind::TooLong,
                },
            })
            .collect();
        // The elder typing page shows the field being typed into on its own.
        view.typing = fields
            .iter()
            .find(|f| f.focused)
            .cloned()
            .unwrap_or_default();
        app.set_fields(model(fields));
        let candidates: Vec<SharedString> =
            a.candidates().into_iter().map(SharedString::from).collect();
        app.set_candidates(model(candidates));
        (view.candidates_before, view.candidates_after) = a.candidate_pages();
        view.material_count = a.materials.len() as i32;
        view.has_photo = false;
        view.capture_problem = CaptureProblemKind::None;
        view.can_defer = false;
        if let ApplyStep::Material(n) = a.step {
            let m = &a.materials[n];
            view.material_number = n as i32 + 1;
            view.material_name = m.name.get(locale).into();
            view.capturing = a.capturing;
            view.capture_problem = match m.problem {
                None => CaptureProblemKind::None,
                Some(CaptureProblem::CameraUnavailable) => CaptureProblemKind::CameraUnavailable,
                Some(CaptureProblem::NoPage) => CaptureProblemKind::NoPage,
            };
            view.can_defer = m.can_defer();
            if let Some(photo) = &m.photo {
                view.has_photo = true;
                let key = (n, photo.jpeg.len());
                if s.photo_key != Some(key) {
                    view.photo = photo_image(&photo.jpeg);
                    s.photo_key = Some(key);
                }
            } else {
                s.photo_key = None;
            }
        }
        view.covered_by_card = a
            .covered_by_card
            .iter()
            .map(|t| t.get(locale))
            .collect::<Vec<_>>()
            .join(if locale == Locale::En { ", " } else { "、" })
            .into();
        let review: Vec<ReviewMaterial> = a
            .materials
            .iter()
            .map(|m| ReviewMaterial {
                name: m.name.get(locale).into(),
                state: match (m.photo.is_some(), m.deferred) {
                    (true, _) => MaterialState::Photographed,
                    (false, true) => MaterialState::Deferred,
                    (false, false) => MaterialState::Missing,
                },
            })
            .collect();
        app.set_review_materials(model(review));
        view.consent = a.consent;
        view.consent_missing = a.consent_missing;
        view.consent_text = CONSENT_TEXT.get(locale).into();
        view.consent_version = CONSENT_VERSION.into();
        view.save_failed = a.save_problem.is_some();
        if let Some(sub) = &a.submitted {
            view.tracking_code = sub.tracking_code.as_str().into();
            view.offline = sub.queued_offline;
            // What happens next: the promised time and where the result is collected.
            if let Some((days, at)) = &a.next_step {
                view.promised_days = *days as i32;
                view.collect_at = at.get(locale).into();
            }
            view.print = match sub.print {
                PrintState::Printing => PrintStatus::Printing,
                PrintState::Printed => PrintStatus::Printed,
                PrintState::Failed(PrintProblem::PaperOut) => PrintStatus::PaperOut,
                PrintState::Failed(PrintProblem::PrinterUnavailable) => {
                    PrintStatus::PrinterUnavailable
                }
            };
        }
        app.set_view(view);
    }

    pub(super) fn refresh_hall(&self, k: &Kiosk, locale: Locale) {
        use crate::flows::progress::ProgressStep;
        use crate::flows::rating::RatingStep;
        use crate::flows::ticket::TicketStep;
        let app = &self.app;
        let en = locale == Locale::En;
        match k.page() {
            FlowPage::Ticket => {
                let tiles: Vec<QueueTile> = k
                    .queue_categories()
                    .iter()
                    .map(|c| QueueTile {
                        code: c.code.0.as_str().into(),
                        name: if en { &c.en } else { &c.zh }.as_str().into(),
                        pictogram: queue_pictogram(c.pictogram),
                    })
                    .collect();
                let ticket = app.global::<TicketState>();
                ticket.set_categories(model(tiles));
                let mut v = TicketView::default();
                if let Some(t) = k.ticket() {
                    v.step = match &t.step {
                        TicketStep::Choose => TicketStepKind::Choose,
                        TicketStep::Issuing => TicketStepKind::Issuing,
                        TicketStep::Failed => TicketStepKind::Failed,
                        TicketStep::Issued { ticket, print } => {
                            v.number = ticket.number.as_str().into();
                            v.category = if en {
                                &ticket.category.en
                            } else {
                                &ticket.category.zh
                            }
                            .as_str()
                            .into();
                            v.ahead = ticket.ahead.map_or(-1, |n| n.min(i32::MAX as u32) as i32);
                            v.local = ticket.local;
                            v.time = crate::kiosk::receipt::local_time(ticket.issued_at_ms).into();
                            v.print = print_outcome(print.as_ref());
                            TicketStepKind::Issued
                        }
                    };
                }
                ticket.set_view(v);
            }
            FlowPage::Progress => {
                let step = k.progress().cloned().unwrap_or(ProgressStep::Waiting);
                let progress = app.global::<ProgressState>();
                progress.set_live(matches!(&step, ProgressStep::Found(r) if r.live));
                progress.set_step(match &step {
                    ProgressStep::Waiting => ProgressStepKind::Waiting,
                    ProgressStep::Looking => ProgressStepKind::Looking,
                    ProgressStep::Found(_) => ProgressStepKind::Found,
                    ProgressStep::Failed => ProgressStepKind::Failed,
                });
                let rows: Vec<ProgressRow> = match &step {
                    ProgressStep::Found(report) => report
                        .rows
                        .iter()
                        .map(|p| ProgressRow {
                            tracking_code: p.tracking_code.as_str().into(),
                            service: k
                                .catalog()
                                .item(&p.service_item)
                                .map(|i| i.name.get(locale).to_string())
                                .unwrap_or_else(|| p.service_item.clone())
                                .into(),
                            submitted: crate::kiosk::receipt::local_time(p.created_at_ms).into(),
                            local_state: local_state(&p.state),
                            platform_state: p
                                .platform_state
                                .as_deref()
                                .map_or(PlatformState::None, platform_state),
                            platform_raw: p.platform_state.as_deref().unwrap_or("").into(),
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                progress.set_rows(model(rows));
            }
            FlowPage::Rate => {
                let rate = app.global::<RateState>();
                if let Some(r) = k.rating() {
                    rate.set_step(match r.step {
                        RatingStep::Choose => RatingStepKind::Choose,
                        RatingStep::Reason { .. } => RatingStepKind::Reason,
                        RatingStep::Saving => RatingStepKind::Saving,
                        RatingStep::Thanks => RatingStepKind::Thanks,
                        RatingStep::Failed => RatingStepKind::Failed,
                    });
                    rate.set_subject(
                        r.service_item
                            .as_deref()
                            .and_then(|id| k.catalog().item(id))
                            .map(|i| i.name.get(locale).into())
                            .unwrap_or_default(),
                    );
                }
            }
            FlowPage::Maintenance => {
                let mut v = MaintenanceView::default();
                if let Some(m) = k.maintenance() {
                    v.unlocked = m.unlocked;
                    v.pin_length = m.pin.len() as i32;
                    v.wrong_pin = m.wrong_pin;
                    v.locked_secs = m.locked_secs.min(i32::MAX as u64) as i32;
                    match &m.stats {
                        Some(Ok(st)) => {
                            v.stats_ready = true;
                            v.outbox_depth = st.outbox_depth as i32;
                            v.oldest_minutes = st
                                .oldest_unacknowledged_secs
                                .map_or(-1, |s| (s / 60).clamp(0, i64::from(i32::MAX)) as i32);
                            v.rejected = st.rejected as i32;
                            v.quarantined = st.quarantined.clamp(0, i64::from(i32::MAX)) as i32;
                            v.ratings_waiting = st.ratings_waiting as i32;
                            v.last_sync = st
                                .last_contact_ms
                                .map(crate::kiosk::receipt::local_time)
                                .unwrap_or_default()
                                .into();
                            v.network = st.platform_reachable;
                        }
                        Some(Err(e)) => v.stats_error = e.as_str().into(),
                        None => {}
                    }
                    v.printed_once = m.status_print.is_some();
                    v.print = print_outcome(m.status_print.as_ref());
                }
                let maintenance = app.global::<MaintenanceState>();
                maintenance.set_view(v);
                let devices: Vec<DeviceLine> = Device::ALL
                    .into_iter()
                    .map(|key| DeviceLine {
                        device: match key {
                            Device::IdCardReader => DeviceKind::Reader,
                            Device::Printer => DeviceKind::Printer,
                            Device::Scanner => DeviceKind::Scanner,
                            Device::Camera => DeviceKind::Camera,
                        },
                        fault: k
                            .faults()
                            .get(&key)
                            .map(String::as_str)
                            .unwrap_or("")
                            .into(),
                        paper_near_end: key == Device::Printer && k.paper() == FlowPaper::NearEnd,
                    })
                    .collect();
                maintenance.set_devices(model(devices));
            }
            _ => {}
        }
    }

    pub(super) fn refresh_guide(&self, k: &Kiosk, locale: Locale) {
        let app = self.app.global::<GuideState>();
        let g = k.guide();
        let catalog = k.catalog();
        app.set_category(match g.category {
            Category::Personal => GuideCategory::Personal,
            Category::LegalPerson => GuideCategory::LegalPerson,
        });
        app.set_themes(theme_tiles(catalog.themes_of(g.category), locale));
        let searched = g.query.trim();
        app.set_showing_items(!searched.is_empty() || g.theme.is_some());
        app.set_searched(searched.into());
        app.set_theme_name(
            g.theme
                .as_deref()
                .and_then(|c| catalog.theme(c))
                .map(|t| t.name.get(locale).into())
                .unwrap_or_default(),
        );
        app.set_items(service_rows(k.guide_items(), locale));
        app.set_detail_open(k.guide_item().is_some());
        if let Some(item) = k.guide_item() {
            app.set_detail(detail_of(item, locale));
        }
        if app.get_query().as_str() != g.query {
            app.set_query(g.query.as_str().into());
        }
    }
}

pub(super) fn model<T: Clone + 'static>(rows: Vec<T>) -> ModelRc<T> {
    ModelRc::new(VecModel::from(rows))
}

pub(super) fn detail_of(item: &ServiceItem, locale: Locale) -> ServiceDetail {
    let materials: Vec<SharedString> = item
        .materials
        .iter()
        .map(|m| m.get(locale).into())
        .collect();
    ServiceDetail {
        id: item.id.as_str().into(),
        name: item.name.get(locale).into(),
        department: item.department.get(locale).into(),
        materials: model(materials),
        from_card: model(
            item.materials
                .iter()
                .map(crate::flows::apply::is_identity_card)
                .collect::<Vec<bool>>(),
        ),
        fee: item.fee.get(locale).into(),
        legal_days: item.legal_days as i32,
        promised_days: item.promised_days as i32,
        location: item.location.get(locale).into(),
        kiosk_complete: item.kiosk_complete,
        online_level: i32::from(item.online_level),
    }
}

/// The label a field gets: a foreign permanent resident's number is not a 公民身份号码.
pub(super) fn field_kind(key: FieldKey, document: CardType) -> FieldKind {
    match key {
        FieldKey::Name => FieldKind::Name,
        FieldKey::Gender => FieldKind::Gender,
        FieldKey::Nation => FieldKind::Nation,
        FieldKey::BirthDate => FieldKind::BirthDate,
        FieldKey::Address => FieldKind::Address,
        FieldKey::IdNumber if document.is_foreign() => FieldKind::PermitNumber,
        FieldKey::IdNumber => FieldKind::IdNumber,
        FieldKey::EnglishName => FieldKind::EnglishName,
        FieldKey::Nationality => FieldKind::Nationality,
        FieldKey::Phone => FieldKind::Phone,
        FieldKey::MailingAddress => FieldKind::MailingAddress,
    }
}

pub(super) fn local_state(state: &str) -> LocalState {
    use crate::flows::progress::LocalState as Flow;
    match Flow::of(state) {
        Flow::Queued => LocalState::Queued,
        Flow::Sending => LocalState::Sending,
        Flow::Accepted => LocalState::Accepted,
        Flow::Rejected => LocalState::Rejected,
        Flow::Unknown => LocalState::Unknown,
    }
}

/// A state the platform sent (the window shows an unknown one as it is, from `platform_raw`).
pub(super) fn platform_state(state: &str) -> PlatformState {
    use crate::flows::progress::PlatformState as Flow;
    match Flow::of(state) {
        Flow::Received => PlatformState::Received,
        Flow::InReview => PlatformState::InReview,
        Flow::Approved => PlatformState::Approved,
        Flow::Completed => PlatformState::Completed,
        Flow::Returned => PlatformState::Returned,
        Flow::Refused => PlatformState::Refused,
        Flow::Other => PlatformState::Other,
    }
}

pub(super) fn print_outcome(p: Option<&Result<(), PrintProblem>>) -> PrintOutcome {
    match p {
        None => PrintOutcome::Pending,
        Some(Ok(())) => PrintOutcome::Printed,
        Some(Err(PrintProblem::PaperOut)) => PrintOutcome::PaperOut,
        Some(Err(PrintProblem::PrinterUnavailable)) => PrintOutcome::Unavailable,
    }
}

/// A photographed page as a window image (grayscale JPEG → RGB pixels).
pub(super) fn photo_image(jpeg: &[u8]) -> slint::Image {
    match image::load_from_memory(jpeg) {
        Ok(img) => {
            let rgb = img.to_rgb8();
            let buffer = slint::SharedPixelBuffer::<slint::Rgb8Pixel>::clone_from_slice(
                rgb.as_raw(),
                rgb.width(),
                rgb.height(),
            );
            slint::Image::from_rgb8(buffer)
        }
        Err(e) => {
            tracing::warn!("cannot show the photo: {e}");
            slint::Image::default()
        }
    }
}

/// Theme tiles of the guide and the apply page.
pub(super) fn theme_tiles<'a>(
    themes: impl IntoIterator<Item = &'a crate::shared::catalog::Theme>,
    locale: Locale,
) -> ModelRc<ThemeTile> {
    model(
        themes
            .into_iter()
            .map(|t| ThemeTile {
                code: t.code.as_str().into(),
                name: t.name.get(locale).into(),
            })
            .collect(),
    )
}

/// Service rows of the guide and the apply page.
pub(super) fn service_rows<'a>(
    items: impl IntoIterator<Item = &'a ServiceItem>,
    locale: Locale,
) -> ModelRc<ServiceRow> {
    model(
        items
            .into_iter()
            .map(|i| ServiceRow {
                id: i.id.as_str().into(),
                name: i.name.get(locale).into(),
                department: i.department.get(locale).into(),
            })
            .collect(),
    )
}

fn queue_pictogram(p: Option<crate::shared::config::QueuePictogram>) -> QueuePictogram {
    use crate::shared::config::QueuePictogram as P;
    match p {
        None => QueuePictogram::None,
        Some(P::General) => QueuePictogram::General,
        Some(P::Insurance) => QueuePictogram::Insurance,
        Some(P::Tax) => QueuePictogram::Tax,
        Some(P::Property) => QueuePictogram::Property,
        Some(P::Identity) => QueuePictogram::Identity,
        Some(P::Business) => QueuePictogram::Business,
    }
}
