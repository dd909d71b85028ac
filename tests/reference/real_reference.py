#!/usr/bin/env python3
"""Reference values of THEORY section 10 on the real-token fixture (numpy only, float64).

Reads tests/data/real/context.npy (float16, 4096 x 256), ids.npy and distinct.npy (written by
real_tokens.py) and writes tests/data/real_reference.json: for the prefixes n = 256 ... 4096 of the
context (and n = 256, 512, 1024 of the distinct control) the measured crossings of one attention
layer and the predictions of THEORY section 10 beside them. It is the independent reference for
the Rust `critscale diagnose`; nothing here uses the Rust code.

The layer (THEORY section 1, alpha = 0, no centring, no mask): y_i = x_i/|x_i| in float64 from
the float16 rows, G = Y Y^T, scores beta G with beta = gamma ln n, A = row softmax (computed as
E_ij = exp(beta (G_ij - 1)), A = E / rowsum(E): the self score is the row maximum),
x'_i = sum_j A_ij y_j, y'_i = x'_i/|x'_i|.

Copies (issue 13): i ~ j when 1 - G_ij <= 1e-12 (here exactly "same token id"; checked).
c_i = #{j : j ~ i} (i included), f_i = c_i / n.

Observables at one gamma:
  self_mass    = mean_i sum_{j ~ i} A_ij
  lambda       = mean over ordered pairs i != j, i !~ j, of (1 - <y'_i, y'_j>) / (1 - G_ij)
                 (the mean over unordered pairs is the same number: both matrices are symmetric)
  lambda_angle = same pairs, mean of arccos<y'_i, y'_j> / arccos G_ij
  support      = mean_i 1 / sum_j A_ij^2
  entropy      = mean_i -sum_j A_ij ln A_ij
Crossings (bisection until the bracket is <= 1e-6 wide; the midpoint is reported, so it is within
5e-7 of the crossing of the float64 function):
  gamma_star_self:   mean self mass = 1/2 (it increases with gamma: bracket [0, 2^k]);
  gamma_star_lambda: lambda = 1/2, the first upward crossing on the scan gamma = 0.05, 0.10, ...
Predictions (rho_hat = mean of G_ij over the same pairs as lambda, i.e. over non-copy pairs):
  gamma_c              = 1/(1 - rho_hat)                            (THEORY section 1)
  mean_log_odds        = mean_i ln((1 - f_i)/f_i) / ln n            (section 10, with rho = 0)
  mean_log_odds_rho    = mean_log_odds / (1 - rho_hat)              (section 10 at rho_hat)
  repeated_law         = gamma solving mean_i 1/(1 + ((1-f_i)/f_i) n^(-gamma (1-rho_hat))) = 1/2
                         (each row of share f_i in a simplex of types at rho_hat; bisection to 1e-6)
  heaps_over           = (ln m / ln n) / (1 - rho_hat)              (section 10, m ~ n^a)
  m_type_self          = ln(m - 1) / ((1 - rho_hat) ln n)           (m-type simplex, p = 1/2)
  simplex_lambda_n     = lambda = 1/2 crossing of the section 5 closed form, n tokens at rho_hat
  m_type_lambda        = the same with n replaced by m inside p, r, s1, beta = gamma ln n
                         (section 10: equal multiplicities make the layer the m-type simplex)

Usage: python3 tests/reference/real_reference.py   (about a minute or two on one core)
"""

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

PREFIXES = [256, 512, 1024, 2048, 4096]
CONTROL_PREFIXES = [256, 512, 1024]
COPY_TOL = 1e-12
BISECT_TOL = 1e-6
SCAN_STEP = 0.05
SWEEP = [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0]


def bisect(fun, lo, hi, target=0.5):
    """fun increasing through target on [lo, hi]; returns (midpoint, lo, hi) with hi-lo <= tol."""
    flo, fhi = fun(lo), fun(hi)
    assert flo < target <= fhi, (lo, hi, flo, fhi)
    while hi - lo > BISECT_TOL:
        mid = 0.5 * (lo + hi)
        if fun(mid) < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi), lo, hi


def simplex_lambda(gamma, n_types, rho, ln_n):
    """THEORY section 5 closed form, alpha = 0: n_types tokens at cosine rho, beta = gamma ln_n."""
    beta = gamma * ln_n
    t = (n_types - 1) * np.exp(-beta * (1.0 - rho))
    p = 1.0 / (1.0 + t)
    r = (1.0 - p) / (n_types - 1)
    c = p - r
    s1 = 1.0 + (n_types - 1) * rho
    norm2 = c * c + 2.0 * c * r * s1 + r * r * n_types * s1
    return c * c / norm2


