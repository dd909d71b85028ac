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
  self_weight  = mean_i A_ii
  lambda       = mean over ordered pairs i != j, i !~ j, of (1 - <y'_i, y'_j>) / (1 - G_ij)
                 (the mean over unordered pairs is the same number: both matrices are symmetric)
  lambda_angle = same pairs, mean of arccos<y'_i, y'_j> / arccos G_ij
  cos_out_mean = same pairs, mean of <y'_i, y'_j>
  support      = mean_i 1 / sum_j A_ij^2
  entropy      = mean_i -sum_j A_ij ln A_ij
Crossings (bisection until the bracket is <= 1e-6 wide; the midpoint is reported, so it is within
5e-7 of the crossing of the float64 function):
  gamma_star_self:   mean self mass = 1/2 (it increases with gamma: bracket [0, 2^k]);
  gamma_star_lambda: lambda = 1/2, the first upward crossing on the scan gamma = 0.05, 0.10, ...
Predictions (rho_hat = mean of G_ij over the same pairs as lambda, i.e. over non-copy pairs; the
names are those of the Rust `critscale_diagnose::Predictions`):
  gamma_c_hat             = 1/(1 - rho_hat)                        (THEORY section 1)
  self_law_mean_logodds   = mean_i ln((1 - f_i)/f_i) / ln n        (section 10, no 1/(1 - rho))
  self_law_mean_gamma     = self_law_mean_logodds / (1 - rho_hat)  (section 10 at rho_hat)
  self_law_crossing       = gamma solving mean_i 1/(1 + ((1-f_i)/f_i) n^(-gamma(1-rho_hat))) = 1/2
                            (each row of share f_i in a simplex of types at rho_hat; bisection)
  m_type_gamma_c          = (ln m / ln n) / (1 - rho_hat)          (section 10, m ~ n^a)
  equal_multiplicity_self = ln(m - 1) / ((1 - rho_hat) ln n)       (m-type simplex, p = 1/2)
  simplex_crossing        = lambda = 1/2 crossing of the section 5 closed form, n tokens at rho_hat
  m_type_simplex_crossing = the same with n replaced by m inside p, r, s1, beta = gamma ln n
                            (section 10: equal multiplicities make the layer the m-type simplex)
  gap_scale_q1/median/q3  = quartiles (numpy's linear rule) over the n rows of Lambda_i / ln n,
                            Lambda_i = sup_t ln N_i(t)/t, N_i(t) = 1 + #{j !~ i : 1 - G_ij <= t}
                            (THEORY section 8, copies counted with the self weight; the sup is a
                            max over the sorted non-copy gaps t_k of ln(1 + k)/t_k)

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
            "self_weight": float(np.diagonal(a).mean()),
            "cos_out_mean": float(np.where(self.pairs, cos_out, 0.0).sum() / self.npairs),
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
            "gamma_c_hat": 1.0 / (1.0 - rho),
            "self_law_mean_logodds": float(log_odds.mean() / self.ln_n),
            "self_law_mean_gamma": float(log_odds.mean() / self.ln_n / (1.0 - rho)),
            "self_law_crossing": rep,
            "m_type_gamma_c": float(np.log(self.m) / self.ln_n / (1.0 - rho)),
            "equal_multiplicity_self": float(np.log(self.m - 1) / ((1.0 - rho) * self.ln_n)),
        }
        gaps = np.sort(np.where(self.pairs, 1.0 - self.g, np.inf), axis=1)
        counts = np.arange(1, self.n + 1, dtype=np.float64)
        scale = np.where(np.isfinite(gaps), np.log1p(counts) / gaps, 0.0).max(axis=1) / self.ln_n
        q1, med, q3 = np.quantile(scale, [0.25, 0.5, 0.75])
        out["gap_scale_q1"], out["gap_scale_median"], out["gap_scale_q3"] = float(q1), float(med), float(q3)
        for name, types in [("simplex_crossing", self.n), ("m_type_simplex_crossing", self.m)]:

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
            "distinct_m": self.m,
            "heaps_exponent": float(np.log(self.m) / self.ln_n),
            "rows_with_copy_share": rows_with_copy,
            "copy_pair_fraction": float((self.same.sum() - self.n) / (self.n * (self.n - 1))),
            "rho_hat": self.rho_hat,
            "min_one_minus_cos_non_copy": self.min_gap,
            "mean_f": float(self.f.mean()),
            "max_f": float(self.f.max()),
        }


def simplex_rows(m, rho):
    """m unit rows in R^m with pairwise cosine rho (THEORY section 2 construction)."""
    b = np.sqrt(1.0 - rho)
    c = rho / (b + np.sqrt(1.0 - rho + m * rho))
    return b * np.eye(m) + c


