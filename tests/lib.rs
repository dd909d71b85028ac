//! The workspace certification suite: one test binary, one module per concern.

mod cli;
mod limits;
