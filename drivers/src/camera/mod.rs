//! The document camera (V4L2: YUYV and MJPEG) and the QR decoder pipeline that runs on its frames.
//!
//! Capture, the frame-source trait and the decoder are added by the QR/camera work. Until then the
//! kiosk has no camera; the materials step that uses it belongs to the apply flow.
