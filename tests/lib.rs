//! The workspace certification suite: one test binary, one module per concern.

mod big_engines;
mod certify;
mod cli;
mod coq_index;
mod diagnose;
mod eval_precision;
mod fuzz_args;
mod kernels;
mod limits;
mod model_agreement;
mod multiset;
mod output_io;
mod output_safety;
mod real_tokens;
mod reference_values;
mod report;
mod schemes;
mod shard_integrity;
mod simulate_safety;
mod support;
mod theorems;
mod token_files;
