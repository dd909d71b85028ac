#!/usr/bin/env python3
"""High-precision reference values for the simplex closed forms (THEORY.md sections 3, 5, 5b).

What it computes
----------------
For a deterministic grid of simplex configurations (n tokens, |x_i|^2 = q, <y_i, y_j> = rho for
i != j, beta = gamma * ln n, residual weight alpha) it evaluates, with mpmath at mp.dps = 60:

    t          = (n-1) * n^(-gamma(1-rho))
    p          = 1/(1+t)                     (self_weight, A_ii)
    r          = (1-p)/(n-1) = n^(-gamma(1-rho))/(1+t)
    c          = p - r + alpha*sqrt(q),      p - r = -expm1(-gamma(1-rho) ln n)/(1+t)
    s1         = 1 + (n-1) rho
    |x'|^2     = c^2 + 2 c r s1 + r^2 n s1
    lambda     = c^2/|x'|^2                  (= (1 - cos_out)/(1 - rho))
    one_minus_cos_out = (1-rho) * lambda     (never formed as 1 - cos_out)
    cos_out    = 1 - one_minus_cos_out
    lambda_angle = acos(cos_out)/acos(rho),  acos(cos_out) = 2 asin(sqrt(one_minus_cos_out/2))

(1-p and p-r are formed without cancellation, so e.g. 1-p ~ 1e-600 at n = 1e300 is exact.)

Independent checks (the script fails loudly with AssertionError if any fails):
  * For every point with n <= 64 an explicit simplex matrix is built in mpmath (d = n, or the given d
    for eta points), its Gram matrix is checked, and a brute-force forward pass (row softmax, outputs,
    renormalisation) must reproduce self_weight, cos_out, one_minus_cos_out, lambda and lambda_angle
    to 1e-40 relative.  (1 - cos_out is taken there as |y_i' - y_j'|^2 / 2, free of cancellation.)
  * eta = ||dX'/dX||_F^2 / (n d) (Jacobian of the un-normalised outputs w.r.t. the inputs x, before
    the pre-norm) is computed for small n (2, 3, 4, 5, 7; d in {n, n+1, n+3}) in two ways:
      (1) the analytic block formula of THEORY 5b, J_ik = D_ik P_k + alpha delta_ik I, built as
          explicit mpmath matrices;
      (2) central finite differences (step 1e-20 at 60 digits) of the full forward map x -> x'.
    Every Jacobian entry must agree to 1e-25 (absolute, relative to the largest entry) and eta to
    1e-25 relative; the emitted eta is from (1).  The block formula is also checked the same way on
    a generic (non-simplex) random configuration.
  * All closed-form values are recomputed at 100 digits and must agree with the 60-digit values to
    1e-45 relative.

Input semantics: every input is emitted as the decimal string that the Rust side parses into an f64,
and the reference is computed from the exact binary value of that f64, mpmath.mpf(float(string))
(Python's and Rust's string->f64 conversions are both correctly rounded, so this is exactly the number
the Rust code sees).  For "2", "0.5", "2.5", "1e6", ... this equals the decimal value; for "0.95",
"1e300", gamma strings, ... it differs from it by < 1 ulp.  Why not the decimal value itself: the
outputs are ill-conditioned at huge n (e.g. n = 1e300, rho = 0.95, gamma = 18: d ln(lambda)/d rho is
~1e4), so the one-ulp rounding of rho alone moves lambda by 1.1e-12 relative -- more than the Rust
tolerance.  The script prints that decimal-vs-f64 input sensitivity as a diagnostic.  gamma is
written as repr(float(mult * gamma_c)) with gamma_c = 1/(1-rho) (rho the decimal value), mult in
{0.3, 0.9, 1, 1.1, 3}.

Output: tests/data/simplex_reference.json (path relative to the repository root, located from this
file's position), pretty-printed with a fixed key order; every value is a decimal string with up to
40 significant digits (mpmath.nstr(x, 40); scientific notation such as "1.2e-600" when needed --
values may lie outside the f64 range, so parse mantissa/exponent if you need logs).  Point fields:
n, rho, gamma, alpha, q, d (null unless an eta point), self_weight, cos_out, lambda, lambda_angle,
one_minus_cos_out, eta (null unless an eta point).

How to run (needs only Python 3 and mpmath 1.3; takes about one minute):

    python3 tests/reference/simplex_reference.py            # writes the JSON, prints a summary
    python3 tests/reference/simplex_reference.py --check    # regenerate and compare, write nothing

The output is deterministic (no unseeded randomness, no timestamps).
"""

