fn main() {
    for _ in 0..3 {
        println!(
            "{:.1} GFLOP/s",
            critscale_kernels::simd::measure_peak_f64_flops_one_core(200_000_000) / 1e9
        );
    }
}
