#!/usr/bin/env python3
"""numpy peer of critscale's fast path: the same forward pass + observables + exact eta, written
the straightforward numpy way (full n x n matrices, OpenBLAS GEMMs).

    python3 benches/peer/peer.py --tokens X.npy --beta B [--alpha A] [--eta exact|none] [--dtype f64|f32]

Prints one JSON object with the observables, eta and the wall time of each phase. The thread
count is OpenBLAS's (set OPENBLAS_NUM_THREADS before starting; compare.py does).
"""
import argparse
import json
import time

import numpy as np


def forward_lambda(x, beta, alpha, iu):
    """Forward pass and observables; iu = np.triu_indices(n, 1) (input-independent, built once)."""
    y = x / np.linalg.norm(x, axis=1, keepdims=True)
    g = y @ y.T
    s = beta * g
    s -= s.max(axis=1, keepdims=True)
    e = np.exp(s)
    a = e / e.sum(axis=1, keepdims=True)
    xo = a @ y + alpha * x
    yo = xo / np.linalg.norm(xo, axis=1, keepdims=True)
    go = yo @ yo.T
    gi, goi = g[iu], go[iu]
    lam = np.mean((1.0 - goi) / (1.0 - gi))
    ang = np.mean(np.arccos(np.clip(goi, -1, 1)) / np.arccos(np.clip(gi, -1, 1)))
    with np.errstate(divide="ignore", invalid="ignore"):
        alog = np.where(a > 0, a * np.log(np.where(a > 0, a, 1.0)), 0.0)
    return {
        "lambda": float(lam),
        "lambda_angle": float(ang),
        "cos_min": float(goi.min()),
        "cos_mean": float(goi.mean()),
        "cos_max": float(goi.max()),
        "self_weight": float(np.diag(a).mean()),
        "support": float((1.0 / (a * a).sum(axis=1)).mean()),
        "entropy": float(-alog.sum(axis=1).mean()),
    }


def eta_exact(x, beta, alpha):
    """eta = ||dX'/dX||_F^2/(nd) from THEORY 5b, with full n x n matrices (O(n^2 d + n^3))."""
    n, d = x.shape
    r = np.linalg.norm(x, axis=1)
    y = x / r[:, None]
    g = y @ y.T
    s = beta * g
    s -= s.max(axis=1, keepdims=True)
    a = np.exp(s)
    a /= a.sum(axis=1, keepdims=True)
    m = a @ y                      # attention means m_i
    b = m @ y.T                    # B_ik = <m_i, y_k>
    m2 = np.einsum("ij,ij->i", m, m)
    delta = 1.0 - g
    np.fill_diagonal(delta, 0.0)
    dbar = np.einsum("ij,ij->i", a, delta)
    w2 = np.maximum(1.0 - 2.0 * b + m2[:, None], 0.0)       # |y_k - m_i|^2
    p = 1.0 - b                                              # <y_k - m_i, y_k>
    bracket = (d - 1) + 2 * beta * ((dbar[:, None] - delta) - (1 - delta) * p) \
        + beta**2 * w2 * delta * (2 - delta)
    off = (a * a / (r * r)[None, :]) * bracket
    np.fill_diagonal(off, 0.0)
    trc = 1.0 - m2
    ycy = np.einsum("ij,ij->i", a, (delta - dbar[:, None]) ** 2)
    cy = (a * (dbar[:, None] - delta)) @ y
    cy2 = np.einsum("ij,ij->i", cy, cy)
    q = np.einsum("ij,ij->i", a @ (g * g), a)                 # (A (G o G) A^T)_ii
    s1 = np.einsum("ij,ij->i", a, b * b)
    trc2 = np.maximum(q - 2 * s1 + m2 * m2, 0.0)
    av = np.diag(a)
    t1 = np.maximum(trc - ycy, 0.0)
    t2 = np.maximum(trc2 - cy2, 0.0)
    fp = av * av * (d - 1) + 2 * av * beta * t1 + beta**2 * t2
    trfp = av * (d - 1) + beta * t1
    diag = fp / (r * r) + 2 * alpha * trfp / r + alpha**2 * d
    return float((off.sum() + diag.sum()) / (n * d))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", required=True)
    ap.add_argument("--beta", type=float, required=True)
    ap.add_argument("--alpha", type=float, default=0.0)
    ap.add_argument("--eta", default="exact", choices=["exact", "none"])
    ap.add_argument("--dtype", default="f64", choices=["f64", "f32"])
    ap.add_argument("--repeat", type=int, default=1, help="report the best of this many runs")
    args = ap.parse_args()
    x = np.load(args.tokens).astype(np.float64 if args.dtype == "f64" else np.float32)
    n = x.shape[0]
    iu = np.triu_indices(n, 1)
    out = {"n": n, "d": x.shape[1], "dtype": args.dtype, "timings": {}}
    best = float("inf")
    for _ in range(args.repeat):
        t = time.perf_counter()
        obs = forward_lambda(x, args.beta, args.alpha, iu)
        best = min(best, time.perf_counter() - t)
    out.update(obs)
    out["timings"]["forward_lambda"] = best
    if args.eta == "exact":
        best = float("inf")
        for _ in range(args.repeat):
            t = time.perf_counter()
            eta = eta_exact(x, args.beta, args.alpha)
            best = min(best, time.perf_counter() - t)
        out["eta"] = eta
        out["timings"]["eta"] = best
    print(json.dumps(out))


if __name__ == "__main__":
    main()