class Context:
    """One context: its Gram matrix, copies and the layer at any gamma."""

    def __init__(self, x16):
        self.n = x16.shape[0]
        x = x16.astype(np.float64)
        self.y = x / np.sqrt(np.einsum("ij,ij->i", x, x))[:, None]
        self.g = self.y @ self.y.T
        self.same = (1.0 - self.g) <= COPY_TOL
        np.fill_diagonal(self.same, True)
        self.pairs = ~self.same
        self.npairs = int(self.pairs.sum())
        one_minus = np.where(self.pairs, 1.0 - self.g, 1.0)
        self.min_gap = float(one_minus[self.pairs].min()) if self.npairs else None
        self.inv_gap = np.where(self.pairs, 1.0 / one_minus, 0.0)
        self.theta = np.where(self.pairs, np.arccos(np.clip(self.g, -1.0, 1.0)), 1.0)
        self.rho_hat = float(self.g[self.pairs].mean())
        self.c = self.same.sum(axis=1)
        self.f = self.c / self.n
        self.m = int((~np.tril(self.same, -1).any(axis=1)).sum())
        self.ln_n = float(np.log(self.n))

    def weights(self, gamma):
        beta = gamma * self.ln_n
        e = np.exp(beta * (self.g - 1.0))
        z = e.sum(axis=1)
        return e / z[:, None], z, beta

    def self_mass(self, gamma):
        a, _, _ = self.weights(gamma)
        return float((a * self.same).sum(axis=1).mean())

    def observe(self, gamma):
        a, z, beta = self.weights(gamma)
        out = a @ self.y
        out /= np.sqrt(np.einsum("ij,ij->i", out, out))[:, None]
        cos_out = np.clip(out @ out.T, -1.0, 1.0)
        lam = float((self.inv_gap * (1.0 - cos_out)).sum() / self.npairs)
        ang = np.where(self.pairs, np.arccos(cos_out) / self.theta, 0.0)
        lam_angle = float(ang.sum() / self.npairs)
        support = float((1.0 / (a * a).sum(axis=1)).mean())
        entropy = float((np.log(z) - beta * (a * (self.g - 1.0)).sum(axis=1)).mean())
        return {
            "gamma": gamma,
            "lambda": lam,
            "lambda_angle": lam_angle,
            "self_mass": float((a * self.same).sum(axis=1).mean()),
            "support": support,
            "entropy": entropy,
        }

    def lam(self, gamma):
        return self.observe(gamma)["lambda"]

    def crossings(self):
        hi = 1.0
        while self.self_mass(hi) < 0.5:
            hi *= 2.0
        g_self, s_lo, s_hi = bisect(self.self_mass, 0.0, hi)

        scan = []
        k = 1
        while True:
            gamma = round(k * SCAN_STEP, 10)
            value = self.lam(gamma)
            scan.append([gamma, value])
            if value >= 0.5:
                break
            k += 1
            if gamma > 20.0:
                raise SystemExit("lambda never reached 1/2")
        lo = scan[-2][0] if len(scan) > 1 else 0.0
        g_lam, l_lo, l_hi = bisect(self.lam, lo, scan[-1][0])
        increasing = all(b[1] > a[1] for a, b in zip(scan, scan[1:]))
        return {
            "gamma_star_self": g_self,
            "gamma_star_self_bracket": [s_lo, s_hi],
            "gamma_star_lambda": g_lam,
            "gamma_star_lambda_bracket": [l_lo, l_hi],
            "lambda_scan_increasing": increasing,
            "lambda_scan_points": len(scan),
        }

    def predictions(self):
        rho = self.rho_hat
        log_odds = np.log((1.0 - self.f) / self.f)
        odds = (1.0 - self.f) / self.f

        def law(gamma):
            return float((1.0 / (1.0 + odds * np.exp(-gamma * self.ln_n * (1.0 - rho)))).mean())

        hi = 1.0
        while law(hi) < 0.5:
            hi *= 2.0
        rep, _, _ = bisect(law, 0.0, hi)
        out = {
            "gamma_c": 1.0 / (1.0 - rho),
            "mean_log_odds": float(log_odds.mean() / self.ln_n),
            "mean_log_odds_rho": float(log_odds.mean() / self.ln_n / (1.0 - rho)),
            "repeated_law": rep,
            "heaps_over": float(np.log(self.m) / self.ln_n / (1.0 - rho)),
            "m_type_self": float(np.log(self.m - 1) / ((1.0 - rho) * self.ln_n)),
        }
        for name, types in [("simplex_lambda_n", self.n), ("m_type_lambda", self.m)]:

            def closed(gamma, types=types):
                return simplex_lambda(gamma, types, rho, self.ln_n)

            hi = 1.0
            while closed(hi) < 0.5:
                hi *= 2.0
            out[name], _, _ = bisect(closed, 0.0, hi)
        return out

    def summary(self):
        rows_with_copy = float((self.c > 1).mean())
        return {
            "n": self.n,
            "m": self.m,
            "heaps_exponent": float(np.log(self.m) / self.ln_n),
            "share_rows_with_copy": rows_with_copy,
            "copy_pair_fraction": float((self.same.sum() - self.n) / (self.n * (self.n - 1))),
            "rho_hat": self.rho_hat,
            "min_one_minus_cos_non_copy": self.min_gap,
            "mean_f": float(self.f.mean()),
            "max_f": float(self.f.max()),
        }


