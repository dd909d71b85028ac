#!/usr/bin/env python3
"""High-precision reference values for the simplex closed forms, inputs read as EXACT decimals.

What it computes
----------------
The companion of tests/reference/simplex_reference.py (which reads every input as the f64 nearest to
its decimal string) for the arbitrary-precision backends of the Rust side.  Those backends parse the
decimal strings at 256+ bits (input error ~1e-77 relative), so here every input is the exact decimal
number it spells: n = "1e100000" is 10^100000, rho = "0.7" is 7/10, gamma = "1.42857..." (45
significant digits) is that decimal.  The one non-numeric input is gamma = "crit", meaning exactly
gamma_c = 1/(1 - rho) (rho the exact decimal), i.e. gamma(1 - rho) = 1 exactly.

For each point (n tokens, |x_i|^2 = q, <y_i, y_j> = rho for i != j, beta = gamma ln n, residual
weight alpha; d the embedding dimension for eta points) it evaluates the THEORY.md section 5 forms

    g = gamma(1-rho),  N = n^(-g) = exp(-g ln n),  t = (n-1) N
    p = 1/(1+t)        (self_weight)        1-p = t/(1+t)        r = (1-p)/(n-1) = N/(1+t)
    p - r = -expm1(-g ln n)/(1+t)           1-p-r = (n-2) N/(1+t)
    c = p - r + alpha sqrt(q),  s1 = 1 + (n-1) rho,  |x'|^2 = c^2 + 2 c r s1 + r^2 n s1
    lambda = c^2/|x'|^2,  one_minus_cos_out = (1-rho) lambda,  cos_out = 1 - one_minus_cos_out
    lambda_angle = 2 asin(sqrt(one_minus_cos_out/2)) / acos(rho)

(no difference of nearly equal numbers is ever formed, so n = 1e100000 with p ~ 1e-70000 or
1 - p ~ 1e-200000 is as accurate as n = 2), and for eta points the closed form of
eta = ||dX'/dX||_F^2 / (n d) (section 5b): with beta = gamma ln n,
    h      = (1-r)^2 + p^2 + r(1-p-r)
    trCP   = (1-rho)[rho p (1-p) + (1-p)(1-r)]
    cpsq   = (1-rho)^2 [(1-p) r h + rho p^2 ((1-p)^2 + (1-p) r)]
    E_off  = (d-1) - 2 beta (1-rho)(rho(1-r) + p) + beta^2 (1-rho)(1-rho^2) h
    E_diag = p^2 (d-1) + 2 p beta trCP + beta^2 cpsq
    eta    = [(1-p) r E_off + E_diag]/(d q) + 2 alpha [p (d-1) + beta trCP]/(d sqrt q) + alpha^2.

Values are computed at mp.dps = 120 and emitted with 40 significant digits (mpmath.nstr(x, 40),
correctly rounded; scientific notation such as "1.234e-200000" when needed -- most values at large n
lie far outside the f64 range, so parse mantissa and exponent).

Checks (the script fails with AssertionError if any fails)
---------------------------------------------------------
  * Precision: every point is recomputed from its strings at mp.dps = 160; all emitted values must
    agree to 1e-60 relative, and their 40-digit strings must be identical (so the rounding to 40
    digits is settled, not only the value).
  * eta closed form vs the analytic block-formula Jacobian of THEORY 5b (simplex_reference.py's
    jacobian_analytic on explicit simplex matrices; that block formula is itself checked against
    central finite differences by simplex_reference.py) for n in {2, 3, 4, 5}, d in {n, n+2}, several
    (rho, gamma, alpha, q) including gamma = crit and the 40-digit rho: agreement to 1e-40 relative.
    One point is additionally checked against central finite differences (1e-25).
  * Emitted points with n <= 7 (n = 2, 7): forward observables against a brute-force forward pass on an
    explicit simplex matrix (simplex_reference.py's forward_observables), 1e-40 relative; eta points
    with n <= 7 and d <= 20 against the block-formula Jacobian, 1e-40 relative.
  * Sanity: THEORY 5 checked value eta(n = 1e6, rho = 0.3, gamma = crit, alpha = 0, q = 1, d = n)
    = 0.2500, and at n = 1e100000 the T1/T3 limits are reached.
A diagnostic is printed: the largest relative change of any output when n, rho or gamma is perturbed
by 1e-77 relative (the Rust 256-bit parse error), estimated by perturbing by 1e-70 and scaling.

Points (about 270): n in {2, 7, 1e6, 1e40, 1e300, 1e1000, 1e5000, 1e20000, 1e100000};
rho in {0.05, 0.3, 0.7, 0.95} with gamma in {0.3, 0.9, 1, 1.1, 3} x gamma_c (decimal strings of 45
significant digits, nstr(mult/(1-rho), 45); these are NOT exactly mult x gamma_c except where the
decimal terminates, e.g. 20.0 at rho = 0.95) and "crit"; the 40-digit rho
0.3141592653589793238462643383279502884197 with gamma in {0.9 x gamma_c, crit, 1.1 x gamma_c};
(alpha, q) rotating over {0, 0.5} x {1, 2.5}.  Eta points: n in {2, 7, 1e6, 1e40, 1e1000, 1e100000},
d in {n, 10 n} (d written as a decimal string, e.g. "1e1001"), alpha in {0, 0.5}, (rho, gamma, q)
rotating over a fixed list.

Output: tests/data/simplex_reference_big.json (relative to the repository root, located from this
file's position), same per-point schema as simplex_reference.json: n, rho, gamma, alpha, q, d (null
unless an eta point), self_weight, cos_out, lambda, lambda_angle, one_minus_cos_out, eta (null unless
an eta point); inputs are the exact strings used.  Top level: generator, dps, check_dps,
input_semantics, points.

How to run (needs only Python 3 and mpmath; runs in well under a minute):

    python3 tests/reference/simplex_reference_big.py            # writes the JSON, prints a summary
    python3 tests/reference/simplex_reference_big.py --check    # regenerate and compare, write nothing

The output is deterministic.  It imports helpers from simplex_reference.py (same directory) but does
not run it or touch its output.
"""

