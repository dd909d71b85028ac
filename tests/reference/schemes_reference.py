#!/usr/bin/env python3
"""Reference values for `critscale schemes` (issue 14): logit multipliers and crossings.

Every deployed rule multiplies the plain logits by m(n), beta_n = beta0 m(n), gamma(n) =
beta_n / ln n, compared with gamma_c = 1/(1 - rho) (THEORY sections 7 and 11). This script reads
the same config files as the test (crates/schemes/fixtures/, tests/data/configs/) with its own
code, evaluates m(n) from the formulas of THEORY section 11 in mpmath at DPS digits, and finds
every crossing of gamma_c for n in [2, n_max] by its own method:

* the range is cut at every point where the formula of m changes (L for the threshold rules,
  every jump of a step rule, enumerated one by one: the step cases keep n_max small);
* each piece is scanned on a uniform grid in x = ln n of SCAN_STEP (finer than any pair of
  crossings in the cases below; the close pair of dynamic YaRN is 0.012 apart in x), and every
  sign change is refined by mpmath's bisection-safe solver ('anderson') to DPS digits;
* at a jump, a sign change between the left limit and the value at the jump is a crossing at
  the jump's n.

Cases are (label, source, beta0, rho, lengths, n_max), source a config path or a `--rule` text.
Output: tests/data/schemes_reference.json, multipliers and crossings as decimal strings with 30
significant digits. Check: every case is recomputed at CHECK_DPS and must agree to 1e-25.

Run (Python 3 with mpmath; about a minute):
    python3 tests/reference/schemes_reference.py          # writes tests/data/schemes_reference.json
    python3 tests/reference/schemes_reference.py --check  # recompute and compare, write nothing
"""

import json
import sys
from pathlib import Path

import mpmath
from mpmath import mp, mpf

DPS = 40
CHECK_DPS = 50
SCAN_STEP = mpf("0.0005")
ROOT = Path(__file__).resolve().parent.parent.parent
OUT = ROOT / "tests" / "data" / "schemes_reference.json"

LENGTHS = ["2", "1000", "4096", "8192", "16385", "1e5", "1e8"]
CASES = [
    ("qwen3 yarn factor 4", "crates/schemes/fixtures/qwen3-8b-yarn4.json", "10", "0.3", LENGTHS, "1e12"),
    ("gpt-oss yarn factor 32", "crates/schemes/fixtures/gpt-oss-20b.json", "10", "0.3", LENGTHS, "1e12"),
    ("deepseek-v3 mla", "crates/schemes/fixtures/deepseek-v3.json", "10", "0.3", LENGTHS, "1e12"),
    ("llama4 scout step", "crates/schemes/fixtures/llama4-scout.json", "10", "0.155", LENGTHS, "1e7"),
    ("phi-3 longrope", "crates/schemes/fixtures/phi3-mini-128k.json", "10", "0.3", LENGTHS, "1e12"),
    ("qwen v1 logn", "crates/schemes/fixtures/qwen-7b-v1.json", "10", "0.3", LENGTHS, "1e12"),
    ("llama3.1 frequencies only", "crates/schemes/fixtures/llama3.1-8b.json", "10", "0.3", LENGTHS, "1e12"),
    ("mistral llama_4_scaling_beta", "tests/data/configs/mistral-scaling-beta.json", "10", "0.05", LENGTHS, "1e7"),
    ("dynamic yarn close pair", "yarn-dynamic:train_len=4096", "10", "0.1687", LENGTHS, "1e12"),
    ("ssmax with bias", "ssmax:s=0.43,b=1", "3", "0.3", LENGTHS, "1e12"),
    ("constant", "constant:factor=1.5", "10", "0.3", LENGTHS, "1e12"),
]


def g_mscale(scale, mscale, c=mpf("0.1")):
    """HF get_mscale: c mscale ln(scale) + 1 for scale > 1, else 1."""
    return mpf(1) if scale <= 1 else c * mscale * mpmath.log(scale) + 1


def yarn_a(block):
    """The YaRN attention factor A (on cos and sin) of a rope block."""
    f = mpf(str(block["factor"]))
    if block.get("attention_factor") is not None:
        return mpf(str(block["attention_factor"]))
    ms, md = block.get("mscale"), block.get("mscale_all_dim")
    if ms and md:
        return g_mscale(f, mpf(str(ms))) / g_mscale(f, mpf(str(md)))
    return g_mscale(f, 1)


