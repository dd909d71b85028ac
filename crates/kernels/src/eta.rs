//! η (placeholder).
/// A Monte-Carlo estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub mean: f64,
    pub stderr: f64,
    pub probes: usize,
}
pub fn eta_exact() {}
pub fn eta_hutchinson() {}