import json
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True            # keep tests/reference/ free of __pycache__

import mpmath                             # noqa: E402
from mpmath import mp, mpf                # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import simplex_reference as ref           # noqa: E402  (sets mp.dps = 60 on import; reset below)

DPS = 120
CHECK_DPS = 160
mp.dps = DPS

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
OUT_REL = Path("tests") / "data" / "simplex_reference_big.json"
GENERATOR = "tests/reference/simplex_reference_big.py"

N_LIST = ["2", "7", "1e6", "1e40", "1e300", "1e1000", "1e5000", "1e20000", "1e100000"]
RHO_LIST = ["0.05", "0.3", "0.7", "0.95"]
RHO40 = "0.3141592653589793238462643383279502884197"
MULTS = ["0.3", "0.9", "1", "1.1", "3", "crit"]
RHO40_MULTS = ["0.9", "crit", "1.1"]
AQ = [("0", "1"), ("0.5", "1"), ("0", "2.5"), ("0.5", "2.5")]

ETA_N = ["2", "7", "1e6", "1e40", "1e1000", "1e100000"]
# (rho, gamma multiplier or "crit", q) for eta points, rotating
ETA_COMBOS = [
    ("0.3", "crit", "1"),
    ("0.7", "0.9", "2.5"),
    ("0.05", "3", "1"),
    ("0.95", "0.3", "2.5"),
    (RHO40, "1.1", "1"),
    ("0.3", "1", "2.5"),
    (RHO40, "crit", "2.5"),
    ("0.7", "1.1", "1"),
]

# eta closed form vs block-formula Jacobian: (n, d offset, rho, mult, alpha, q)
ETA_VERIFY = [
    (2, 0, "0.3", "crit", "0", "1"),
    (2, 2, "0.95", "3", "0.5", "2.5"),
    (3, 0, RHO40, "crit", "0.5", "1"),
    (3, 2, "0.05", "0.3", "0", "2.5"),
    (3, 0, "-0.25", "1.1", "0.5", "2.5"),
    (4, 0, "0.7", "1.1", "0", "1"),
    (4, 2, RHO40, "0.9", "0.5", "2.5"),
    (4, 2, "0.3", "crit", "0.5", "1"),
    (5, 0, "0.95", "0.9", "0.5", "1"),
    (5, 2, "0.7", "crit", "0", "2.5"),
    (5, 0, "0.05", "3", "0", "1"),
]
FD_VERIFY = (3, 1, "0.3", "1.1", "0.5", "2.5")

TOL_PREC = mpf("1e-60")
TOL_VERIFY = mpf("1e-40")
TOL_FD = mpf("1e-25")
PERTURB = mpf("1e-70")
RUST_INPUT_ERR = mpf("1e-77")

FIELDS = ["self_weight", "cos_out", "lambda", "lambda_angle", "one_minus_cos_out"]
ALL_FIELDS = FIELDS + ["eta"]


