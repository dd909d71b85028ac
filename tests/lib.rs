//! The workspace certification suite: one test binary, one module per concern.

mod big_engines;
mod certify;
mod cli;
mod kernels;
mod limits;
mod model_agreement;
mod reference_values;
mod report;
mod schemes;
mod simulate_safety;
mod theorems;