import json
import random
import sys
from pathlib import Path

import mpmath
from mpmath import mp, mpf

DPS = 60
mp.dps = DPS

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
OUT_REL = Path("tests") / "data" / "simplex_reference.json"
GENERATOR = "tests/reference/simplex_reference.py"

N_LIST = ["2", "3", "5", "10", "64", "1000", "12345", "1e6", "1e12", "1e40", "1e100", "1e200", "1e300"]
RHO_LIST = ["0.05", "0.3", "0.7", "0.95"]
MULTS = ["0.3", "0.9", "1", "1.1", "3"]
AQ = [("0", "1"), ("0.5", "1"), ("0", "2.5"), ("0.5", "2.5")]
NEG_RHO_N = ["2", "3", "5", "10"]

ETA_N = [2, 3, 4, 5, 7]
# (rho, gamma multiplier, alpha, q); rho "neg" means -0.5/(n-1).
ETA_COMBOS = [
    ("0.3", "1", "0", "1"),
    ("0.7", "0.9", "0.5", "2.5"),
    ("0.05", "3", "0", "2.5"),
    ("0.95", "0.3", "0.5", "1"),
    ("neg", "1", "0", "1"),
    ("0.3", "1.1", "0.5", "2.5"),
    ("0.7", "0.3", "0", "2.5"),
    ("neg", "3", "0.5", "1"),
]

FD_STEP = mpf("1e-20")
TOL_FORWARD = mpf("1e-40")
TOL_ETA = mpf("1e-25")
TOL_PREC = mpf("1e-45")
FORWARD_CHECK_MAX_N = 64


def fmt(x):
    return mpmath.nstr(x, 40)


def neg_rho_str(n_int):
    return repr(-0.5 / (n_int - 1))


def gamma_str(rho_s, mult_s):
    gc = 1 / (1 - mpf(rho_s))
    return repr(float(mpf(mult_s) * gc))


def f64_value(s):
    """Exact value of the f64 nearest to the decimal string s (what Rust's s.parse::<f64>() gives)."""
    return mpf(float(s))


def rel_err(a, b):
    if a == b:
        return mpf(0)
    return abs(a - b) / max(abs(a), abs(b))


# ---------------------------------------------------------------------------------------------
# Closed forms (THEORY 5)
# ---------------------------------------------------------------------------------------------

def closed_form(n, rho, gamma, alpha, q):
    """All arguments mpf. Returns dict of mpf values."""
    g = gamma * (1 - rho)                 # exponent gamma(1-rho)
    lnn = mpmath.log(n)
    npow = mpmath.exp(-g * lnn)           # n^(-gamma(1-rho))
    t = (n - 1) * npow
    p = 1 / (1 + t)
    r = npow / (1 + t)                    # = (1-p)/(n-1) exactly
    p_minus_r = -mpmath.expm1(-g * lnn) / (1 + t)
    a = alpha * mpmath.sqrt(q)
    c = p_minus_r + a
    s1 = 1 + (n - 1) * rho
    xx = c * c + 2 * c * r * s1 + r * r * n * s1
    lam = c * c / xx
    omc = (1 - rho) * lam
    cos_out = 1 - omc
    theta_out = 2 * mpmath.asin(mpmath.sqrt(omc / 2))
    lam_angle = theta_out / mpmath.acos(rho)
    return {
        "self_weight": p,
        "cos_out": cos_out,
        "lambda": lam,
        "lambda_angle": lam_angle,
        "one_minus_cos_out": omc,
    }


# ---------------------------------------------------------------------------------------------
# Explicit matrices, forward pass, Jacobians (small n only)
# ---------------------------------------------------------------------------------------------