def fmt(x):
    return mpmath.nstr(x, 40)


rel_err = ref.rel_err


def gamma_str(rho_s, mult_s):
    """The gamma input string: 'crit', or mult/(1-rho) to 45 significant digits."""
    if mult_s == "crit":
        return "crit"
    return mpmath.nstr(mpf(mult_s) / (1 - mpf(rho_s)), 45)


def times_ten(n_s):
    """Decimal string of 10*n: '2' -> '20', '1e6' -> '1e7'."""
    if "e" in n_s:
        man, ex = n_s.split("e")
        return "%se%d" % (man, int(ex) + 1)
    return str(int(n_s) * 10)


def parse(n_s, rho_s, gamma_s, alpha_s, q_s, d_s):
    """Exact-decimal inputs at the current precision: (n, rho, gamma, g, alpha, q, d)."""
    n, rho, alpha, q = mpf(n_s), mpf(rho_s), mpf(alpha_s), mpf(q_s)
    if gamma_s == "crit":
        gamma, g = 1 / (1 - rho), mpf(1)      # gamma(1-rho) = 1 exactly
    else:
        gamma = mpf(gamma_s)
        g = gamma * (1 - rho)
    d = mpf(d_s) if d_s is not None else None
    return n, rho, gamma, g, alpha, q, d


# ---------------------------------------------------------------------------------------------
# Closed forms (THEORY 5, 5b)
# ---------------------------------------------------------------------------------------------

def closed_form(n, rho, gamma, g, alpha, q, d=None):
    """All arguments mpf (g = gamma(1-rho), passed separately so that 'crit' is exact)."""
    lnn = mpmath.log(n)
    e = g * lnn
    npow = mpmath.exp(-e)                 # n^(-g)
    t = (n - 1) * npow
    p = 1 / (1 + t)
    omp = t / (1 + t)                     # 1 - p
    r = npow / (1 + t)                    # (1-p)/(n-1)
    p_minus_r = -mpmath.expm1(-e) / (1 + t)
    ompr = (n - 2) * npow / (1 + t)       # 1 - p - r
    sq = mpmath.sqrt(q)
    c = p_minus_r + alpha * sq
    s1 = 1 + (n - 1) * rho
    xx = c * c + 2 * c * r * s1 + r * r * n * s1
    lam = c * c / xx
    omc = (1 - rho) * lam
    out = {
        "self_weight": p,
        "cos_out": 1 - omc,
        "lambda": lam,
        "lambda_angle": 2 * mpmath.asin(mpmath.sqrt(omc / 2)) / mpmath.acos(rho),
        "one_minus_cos_out": omc,
        "eta": None,
    }
    if d is not None:
        beta = gamma * lnn
        omr = 1 - rho
        h = (1 - r) ** 2 + p * p + r * ompr
        trcp = omr * (rho * p * omp + omp * (1 - r))
        cpsq = omr ** 2 * (omp * r * h + rho * p * p * (omp * omp + omp * r))
        e_off = (d - 1) - 2 * beta * omr * (rho * (1 - r) + p) + beta ** 2 * omr * (1 - rho * rho) * h
        e_diag = p * p * (d - 1) + 2 * p * beta * trcp + beta ** 2 * cpsq
        out["eta"] = ((omp * r * e_off + e_diag) / (d * q)
                      + 2 * alpha * (p * (d - 1) + beta * trcp) / (d * sq) + alpha * alpha)
    return out


def evaluate(spec):
    return closed_form(*parse(*spec))


# ---------------------------------------------------------------------------------------------
# Verification of the eta closed form against explicit Jacobians (small n)
# ---------------------------------------------------------------------------------------------

def block_eta(n_int, d_int, rho, gamma, alpha, q):
    xs = ref.simplex_inputs(n_int, d_int, rho, q)
    beta = gamma * mpmath.log(n_int)
    J = ref.jacobian_analytic(xs, beta, alpha)
    return ref.frob2(J) / (n_int * d_int)