def run(x16, prefixes, ids=None, label=""):
    results = []
    for n in prefixes:
        ctx = Context(x16[:n])
        if ids is not None:
            same_id = ids[:n, None] == ids[None, :n]
            assert np.array_equal(same_id, ctx.same), "copies by direction != copies by id"
        entry = ctx.summary()
        entry.update(ctx.crossings())
        entry["predictions"] = ctx.predictions()
        entry["sweep"] = [ctx.observe(g) for g in SWEEP]
        results.append(entry)
        p = entry["predictions"]
        print(
            f"{label} n={n:5d} m={entry['m']:5d} a={entry['heaps_exponent']:.4f} "
            f"copy_rows={entry['share_rows_with_copy']:.4f} rho={entry['rho_hat']:.6f} | "
            f"g*_self={entry['gamma_star_self']:.6f} g*_lam={entry['gamma_star_lambda']:.6f} | "
            f"1/(1-rho)={p['gamma_c']:.4f} logodds={p['mean_log_odds']:.4f} "
            f"logodds/(1-rho)={p['mean_log_odds_rho']:.4f} law={p['repeated_law']:.4f} "
            f"a/(1-rho)={p['heaps_over']:.4f} mtype_self={p['m_type_self']:.4f} "
            f"simplex_lam_n={p['simplex_lambda_n']:.4f} mtype_lam={p['m_type_lambda']:.4f}",
            flush=True,
        )
    return results


def main():
    root = Path(__file__).resolve().parents[1] / "data"
    real = root / "real"
    context = np.load(real / "context.npy")
    ids = np.load(real / "ids.npy")
    table = np.load(real / "table.npy")
    distinct = np.load(real / "distinct.npy")
    assert context.dtype == np.float16 and np.array_equal(table[ids], context)

    doc = {
        "source": "tests/reference/real_reference.py (numpy only, float64 from the float16 rows)",
        "fixture": "tests/data/real (real_tokens.py): context.npy = table.npy[ids.npy], distinct.npy",
        "model": "THEORY section 1: y = x/|x|, A = row softmax of beta <y_i, y_j>, beta = gamma ln n, "
        "x'_i = sum_j A_ij y_j (alpha = 0, no centring, no mask), y' = x'/|x'|",
        "copies": "i ~ j when 1 - <y_i, y_j> <= 1e-12; c_i = #{j ~ i} (i included), f_i = c_i/n",
        "definitions": {
            "rho_hat": "mean <y_i, y_j> over pairs i != j that are not copies",
            "share_rows_with_copy": "share of rows i with c_i > 1",
            "copy_pair_fraction": "share of pairs i != j that are copies",
            "heaps_exponent": "ln m / ln n, m = number of distinct directions",
            "self_mass": "mean_i sum_{j ~ i} A_ij",
            "lambda": "mean over non-copy pairs of (1 - <y'_i, y'_j>)/(1 - <y_i, y_j>)",
            "lambda_angle": "mean over non-copy pairs of arccos<y'_i, y'_j> / arccos<y_i, y_j>",
            "support": "mean_i 1/sum_j A_ij^2",
            "entropy": "mean_i -sum_j A_ij ln A_ij",
            "gamma_star_self": "mean self mass = 1/2, bisection on [0, 2^k] to a bracket <= 1e-6 "
            "wide, midpoint reported (bracket given)",
            "gamma_star_lambda": "lambda = 1/2, first upward crossing of the scan gamma = 0.05 k, "
            "then bisection to a bracket <= 1e-6 wide, midpoint reported (bracket given)",
            "predictions.gamma_c": "1/(1 - rho_hat)",
            "predictions.mean_log_odds": "mean_i ln((1 - f_i)/f_i) / ln n (THEORY 10, rho = 0)",
            "predictions.mean_log_odds_rho": "mean_log_odds / (1 - rho_hat) (THEORY 10 at rho_hat)",
            "predictions.repeated_law": "gamma with mean_i 1/(1 + ((1-f_i)/f_i) n^(-gamma(1-rho_hat)))"
            " = 1/2 (each row in a simplex of types at rho_hat), bisection to 1e-6",
            "predictions.heaps_over": "(ln m/ln n)/(1 - rho_hat)",
            "predictions.m_type_self": "ln(m-1)/((1 - rho_hat) ln n): p = 1/2 in the m-type simplex",
            "predictions.simplex_lambda_n": "lambda = 1/2 of the THEORY 5 closed form (alpha = 0), "
            "n tokens at rho_hat, bisection to 1e-6",
            "predictions.m_type_lambda": "the same with m types (n -> m in p, r, s1; beta = gamma ln n)",
            "sweep": "the observables at fixed gamma (no bisection error)",
        },
        "copy_tolerance": COPY_TOL,
        "bisection_tolerance": BISECT_TOL,
        "context": run(context, PREFIXES, ids, "context"),
        "distinct_control": run(distinct, CONTROL_PREFIXES, None, "control"),
    }
    out = root / "real_reference.json"
    out.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
