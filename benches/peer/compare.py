#!/usr/bin/env python3
"""Times critscale's fast path against the numpy peer (peer.py) on the same tokens, with the same
thread count, and prints the ratios (critscale time / numpy time; below 1 means critscale is
faster). Also checks that both computed the same lambda and eta, and reports peak memory.

    cargo build --release
    python3 benches/peer/compare.py --n 4096 --d 512 --threads 2 --repeat 3

Tokens: Gaussian almost-simplex (rho = 0.3, numpy seed 0) at gamma = gamma_c. critscale runs
`critscale simulate --tokens FILE.npy --json` with RAYON_NUM_THREADS; numpy runs with
OPENBLAS_NUM_THREADS (and OMP_NUM_THREADS). The best of --repeat runs is reported for each.

"% peak" is each phase's flop rate (its matrix products' flops, counted by critscale's kernels)
against a GEMM peak: by default the best of --repeat products of two 4096 x 4096 matrices by
numpy (OpenBLAS) with the same thread count, measured in the same run, or --peak. "floor" is the
time the phase's products need at that rate and "floor/np" that time against numpy's: the ratio
an implementation of the same products would reach if they ran at OpenBLAS's own rate and nothing
else took time. (It is not a hardware bound: the FMA units' peak, crates/kernels/examples/peak.rs,
is higher.)
"""
import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def run(cmd, env):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["(no message)"])[-1]
        sys.exit(f"error: {os.path.basename(cmd[0])} failed (exit {r.returncode}): {last}")
    return json.loads(r.stdout), before


def peak_rss_mib(cmd, env):
    """Peak resident memory of one run of cmd, via GNU time if present, else None."""
    if not os.path.exists("/usr/bin/time"):
        return None
    r = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, env=env, capture_output=True, text=True, check=True)
    return int(r.stderr.strip().splitlines()[-1]) / 1024


GEMM_PEAK = """
import sys, time
import numpy as np
n, dtype, repeat = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
rng = np.random.default_rng(1)
a = rng.standard_normal((n, n)).astype(dtype)
b = rng.standard_normal((n, n)).astype(dtype)
best = float("inf")
for _ in range(repeat):
    t = time.perf_counter()
    a @ b
    best = min(best, time.perf_counter() - t)
print(2.0 * n ** 3 / best / 1e9)
"""


def gemm_peak_gflops(dtype, repeat, env):
    """The machine's GEMM rate in GFLOP/s: numpy's best n = 4096 square product (in a child
    process, so that the thread-count variables of env apply)."""
    np_dtype = "float64" if dtype == "f64" else "float32"
    out = subprocess.run([sys.executable, "-c", GEMM_PEAK, "4096", np_dtype, str(repeat)], env=env,
                         capture_output=True, text=True, check=True).stdout
    return float(out.strip())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=4096)
    ap.add_argument("--d", type=int, default=512)
    ap.add_argument("--rho", type=float, default=0.3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dtype", default="f64", choices=["f64", "f32"])
    ap.add_argument("--eta", default="exact", choices=["exact", "none"])
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "critscale"))
    ap.add_argument("--peak", type=float, default=None,
                    help="the machine's GEMM peak in GFLOP/s for --dtype (default: measured in this "
                         "run, numpy's 4096 x 4096 product)")
    args = ap.parse_args()
    checks = [("--n", args.n, args.n >= 2, "an integer >= 2"),
              ("--d", args.d, args.d >= 1, "an integer >= 1"),
              ("--rho", args.rho, 0.0 <= args.rho < 1.0, "in [0, 1)"),
              ("--threads", args.threads, args.threads >= 1, "an integer >= 1"),
              ("--repeat", args.repeat, args.repeat >= 1, "an integer >= 1"),
              ("--peak", args.peak, args.peak is None or (math.isfinite(args.peak) and args.peak > 0),
               "a number of GFLOP/s > 0")]
    for name, value, ok, valid in checks:
        if not ok:
            ap.error(f"{name} {value}: must be {valid}")
    if not os.path.isfile(args.bin):
        ap.error(f"--bin {args.bin}: no such file (build it with `cargo build --release`)")

    rng = np.random.default_rng(0)
    n, d, rho = args.n, args.d, args.rho
    z0 = rng.standard_normal(d) / math.sqrt(d)
    z = rng.standard_normal((n, d)) / math.sqrt(d)
    x = math.sqrt(rho) * z0 + math.sqrt(1 - rho) * z
    beta = math.log(n) / (1 - rho)
    env = dict(os.environ)
    env.update(RAYON_NUM_THREADS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads),
               OMP_NUM_THREADS=str(args.threads))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "tokens.npy")
        np.save(path, x)
        ours_cmd = [args.bin, "simulate", "--tokens", path, "--beta", repr(beta), "--dtype", args.dtype,
                    "--eta", args.eta, "--json"]
        peer_cmd = [sys.executable, os.path.join(HERE, "peer.py"), "--tokens", path, "--beta", repr(beta),
                    "--dtype", args.dtype, "--eta", args.eta]
        best = {"fwd": math.inf, "eta": math.inf}
        for _ in range(args.repeat):
            o, _ = run(ours_cmd, env)
            t = o["timings"]
            best["fwd"] = min(best["fwd"], t["forward"] + t["observables"])
            if args.eta == "exact":
                best["eta"] = min(best["eta"], t["eta"])
        p, _ = run(peer_cmd + ["--repeat", str(args.repeat)], env)
        pt = p["timings"]
        print(f"n={n} d={d} dtype={args.dtype} threads={args.threads} beta={beta:.6f} (best of {args.repeat})")
        if args.peak is not None:
            peak, how = args.peak, "given"
        else:
            peak, how = gemm_peak_gflops(args.dtype, args.repeat, env), "numpy 4096^3 product, this run"
        print(f"GEMM peak {peak:.1f} GFLOP/s ({how})")
        # The flops of critscale's matrix products, counted by its kernels (symmetry used).
        g = o.get("gemm_gflop")
        if not g:
            sys.exit(f"error: {args.bin} does not report gemm_gflop (an older build? run `cargo build --release`)")
        flops = {"fwd": g["forward"] + g["observables"], "eta": g.get("eta", 0.0)}
        print(f"{'phase':<16}{'critscale s':>12}{'numpy s':>12}{'ratio':>8}{'GFLOP':>8}{'GFLOP/s':>9}{'% peak':>8}{'floor s':>9}{'floor/np':>9}")
        rows = [("forward+lambda", "fwd", pt["forward_lambda"])]
        if args.eta == "exact":
            rows.append(("exact eta", "eta", pt["eta"]))
        for name, key, theirs in rows:
            rate = flops[key] / best[key]
            print(f"{name:<16}{best[key]:>12.3f}{theirs:>12.3f}{best[key] / theirs:>8.3f}"
                  f"{flops[key]:>8.2f}{rate:>9.1f}{100 * rate / peak:>8.1f}"
                  f"{flops[key] / peak:>9.3f}{flops[key] / peak / theirs:>9.3f}")
        for key in ["lambda", "lambda_angle", "self_weight", "support", "entropy"] + (["eta"] if args.eta == "exact" else []):
            rel = abs(o[key] - p[key]) / max(abs(p[key]), 1e-300)
            print(f"  {key:<14} critscale {o[key]:.15e}  numpy {p[key]:.15e}  rel diff {rel:.1e}")
        mem = peak_rss_mib(ours_cmd[:-3] + ["--eta", "none", "--json"], env)
        if mem is not None:
            print(f"peak RSS of critscale forward+lambda: {mem:.0f} MiB")


if __name__ == "__main__":
    main()