def verify_eta_formula():
    worst = mpf(0)
    for n_int, doff, rho_s, mult, alpha_s, q_s in ETA_VERIFY:
        d_int = n_int + doff
        spec = (str(n_int), rho_s, gamma_str(rho_s, mult), alpha_s, q_s, str(d_int))
        n, rho, gamma, g, alpha, q, d = parse(*spec)
        closed = closed_form(n, rho, gamma, g, alpha, q, d)["eta"]
        blk = block_eta(n_int, d_int, rho, gamma, alpha, q)
        e = rel_err(closed, blk)
        assert e < TOL_VERIFY, "eta closed form vs block Jacobian at %s: %s vs %s (rel %s)" % (
            spec, fmt(closed), fmt(blk), mpmath.nstr(e, 5))
        worst = max(worst, e)
    # one independent finite-difference check (block formula itself, via the existing helper)
    n_int, doff, rho_s, mult, alpha_s, q_s = FD_VERIFY
    d_int = n_int + doff
    spec = (str(n_int), rho_s, gamma_str(rho_s, mult), alpha_s, q_s, str(d_int))
    n, rho, gamma, g, alpha, q, d = parse(*spec)
    closed = closed_form(n, rho, gamma, g, alpha, q, d)["eta"]
    xs = ref.simplex_inputs(n_int, d_int, rho, q)
    eta_fd = ref.frob2(ref.jacobian_fd(xs, gamma * mpmath.log(n_int), alpha)) / (n_int * d_int)
    e_fd = rel_err(closed, eta_fd)
    assert e_fd < TOL_FD, "eta closed form vs finite differences at %s: rel %s" % (spec, e_fd)
    return worst, e_fd


def sanity_checks():
    # THEORY 5: at n = 1e6, gamma = gamma_c, rho = 0.3, alpha = 0, d = n, q = 1: eta = 0.2500
    eta = evaluate(("1e6", "0.3", "crit", "0", "1", "1e6"))["eta"]
    assert mpmath.nstr(eta, 4) == "0.25", "THEORY 5 checked value eta = 0.2500 not reproduced: %s" % eta
    # n = 1e100000: T1 limits (alpha = 0): cos_out -> 1, 4 rho/(1+3 rho), rho; T3: eta -> 0,
    # (1-1/d)/(4q), (1-1/d)/q.  The approach is polynomial in n, so they hold to all computed digits.
    rho_s = "0.3"
    rho = mpf(rho_s)
    big = "1e100000"
    lo = evaluate((big, rho_s, gamma_str(rho_s, "0.9"), "0", "1", big))
    cr = evaluate((big, rho_s, "crit", "0", "2.5", big))
    hi = evaluate((big, rho_s, gamma_str(rho_s, "1.1"), "0", "1", big))
    tol = mpf("1e-100")                   # the approach is ~n^(-0.1) or faster; dps-limited here
    assert abs(lo["cos_out"] - 1) < tol and lo["eta"] < tol
    assert rel_err(cr["cos_out"], 4 * rho / (1 + 3 * rho)) < tol
    assert rel_err(cr["eta"], mpf(1) / (4 * mpf("2.5"))) < tol
    assert rel_err(hi["cos_out"], rho) < tol and rel_err(hi["eta"], 1) < tol


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
        for i_m, mult in enumerate(RHO40_MULTS):
            alpha_s, q_s = AQ[(i_n + 2 * i_m + 1) % 4]
            specs.append((n_s, RHO40, gamma_str(RHO40, mult), alpha_s, q_s, None))
    return specs


def eta_specs():
    specs = []
    k = 0
    for n_s in ETA_N:
        for d_s in (n_s, times_ten(n_s)):
            for alpha_s in ("0", "0.5"):
                rho_s, mult, q_s = ETA_COMBOS[k % len(ETA_COMBOS)]
                specs.append((n_s, rho_s, gamma_str(rho_s, mult), alpha_s, q_s, d_s))
                k += 1
    return specs


def small_int(s, limit):
    v = mpf(s)
    if v <= limit and v == int(v):
        return int(v)
    return None


# ---------------------------------------------------------------------------------------------

