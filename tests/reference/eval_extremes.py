#!/usr/bin/env python3
"""Reference values for `critscale eval` at extreme points (issue 10, items 5 and 6).

Every number `eval` prints is computed here from the inputs read as EXACT decimals, with mpmath at
DPS digits (mpmath floats carry arbitrary exponents, so 1 - lambda ~ 10^(-912018411) or
10^(-3e49) is an ordinary value here).  Positive quantities are emitted as their natural logarithm
(90 significant digits and at least 50 after the point), so that a test can compare a printed `m e k` at any exponent through
ln m + k ln 10; quantities that may be 0 or negative (kappa, cos_out) are emitted as values.

Closed forms (THEORY section 5), with t = beta (1 - rho) the score gap and N = e^(-t):
    T = (n - 1) N,  p = 1/(1 + T),  r = N/(1 + T),  p - r = -expm1(-t)/(1 + T)
    c = p - r + alpha sqrt(q),  s1 = 1 + (n - 1) rho,  |x'|^2 = c^2 + 2 c r s1 + r^2 n s1
    lambda = c^2/|x'|^2,  1 - lambda = (2 c r s1 + r^2 n s1)/|x'|^2
    1 - cos_out = (1 - rho) lambda,  lambda_angle = 2 asin(sqrt((1 - cos_out)/2))/acos(rho)
    kappa = gamma (1 - rho) - 1,  gamma_c = 1/(1 - rho),  beta = gamma ln n (or gamma = beta/ln n)
No difference of nearly equal numbers is formed.  Check: every point is recomputed at CHECK_DPS
and must agree (logarithms to 1e-45 absolute, values to 1e-80; AssertionError otherwise).

Run (Python 3 with mpmath; a few seconds):
    python3 tests/reference/eval_extremes.py          # writes tests/data/eval_extremes.json
    python3 tests/reference/eval_extremes.py --check  # recompute and compare, write nothing
"""

import json
import sys
from pathlib import Path

import mpmath
from mpmath import mp, mpf

DPS = 400
CHECK_DPS = 460
OUT = Path(__file__).resolve().parent.parent / "data" / "eval_extremes.json"

# (n, rho, gamma or None, beta or None): the grid of the f64 range (n up to 1e300, gamma from
# 1e-6 to 1e6, beta up to 1e50, rho near 0 and near 1), and points only the big engines hold.
F64_N = ["2", "64", "1e6", "1e300"]
F64_RHO = ["1e-9", "0.3", "0.999999"]
F64_SCALE = [("gamma", "1e-6"), ("gamma", "0.5"), ("gamma", "crit"), ("gamma", "3"),
             ("gamma", "1e6"), ("beta", "1e18"), ("beta", "1e50")]
BIG_ONLY = [("1e100000", "0.3", "gamma", "1e-6"), ("1e100000", "0.3", "gamma", "crit"),
            ("1e100000", "0.3", "gamma", "1e6"), ("64", "0.3", "beta", "3e9"),
            ("1e100000", "0.999999", "beta", "1e40")]

# Points used by single tests only (not the grids): beta at the top of f64's range.
EXTRA = [("64", "0.3", "beta", "1.7e308")]

POSITIVE = ["n", "gamma", "beta", "gamma_c", "self_weight", "one_minus_cos_out", "lambda",
            "one_minus_lambda", "lambda_angle"]
SIGNED = ["kappa", "cos_out"]


def ln_text(x):
    """A logarithm to 90 significant digits and at least 50 after the point (|x| reaches 1e308)."""
    digits = 90 + max(0, int(mpmath.floor(mpmath.log10(abs(x)))) if x != 0 else 0)
    return mpmath.nstr(x, min(digits, 90 + 310))


def evaluate(n_s, rho_s, kind, scale_s):
    n, rho = mpf(n_s), mpf(rho_s)
    lnn = mpmath.log(n)
    if kind == "gamma" and scale_s == "crit":
        gamma = 1 / (1 - rho)
        g = mpf(1)
        beta = gamma * lnn
    elif kind == "gamma":
        gamma = mpf(scale_s)
        g = gamma * (1 - rho)
        beta = gamma * lnn
    else:
        beta = mpf(scale_s)
        gamma = beta / lnn
        g = gamma * (1 - rho)
    t = beta * (1 - rho)
    big_n = mpmath.exp(-t)
    tt = (n - 1) * big_n
    p = 1 / (1 + tt)
    r = big_n / (1 + tt)
    c = -mpmath.expm1(-t) / (1 + tt)          # alpha = 0
    s1 = 1 + (n - 1) * rho
    cross = 2 * c * r * s1 + r * r * n * s1
    xx = c * c + cross
    lam = c * c / xx
    one_minus_lam = cross / xx
    omc = (1 - rho) * lam
    angle = 2 * mpmath.asin(mpmath.sqrt(omc / 2)) / mpmath.acos(rho)
    kappa = mpf(0) if scale_s == "crit" else g - 1
    positive = {
        "n": n, "gamma": gamma, "beta": beta, "gamma_c": 1 / (1 - rho), "self_weight": p,
        "one_minus_cos_out": omc, "lambda": lam, "one_minus_lambda": one_minus_lam,
        "lambda_angle": angle,
    }
    signed = {"kappa": kappa, "cos_out": 1 - omc}
    return (
        {k: ln_text(mpmath.log(v)) for k, v in positive.items()},
        {k: mpmath.nstr(v, 90) for k, v in signed.items()},
    )


def points():
    grid = [(n, rho, kind, s) for n in F64_N for rho in F64_RHO for kind, s in F64_SCALE]
    return ([(p, True, True) for p in grid] + [(p, False, True) for p in BIG_ONLY]
            + [(p, True, False) for p in EXTRA])


def build(dps):
    mp.dps = dps
    out = []
    for (n_s, rho_s, kind, scale_s), f64, grid in points():
        ln, values = evaluate(n_s, rho_s, kind, scale_s)
        out.append({"n": n_s, "rho": rho_s, kind: scale_s, "f64_range": f64, "grid": grid,
                    "ln": ln, "value": values})
    return out


def main():
    data = build(DPS)
    again = build(CHECK_DPS)
    for a, b in zip(data, again):
        for key in ("ln", "value"):
            for name in a[key]:
                x, y = mpf(a[key][name]), mpf(b[key][name])
                # Logarithms to 1e-45 absolute (a relative error of the value), values to
                # 1e-80 relative (of 1 for the signed ones, which may be 0).
                if key == "ln":
                    allowed = mpf("1e-45")
                else:
                    allowed = mpf("1e-80") * (max(abs(y), 1) if name in SIGNED else abs(y))
                assert abs(x - y) <= allowed, (a, name, x, y)
    doc = {
        "generator": "tests/reference/eval_extremes.py",
        "dps": DPS,
        "input_semantics": "exact decimal; gamma \"crit\" = 1/(1-rho) exactly; alpha = 0, q = 1",
        "ln_fields": POSITIVE,
        "value_fields": SIGNED,
        "points": data,
    }
    text = json.dumps(doc, indent=1) + "\n"
    if "--check" in sys.argv:
        assert OUT.read_text() == text, "tests/data/eval_extremes.json is stale"
        print("eval_extremes.json is up to date")
    else:
        OUT.write_text(text)
        print(f"wrote {len(data)} points to {OUT.name}")


if __name__ == "__main__":
    main()