def simplex_inputs(n_int, d, rho, q):
    """x_j = sqrt(q) (b e_j + c 1) in the first n coordinates, zero padded to d."""
    b = mpmath.sqrt(1 - rho)
    cc = (-b + mpmath.sqrt(b * b + n_int * rho)) / n_int
    sq = mpmath.sqrt(q)
    xs = []
    for j in range(n_int):
        v = [mpf(0)] * d
        for k in range(n_int):
            v[k] = sq * (cc + (b if k == j else 0))
        xs.append(v)
    # Gram check
    for i in range(n_int):
        yi = normalise(xs[i])
        assert rel_err(dot(xs[i], xs[i]), q) < mpf("1e-55"), "simplex |x|^2 check failed"
        for j in range(i + 1, n_int):
            yj = normalise(xs[j])
            assert abs(dot(yi, yj) - rho) < mpf("1e-55"), "simplex Gram check failed"
    return xs


def dot(u, v):
    return mpmath.fsum(a * b for a, b in zip(u, v))


def normalise(v):
    nv = mpmath.sqrt(dot(v, v))
    return [a / nv for a in v]


def forward(xs, beta, alpha):
    """Returns (ys, A, xprime) for the layer of THEORY 1."""
    n = len(xs)
    ys = [normalise(x) for x in xs]
    A = []
    for i in range(n):
        sc = [beta * dot(ys[i], ys[j]) for j in range(n)]
        mx = max(sc)
        e = [mpmath.exp(s - mx) for s in sc]
        z = mpmath.fsum(e)
        A.append([v / z for v in e])
    d = len(xs[0])
    xp = []
    for i in range(n):
        row = []
        for a in range(d):
            row.append(mpmath.fsum(A[i][j] * ys[j][a] for j in range(n)) + alpha * xs[i][a])
        xp.append(row)
    return ys, A, xp


def forward_observables(xs, beta, alpha, rho):
    n = len(xs)
    _, A, xp = forward(xs, beta, alpha)
    yp = [normalise(v) for v in xp]
    # symmetry: all self weights and all pairwise cosines equal
    p = A[0][0]
    for i in range(n):
        assert rel_err(A[i][i], p) < mpf("1e-50"), "forward: self weights differ"
    diff = [a - b for a, b in zip(yp[0], yp[1])]
    omc = dot(diff, diff) / 2          # 1 - <y0', y1'> without cancellation
    for i in range(n):
        for j in range(i + 1, n):
            dd = [a - b for a, b in zip(yp[i], yp[j])]
            assert rel_err(dot(dd, dd) / 2, omc) < mpf("1e-45"), "forward: pair cosines differ"
    cos_out = dot(yp[0], yp[1])
    return {
        "self_weight": p,
        "cos_out": cos_out,
        "lambda": omc / (1 - rho),
        "lambda_angle": 2 * mpmath.asin(mpmath.sqrt(omc / 2)) / mpmath.acos(rho),
        "one_minus_cos_out": omc,
    }


def jacobian_analytic(xs, beta, alpha):
    """J as an n x n array of d x d blocks, from THEORY 5b."""
    n, d = len(xs), len(xs[0])
    ys, A, _ = forward(xs, beta, alpha)
    norms = [mpmath.sqrt(dot(x, x)) for x in xs]
    m = [[mpmath.fsum(A[i][j] * ys[j][a] for j in range(n)) for a in range(d)] for i in range(n)]
    C = []
    for i in range(n):
        Ci = [[mpmath.fsum(A[i][j] * ys[j][a] * ys[j][b] for j in range(n)) - m[i][a] * m[i][b]
               for b in range(d)] for a in range(d)]
        C.append(Ci)
    P = []
    for k in range(n):
        P.append([[((1 if a == b else 0) - ys[k][a] * ys[k][b]) / norms[k] for b in range(d)]
                  for a in range(d)])
    J = []
    for i in range(n):
        Jrow = []
        for k in range(n):
            D = [[A[i][k] * ((1 if a == b else 0) + beta * (ys[k][a] - m[i][a]) * ys[i][b])
                  + (beta * C[i][a][b] if i == k else 0) for b in range(d)] for a in range(d)]
            blk = [[mpmath.fsum(D[a][e] * P[k][e][b] for e in range(d))
                    + (alpha if (i == k and a == b) else 0) for b in range(d)] for a in range(d)]
            Jrow.append(blk)
        J.append(Jrow)
    return J