def build():
    stats = {"prec_max_rel": mpf(0), "forward_checked": 0, "forward_max_rel": mpf(0),
             "eta_block_checked": 0, "eta_block_max_rel": mpf(0),
             "cond_max": {f: mpf(0) for f in ALL_FIELDS}, "cond_worst": {f: None for f in ALL_FIELDS}}
    stats["eta_verify_max_rel"], stats["eta_fd_rel"] = verify_eta_formula()
    sanity_checks()
    points = []
    for spec in grid_specs() + eta_specs():
        n_s, rho_s, gamma_s, alpha_s, q_s, d_s = spec
        args = parse(*spec)
        cf = closed_form(*args)
        keys = FIELDS + (["eta"] if d_s is not None else [])
        strs = {f: fmt(cf[f]) for f in keys}

        # precision check: everything again from the strings at CHECK_DPS digits
        with mp.workdps(CHECK_DPS):
            hi = evaluate(spec)
            for f in keys:
                e = rel_err(cf[f], hi[f])
                assert e < TOL_PREC, "precision check failed for %s at %s: rel %s" % (f, spec, e)
                assert fmt(hi[f]) == strs[f], "40-digit rounding unsettled for %s at %s" % (f, spec)
                stats["prec_max_rel"] = max(stats["prec_max_rel"], e)

        # diagnostic: sensitivity to a relative input error (n, rho, gamma)
        n, rho, gamma, g, alpha, q, d = args
        one = 1 + PERTURB
        for pert in ((n * one, rho, gamma, g, alpha, q, d),
                     (n, rho * one, gamma, (g / (1 - rho)) * (1 - rho * one), alpha, q, d),
                     (n, rho, gamma * one, g * one, alpha, q, d)):
            pc = closed_form(*pert)
            for f in keys:
                cond = rel_err(cf[f], pc[f]) / PERTURB
                if cond > stats["cond_max"][f]:
                    stats["cond_max"][f] = cond
                    stats["cond_worst"][f] = spec

        # brute-force cross-checks on explicit matrices (n = 2, 7)
        n_int = small_int(n_s, 7)
        if n_int is not None:
            d_int = int(d_s) if d_s is not None else n_int
            if d_int <= 20:
                xs = ref.simplex_inputs(n_int, d_int, rho, q)
                fw = ref.forward_observables(xs, gamma * mpmath.log(n), alpha, rho)
                for f in FIELDS:
                    e = rel_err(cf[f], fw[f])
                    assert e < TOL_VERIFY, "forward check failed for %s at %s: %s vs %s" % (
                        f, spec, strs[f], fmt(fw[f]))
                    stats["forward_max_rel"] = max(stats["forward_max_rel"], e)
                stats["forward_checked"] += 1
                if d_s is not None:
                    blk = block_eta(n_int, d_int, rho, gamma, alpha, q)
                    e = rel_err(cf["eta"], blk)
                    assert e < TOL_VERIFY, "eta block check failed at %s: %s vs %s" % (
                        spec, strs["eta"], fmt(blk))
                    stats["eta_block_max_rel"] = max(stats["eta_block_max_rel"], e)
                    stats["eta_block_checked"] += 1

        points.append({
            "n": n_s,
            "rho": rho_s,
            "gamma": gamma_s,
            "alpha": alpha_s,
            "q": q_s,
            "d": d_s,
            "self_weight": strs["self_weight"],
            "cos_out": strs["cos_out"],
            "lambda": strs["lambda"],
            "lambda_angle": strs["lambda_angle"],
            "one_minus_cos_out": strs["one_minus_cos_out"],
            "eta": strs.get("eta"),
        })
    doc = {
        "generator": GENERATOR,
        "dps": DPS,
        "check_dps": CHECK_DPS,
        "input_semantics": "exact decimal; gamma \"crit\" = 1/(1-rho) exactly",
        "points": points,
    }
    return json.dumps(doc, indent=2) + "\n", points, stats


def main(argv):
    check = "--check" in argv[1:]
    t0 = time.time()
    text, points, stats = build()
    out = REPO_ROOT / OUT_REL
    print("points: %d (eta points: %d, gamma = crit: %d)"
          % (len(points), sum(p["eta"] is not None for p in points),
             sum(p["gamma"] == "crit" for p in points)))
    print("eta closed form vs block-formula Jacobian (n = 2..5): max rel diff %s; vs FD %s"
          % (mpmath.nstr(stats["eta_verify_max_rel"], 3), mpmath.nstr(stats["eta_fd_rel"], 3)))
    print("emitted points vs explicit matrices: forward %d (max rel %s), eta %d (max rel %s)"
          % (stats["forward_checked"], mpmath.nstr(stats["forward_max_rel"], 3),
             stats["eta_block_checked"], mpmath.nstr(stats["eta_block_max_rel"], 3)))
    print("%d vs %d digits: max rel diff %s; all 40-digit strings identical"
          % (DPS, CHECK_DPS, mpmath.nstr(stats["prec_max_rel"], 3)))
    print("diagnostic: max rel output change for a %s rel input error in n, rho or gamma:"
          % mpmath.nstr(RUST_INPUT_ERR, 1))
    for f in ALL_FIELDS:
        print("  %-18s %s  at %s" % (f, mpmath.nstr(stats["cond_max"][f] * RUST_INPUT_ERR, 3),
                                     stats["cond_worst"][f]))
    print("time: %.1f s" % (time.time() - t0))
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