def constant(value):
    return {"kind": "smooth", "m": lambda n: value, "breaks": []}


def steps(offset, period, c, a):
    """m(n) = c (1 + a ln(1 + floor((n - offset)/period)))."""
    def m(n):
        j = mpmath.floor((n - offset) / period)
        return c * (1 + a * mpmath.log(1 + j))
    return {"kind": "steps", "m": m, "offset": offset, "period": period}


def from_config(path):
    """(layers, rule) pairs of a config, read with this script's own code."""
    top = json.loads((ROOT / path).read_text())
    cfg = top.get("text_config", top)
    model = cfg.get("model_type") or top.get("model_type") or ""
    rope = cfg.get("rope_parameters") or cfg.get("rope_scaling")
    kind = (rope or {}).get("rope_type") or (rope or {}).get("type") or "default"
    if cfg.get("use_logn_attn"):
        ell = mpf(str(cfg["seq_length"]))
        return [("all layers", {"kind": "smooth",
                                "m": lambda n: mpmath.log(n) / mpmath.log(ell) if n > ell else mpf(1),
                                "breaks": [ell]})]
    if kind in ("default", "linear", "dynamic", "ntk", "llama3"):
        rope_rule = constant(mpf(1))
    elif kind == "yarn":
        a = yarn_a(rope)
        if model.startswith("deepseek_v") or "kv_lora_rank" in cfg:
            s = g_mscale(mpf(str(rope["factor"])), mpf(str(rope.get("mscale_all_dim", 0))))
            rope_rule = constant((a * s) ** 2)
        else:
            rope_rule = constant(a * a)
    elif kind in ("longrope", "su"):
        ell = mpf(str(rope.get("original_max_position_embeddings") or cfg["original_max_position_embeddings"]))
        s = mpf(str(cfg["max_position_embeddings"])) / ell
        rope_rule = constant(1 + mpmath.log(s) / mpmath.log(ell))
    else:
        raise ValueError(kind)
    if rope and rope.get("llama_4_scaling_beta") is not None:
        ell = mpf(str(rope["original_max_position_embeddings"]))
        c = yarn_a(rope) ** 2 if kind == "yarn" else mpf(1)
        return [("all layers", steps(mpf(1), ell, c, mpf(str(rope["llama_4_scaling_beta"]))))]
    tuning = cfg.get("attn_temperature_tuning", model.startswith("llama4"))
    if tuning:
        f = mpf(str(cfg.get("floor_scale", 8192)))
        a = mpf(str(cfg.get("attn_scale", "0.1")))
        return [("NoPE layers", steps(mpf(0), f, mpf(1), a)), ("RoPE layers", rope_rule)]
    return [("all layers", rope_rule)]


def from_rule(text):
    name, _, rest = text.partition(":")
    keys = {k: mpf(v) for k, v in (p.split("=") for p in rest.split(",") if p)}
    if name == "yarn-dynamic":
        ell, c = keys["train_len"], keys.get("coefficient", mpf("0.1"))
        return [(name, {"kind": "smooth", "breaks": [ell],
                        "m": lambda n: (c * mpmath.log(n / ell) + 1) ** 2 if n > ell else mpf(1)})]
    if name == "ssmax":
        s, b = keys["s"], keys.get("b", mpf(0))
        return [(name, {"kind": "smooth", "breaks": [], "m": lambda n: s * mpmath.log(n) + b})]
    if name == "constant":
        return [(name, constant(keys["factor"]))]
    raise ValueError(name)


def gamma(rule, beta0, n):
    return beta0 * rule["m"](n) / mpmath.log(n)


def scan_piece(h, x0, x1):
    """Roots of h on [x0, x1] (h continuous there), from sign changes on a uniform grid."""
    roots = []
    count = max(2, int(mpmath.ceil((x1 - x0) / SCAN_STEP)))
    xs = [x0 + (x1 - x0) * k / count for k in range(count + 1)]
    hs = [h(x) for x in xs]
    for k in range(count):
        if hs[k] == 0 and 0 < k:
            if hs[k - 1] * hs[k + 1] < 0:
                roots.append((xs[k], "down" if hs[k - 1] > 0 else "up"))
        elif hs[k] * hs[k + 1] < 0:
            r = mpmath.findroot(h, (xs[k], xs[k + 1]), solver="anderson")
            roots.append((r, "down" if hs[k] > 0 else "up"))
    return roots


