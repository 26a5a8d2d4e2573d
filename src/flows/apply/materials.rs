//! The material steps: one required document at a time under the document camera, photographed
//! (with the live preview), retaken, or handed in at a window when the camera fails. The identity
//! card itself is never asked for: the chip read covers it.

use super::{Application, ApplyStep};
use crate::flows::effect::{CaptureProblem, Effect, Photo};
use crate::shared::catalog::Text;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// One required material and what became of it.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct MaterialStep {
    #[zeroize(skip)]
    pub name: Text,
    pub photo: Option<Photo>,
    /// The citizen will hand it in at a window (the camera could not take it).
    #[zeroize(skip)]
    pub deferred: bool,
    #[zeroize(skip)]
    pub problem: Option<CaptureProblem>,
}

impl MaterialStep {
    /// Whether the citizen may hand this material in at a window instead: only when the camera
    /// itself failed (a page the camera did not find is retaken).
    pub fn can_defer(&self) -> bool {
        self.problem == Some(CaptureProblem::CameraUnavailable)
    }
}

/// Whether a catalog material is the identity card itself (already read from the chip).
pub fn is_identity_card(m: &Text) -> bool {
    m.zh.starts_with("居民身份证") || m.zh == "法定代表人身份证"
}

impl Application {
    /// The material whose live camera preview should be on screen: a material step without a
    /// photo yet (the preview stays on while capturing, so the capture takes the open stream).
    pub fn preview_material(&self) -> Option<usize> {
        match self.step {
            ApplyStep::Material(n) if self.materials.get(n)?.photo.is_none() => Some(n),
            _ => None,
        }
    }

    /// 拍照 on the current material step.
    pub fn capture(&mut self) -> Option<Effect> {
        let ApplyStep::Material(n) = self.step else {
            return None;
        };
        if self.capturing {
            return None;
        }
        self.capturing = true;
        self.materials[n].problem = None;
        Some(Effect::Capture { material: n })
    }

    /// 重拍: the photo is dropped.
    pub fn retake(&mut self) {
        if let ApplyStep::Material(n) = self.step {
            self.materials[n].photo = None;
        }
    }

    /// 到窗口补交: the camera failed; the citizen hands this material in at a window.
    pub fn defer_material(&mut self) {
        if let ApplyStep::Material(n) = self.step {
            let m = &mut self.materials[n];
            if m.can_defer() {
                m.deferred = true;
                m.photo = None;
                self.step = self.after_materials_from(n + 1);
            }
        }
    }
}