def self_check():
    """The Context code against the closed forms: an exact simplex, and an m-type simplex with
    every direction repeated (THEORY section 10: the layer is the m-type simplex at beta = gamma ln n).
    """
    rho, gamma = 0.3, 1.1
    for m, reps in [(24, 1), (12, 3)]:
        x = np.repeat(simplex_rows(m, rho), reps, axis=0)
        ctx = Context(x)
        beta = gamma * ctx.ln_n
        obs = ctx.observe(gamma)
        lam = simplex_lambda(gamma, m, rho, ctx.ln_n)
        p = 1.0 / (1.0 + (m - 1) * np.exp(-beta * (1.0 - rho)))
        assert abs(obs["lambda"] - lam) < 1e-12, (obs["lambda"], lam)
        assert abs(obs["self_mass"] - p) < 1e-12, (obs["self_mass"], p)
        assert abs(obs["self_weight"] - p / reps) < 1e-12
        assert abs(ctx.rho_hat - rho) < 1e-12 and ctx.m == m
        pred = ctx.predictions()
        assert abs(pred["gap_scale_median"] - np.log1p((m - 1) * reps) / ctx.ln_n / (1.0 - rho)) < 1e-12
        want = np.log(m - 1) / ((1.0 - rho) * ctx.ln_n)
        cross = ctx.crossings()
        assert abs(cross["gamma_star_self"] - want) < 1e-6
        assert abs(cross["gamma_star_lambda"] - pred["m_type_simplex_crossing"]) < 1e-6
        assert abs(pred["self_law_crossing"] - want) < 1e-6


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
            f"{label} n={n:5d} m={entry['distinct_m']:5d} a={entry['heaps_exponent']:.4f} "
            f"copy_rows={entry['rows_with_copy_share']:.4f} rho={entry['rho_hat']:.6f} | "
            f"g*_self={entry['gamma_star_self']:.6f} g*_lam={entry['gamma_star_lambda']:.6f} | "
            f"1/(1-rho)={p['gamma_c_hat']:.4f} logodds={p['self_law_mean_logodds']:.4f} "
            f"logodds/(1-rho)={p['self_law_mean_gamma']:.4f} law={p['self_law_crossing']:.4f} "
            f"a/(1-rho)={p['m_type_gamma_c']:.4f} mtype_self={p['equal_multiplicity_self']:.4f} "
            f"simplex_lam_n={p['simplex_crossing']:.4f} mtype_lam={p['m_type_simplex_crossing']:.4f} "
            f"gap_med={p['gap_scale_median']:.4f}",
            flush=True,
        )
    return results


def main():
    self_check()
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
            "rows_with_copy_share": "share of rows i with c_i > 1",
            "copy_pair_fraction": "share of pairs i != j that are copies",
            "heaps_exponent": "ln m / ln n, m = number of distinct directions",
            "self_mass": "mean_i sum_{j ~ i} A_ij",
            "lambda": "mean over non-copy pairs of (1 - <y'_i, y'_j>)/(1 - <y_i, y_j>)",
            "lambda_angle": "mean over non-copy pairs of arccos<y'_i, y'_j> / arccos<y_i, y_j>",
            "self_weight": "mean_i A_ii",
            "cos_out_mean": "mean over non-copy pairs of <y'_i, y'_j>",
            "support": "mean_i 1/sum_j A_ij^2",
            "entropy": "mean_i -sum_j A_ij ln A_ij",
            "gamma_star_self": "mean self mass = 1/2, bisection on [0, 2^k] to a bracket <= 1e-6 "
            "wide, midpoint reported (bracket given)",
            "gamma_star_lambda": "lambda = 1/2, first upward crossing of the scan gamma = 0.05 k, "
            "then bisection to a bracket <= 1e-6 wide, midpoint reported (bracket given)",
            "predictions.gamma_c_hat": "1/(1 - rho_hat)",
            "predictions.self_law_mean_logodds": "mean_i ln((1 - f_i)/f_i) / ln n (THEORY 10, rho = 0)",
            "predictions.self_law_mean_gamma": "self_law_mean_logodds / (1 - rho_hat) (THEORY 10 at rho_hat)",
            "predictions.self_law_crossing": "gamma with mean_i 1/(1 + ((1-f_i)/f_i) n^(-gamma(1-rho_hat)))"
            " = 1/2 (each row in a simplex of types at rho_hat), bisection to 1e-6",
            "predictions.m_type_gamma_c": "(ln m/ln n)/(1 - rho_hat)",
            "predictions.equal_multiplicity_self": "ln(m-1)/((1 - rho_hat) ln n): p = 1/2 in the m-type simplex",
            "predictions.simplex_crossing": "lambda = 1/2 of the THEORY 5 closed form (alpha = 0), "
            "n tokens at rho_hat, bisection to 1e-6",
            "predictions.m_type_simplex_crossing": "the same with m types (n -> m in p, r, s1; beta = gamma ln n)",
            "predictions.gap_scale_*": "quartiles (numpy linear) over rows of Lambda_i/ln n, "
            "Lambda_i = max_k ln(1 + k)/t_k over the sorted non-copy gaps t_k = 1 - <y_i, y_j> "
            "(THEORY 8, copies counted with the self weight)",
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