def jacobian_fd(xs, beta, alpha, h=FD_STEP):
    """Central differences of the full forward map; same block layout as jacobian_analytic."""
    n, d = len(xs), len(xs[0])
    J = [[[[None] * d for _ in range(d)] for _ in range(n)] for _ in range(n)]
    for k in range(n):
        for b in range(d):
            xp_ = [list(x) for x in xs]
            xm_ = [list(x) for x in xs]
            xp_[k][b] += h
            xm_[k][b] -= h
            fp = forward(xp_, beta, alpha)[2]
            fm = forward(xm_, beta, alpha)[2]
            for i in range(n):
                for a in range(d):
                    J[i][k][a][b] = (fp[i][a] - fm[i][a]) / (2 * h)
    return J


def frob2(J):
    return mpmath.fsum(v * v for row in J for blk in row for line in blk for v in line)


def compare_jacobians(Ja, Jf, label):
    big = max(abs(v) for row in Ja for blk in row for line in blk for v in line)
    worst = max(abs(a - f) for ra, rf in zip(Ja, Jf) for ba, bf in zip(ra, rf)
                for la, lf in zip(ba, bf) for a, f in zip(la, lf))
    if not worst <= TOL_ETA * big:
        raise AssertionError("%s: analytic vs FD Jacobian differ: max |diff| %s, max |J| %s"
                             % (label, mpmath.nstr(worst, 5), mpmath.nstr(big, 5)))
    return worst / big


def eta_two_ways(xs, beta, alpha, label):
    n, d = len(xs), len(xs[0])
    Ja = jacobian_analytic(xs, beta, alpha)
    Jf = jacobian_fd(xs, beta, alpha)
    entry_err = compare_jacobians(Ja, Jf, label)
    eta_a = frob2(Ja) / (n * d)
    eta_f = frob2(Jf) / (n * d)
    e = rel_err(eta_a, eta_f)
    if not e <= TOL_ETA:
        raise AssertionError("%s: eta analytic %s vs FD %s (rel %s)"
                             % (label, fmt(eta_a), fmt(eta_f), mpmath.nstr(e, 5)))
    return eta_a, max(e, entry_err)


def generic_selftest():
    """Block formula vs FD on a random, non-simplex configuration (seeded)."""
    rng = random.Random(20251005)
    n, d = 4, 6
    xs = [[mpf(rng.uniform(-1, 1)) for _ in range(d)] for _ in range(n)]
    beta, alpha = mpf("2.3"), mpf("0.7")
    _, err = eta_two_ways(xs, beta, alpha, "generic self-test")
    return err


# ---------------------------------------------------------------------------------------------
# Point list
# ---------------------------------------------------------------------------------------------

def grid_specs():
    specs = []
    for i_n, n_s in enumerate(N_LIST):
        for i_m, mult in enumerate(MULTS):
            for i_r, rho_s in enumerate(RHO_LIST):
                alpha_s, q_s = AQ[(i_n + i_m + i_r) % 4]
                specs.append((n_s, rho_s, gamma_str(rho_s, mult), alpha_s, q_s, None))
    for i_n, n_s in enumerate(NEG_RHO_N):
        rho_s = neg_rho_str(int(n_s))
        for i_m, mult in enumerate(MULTS):
            for off in (0, 2):
                alpha_s, q_s = AQ[(i_n + i_m + off) % 4]
                specs.append((n_s, rho_s, gamma_str(rho_s, mult), alpha_s, q_s, None))
    return specs


def eta_specs():
    specs = []
    k = 0
    for n_int in ETA_N:
        for d in (n_int, n_int + 1, n_int + 3):
            for j in range(4):
                rho_s, mult, alpha_s, q_s = ETA_COMBOS[(4 * k + j) % len(ETA_COMBOS)]
                if rho_s == "neg":
                    rho_s = neg_rho_str(n_int)
                specs.append((str(n_int), rho_s, gamma_str(rho_s, mult), alpha_s, q_s, str(d)))
            k += 1
    return specs


FIELDS = ["self_weight", "cos_out", "lambda", "lambda_angle", "one_minus_cos_out"]


def small_int(n_s):
    v = f64_value(n_s)
    if v <= FORWARD_CHECK_MAX_N and v == int(v):
        return int(v)
    return None


