//! Asymptotic statistics for the theorem checks: fits with confidence intervals, threshold search,
//! finite-size extrapolation and transition widths. Pure f64 numerics, no dependency on the other
//! critscale crates.
//!
//! * [`powerlaw`]: y = C·n^α by least squares on logs, with standard errors, covariance and
//!   Student-t CIs;
//! * [`threshold`]: γ* where an observable crosses a level — a grid scan that reports every sign
//!   change, then bisection; a missing crossing is an error, never a wrong answer;
//! * [`extrapolate`]: weighted linear regression with CIs, and γ*(n) = a + b/log n;
//! * [`width`]: transition width = k·(log n)^e, with e's CI (predicted e = −1);
//! * [`stats`]: Student-t critical values, sample quantiles.
//!
//! Every function validates its input and returns a typed [`Error`] naming the offending argument
//! and value; no result is NaN. Sizes enter as log n wherever n could exceed the f64 range.

#![warn(missing_docs)]

pub mod error;
pub mod extrapolate;
pub mod powerlaw;
pub mod stats;
pub mod threshold;
pub mod width;

pub use error::{Error, Result};
pub use extrapolate::{InverseLogFit, LinearFit, fit_inverse_log, linear_regression};
pub use powerlaw::PowerLawFit;
pub use threshold::{Crossing, Direction, Policy, find_crossing};
pub use width::{TransitionWidth, WidthFit, fit_width, transition_width};

/// The `nalgebra` this crate uses (for [`linear_regression`]'s design matrix and covariances).
pub use nalgebra;
