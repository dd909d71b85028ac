//! The workspace certification suite: one test binary, one module per concern.

mod cli;
mod limits;
mod model_agreement;
mod reference_values;