def build():
    stats = {"forward_checked": 0, "forward_max_rel": mpf(0), "eta_max_rel": mpf(0),
             "prec_max_rel": mpf(0), "f64_input_max_rel": {f: mpf(0) for f in FIELDS},
             "f64_input_worst": {f: None for f in FIELDS}}
    stats["generic_selftest_rel"] = generic_selftest()
    points = []
    for spec in grid_specs() + eta_specs():
        n_s, rho_s, gamma_s, alpha_s, q_s, d_s = spec
        strs = (n_s, rho_s, gamma_s, alpha_s, q_s)
        n, rho, gamma, alpha, q = (f64_value(s) for s in strs)
        cf = closed_form(n, rho, gamma, alpha, q)

        # precision check: same formulas at 100 digits
        with mp.workdps(100):
            hi = closed_form(*(f64_value(s) for s in strs))
        for f in FIELDS:
            e = rel_err(cf[f], hi[f])
            assert e < TOL_PREC, "precision check failed for %s at %s: %s" % (f, spec, e)
            stats["prec_max_rel"] = max(stats["prec_max_rel"], e)

        # diagnostic: inputs taken as exact decimals instead of their f64 values
        lo = closed_form(*(mpf(s) for s in strs))
        for f in FIELDS:
            e = rel_err(cf[f], lo[f])
            if e > stats["f64_input_max_rel"][f]:
                stats["f64_input_max_rel"][f] = e
                stats["f64_input_worst"][f] = spec

        # forward-pass cross-check on an explicit simplex matrix
        n_int = small_int(n_s)
        beta = gamma * mpmath.log(n)
        if n_int is not None:
            d = int(d_s) if d_s is not None else n_int
            xs = simplex_inputs(n_int, d, rho, q)
            fw = forward_observables(xs, beta, alpha, rho)
            for f in FIELDS:
                e = rel_err(cf[f], fw[f])
                if not e < TOL_FORWARD:
                    raise AssertionError("forward check failed for %s at %s: closed %s, forward %s"
                                         % (f, spec, fmt(cf[f]), fmt(fw[f])))
                stats["forward_max_rel"] = max(stats["forward_max_rel"], e)
            stats["forward_checked"] += 1

        eta = None
        if d_s is not None:
            eta, e = eta_two_ways(xs, beta, alpha, "eta point %s" % (spec,))
            stats["eta_max_rel"] = max(stats["eta_max_rel"], e)

        points.append({
            "n": n_s,
            "rho": rho_s,
            "gamma": gamma_s,
            "alpha": alpha_s,
            "q": q_s,
            "d": d_s,
            "self_weight": fmt(cf["self_weight"]),
            "cos_out": fmt(cf["cos_out"]),
            "lambda": fmt(cf["lambda"]),
            "lambda_angle": fmt(cf["lambda_angle"]),
            "one_minus_cos_out": fmt(cf["one_minus_cos_out"]),
            "eta": fmt(eta) if eta is not None else None,
        })
    doc = {"generator": GENERATOR, "dps": DPS, "points": points}
    text = json.dumps(doc, indent=2) + "\n"
    return text, points, stats


def main(argv):
    check = "--check" in argv[1:]
    text, points, stats = build()
    out = REPO_ROOT / OUT_REL
    print("points: %d (eta points: %d)" % (len(points), sum(p["eta"] is not None for p in points)))
    print("forward-pass cross-checks: %d, max rel diff %s"
          % (stats["forward_checked"], mpmath.nstr(stats["forward_max_rel"], 3)))
    print("eta analytic vs FD: max rel diff %s; generic self-test %s"
          % (mpmath.nstr(stats["eta_max_rel"], 3), mpmath.nstr(stats["generic_selftest_rel"], 3)))
    print("60 vs 100 digits: max rel diff %s" % mpmath.nstr(stats["prec_max_rel"], 3))
    print("diagnostic: rel change if inputs were exact decimals instead of f64 (max per field):")
    for f in FIELDS:
        print("  %-18s %s  at %s" % (f, mpmath.nstr(stats["f64_input_max_rel"][f], 3),
                                     stats["f64_input_worst"][f]))
    if check:
        old = out.read_text() if out.exists() else None
        if old != text:
            print("CHECK FAILED: %s differs from the regenerated output" % OUT_REL)
            return 1
        print("check ok: %s is up to date" % OUT_REL)
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print("wrote %s" % OUT_REL)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