def crossings(rule, beta0, gc, n_max):
    out = []
    lo, hi = mpf(2), mpf(n_max)
    if rule["kind"] == "smooth":
        cuts = sorted([lo, hi] + [b for b in rule["breaks"] if lo < b < hi])
        h = lambda x: gamma(rule, beta0, mpmath.exp(x)) - gc
        for a, b in zip(cuts, cuts[1:]):
            for r, d in scan_piece(h, mpmath.log(a), mpmath.log(b)):
                out.append((mpmath.exp(r), d, False))
        # Zeros exactly at a cut between opposite sides.
        for b in cuts[1:-1]:
            if gamma(rule, beta0, b) == gc:
                raise AssertionError("exact zero at a cut: not in the cases")
        return out
    off, per = rule["offset"], rule["period"]
    j = mpmath.floor((lo - off) / per)
    start = lo
    while start < hi:
        end = min((j + 1) * per + off, hi)
        value = rule["m"](start)  # constant on the piece
        h = lambda x, v=value: beta0 * v / x - gc
        # gamma is beta0 v / x on [start, end): the left limit at the end is h(ln end).
        for r, d in scan_piece(h, mpmath.log(start), mpmath.log(end)):
            out.append((mpmath.exp(r), d, False))
        if end < hi:
            left = beta0 * value / mpmath.log(end) - gc
            right = gamma(rule, beta0, end) - gc
            if left < 0 < right:
                out.append((end, "up", True))
            elif right < 0 < left:
                out.append((end, "down", True))
        start, j = end, j + 1
    return out


def case(label, source, beta0_s, rho_s, lengths, n_max):
    beta0, rho = mpf(beta0_s), mpf(rho_s)
    gc = 1 / (1 - rho)
    entries = from_config(source) if source.endswith(".json") else from_rule(source)
    result = []
    for layers, rule in entries:
        result.append({
            "layers": layers,
            "multipliers": {n: mpmath.nstr(rule["m"](mpf(n)), 30) for n in lengths},
            "gammas": {n: mpmath.nstr(gamma(rule, beta0, mpf(n)), 30) for n in lengths},
            "crossings": [{"n": mpmath.nstr(n, 30), "direction": d, "at_jump": j}
                          for n, d, j in crossings(rule, beta0, gc, n_max)],
        })
    kind = "hf-config" if source.endswith(".json") else "rule"
    return {"label": label, kind: source, "beta0": beta0_s, "rho": rho_s, "lengths": lengths,
            "n_max": n_max, "entries": result}


def build(dps):
    mp.dps = dps
    return [case(*c) for c in CASES]


def main():
    data = build(DPS)
    again = build(CHECK_DPS)
    for a, b in zip(data, again):
        for ea, eb in zip(a["entries"], b["entries"]):
            for key in ("multipliers", "gammas"):
                for n in ea[key]:
                    x, y = mpf(ea[key][n]), mpf(eb[key][n])
                    assert abs(x - y) <= mpf("1e-25") * abs(y), (a["label"], key, n)
            assert len(ea["crossings"]) == len(eb["crossings"]), a["label"]
            for ca, cb in zip(ea["crossings"], eb["crossings"]):
                assert abs(mpf(ca["n"]) - mpf(cb["n"])) <= mpf("1e-25") * mpf(cb["n"]), a["label"]
    doc = {
        "generator": "tests/reference/schemes_reference.py",
        "dps": DPS,
        "semantics": "beta_n = beta0 m(n), gamma(n) = beta_n / ln n, gamma_c = 1/(1-rho); crossings in [2, n_max]",
        "cases": data,
    }
    text = json.dumps(doc, indent=1) + "\n"
    if "--check" in sys.argv:
        assert OUT.read_text() == text, "tests/data/schemes_reference.json differs from a fresh run"
        print("schemes_reference.json agrees")
        return
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT)}: {len(data)} cases")


if __name__ == "__main__":
    main()
