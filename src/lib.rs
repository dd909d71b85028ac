//! critscale: checks of *Critical attention scaling in long-context transformers* (Chen, Lin,
//! Polyanskiy, Rigollet). This library holds the command-line front end's logic so that the
//! workspace test suite can call it; the binary in `main.rs` only parses arguments and prints.

#![warn(missing_docs)]

pub mod certify;
pub mod check;
pub mod diagnose;
pub mod eval;
pub mod options;
pub mod report;
pub mod schemes;
pub mod simulate;
pub mod text;
