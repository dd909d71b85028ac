//! The workspace certification suite: one test binary, one module per concern.

mod big_engines;
mod certify;
mod cli;
mod eval_precision;
mod kernels;
mod limits;
mod model_agreement;
mod reference_values;
mod report;
mod schemes;
mod theorems;
