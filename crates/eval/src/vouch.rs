//! Printed numbers against their enclosures: which digits an enclosure vouches for.

use crate::report::{EvalReport, Numeric, Value_};
use critscale_real::decimal::{Direction, round_sci};
use critscale_real::{BigReal, Interval, Precision, Real};

/// The printed numbers of `report` that are not within relative `tol` of every point of their
/// enclosure (each is read back from its decimal text, so the check covers the printing too).
pub(crate) fn doubtful_fields(
    report: &EvalReport,
    enclosures: &[Numeric<Interval>],
    tol: f64,
) -> Vec<&'static str> {
    let mut doubtful = Vec::new();
    for entry in report.inputs.iter().chain(&report.outputs) {
        let Value_::Number(text) = &entry.value else {
            continue;
        };
        let vouched = enclosures
            .iter()
            .find(|e| e.name == entry.name)
            .is_some_and(|e| vouches(text, e, tol, absolute_scale(entry.name, enclosures)));
        if !vouched {
            doubtful.push(entry.name);
        }
    }
    doubtful
}

/// For differences whose value may be 0 exactly, the scale their error is measured against:
/// κ = γ(1 − ρ) − 1 against its larger term max(1, γ(1 − ρ)), cos_out against 1. `None`:
/// relative to the value itself.
fn absolute_scale(name: &str, enclosures: &[Numeric<Interval>]) -> Option<f64> {
    match name {
        "kappa" => {
            let kappa = enclosures.iter().find(|e| e.name == "kappa")?;
            Some((kappa.value.hi_f64().abs() + 1.0).max(1.0))
        }
        "cos_out" => Some(1.0),
        _ => None,
    }
}

/// True when the decimal `text` is within relative `tol` of every value the enclosure allows
/// (within `tol·scale` when an absolute scale is given).
fn vouches(text: &str, enclosure: &Numeric<Interval>, tol: f64, scale: Option<f64>) -> bool {
    let value = &enclosure.value;
    let Some((mantissa, exponent)) = text.split_once(['e', 'E']) else {
        return false;
    };
    let digits = |s: &str| s.trim_start_matches(['-', '+']).len() as u64;
    // Enough bits to read the mantissa and the exponent exactly, and 64 beyond the tolerance.
    let bits = (64 + 4 * (digits(mantissa) + digits(exponent)) + 128)
        .min(critscale_real::big::MAX_PRECISION_BITS as u64);
    let Ok(p) = Precision::new(bits) else {
        return false;
    };
    let Ok(m) = BigReal::parse_decimal(&p, mantissa) else {
        return false;
    };
    if let Some(scale) = scale {
        return BigReal::parse_decimal(&p, text)
            .is_ok_and(|x| value.within_absolute(&x, tol * scale));
    }
    if m == BigReal::zero(&p) {
        // Only an exact zero is printed as zero (κ at γ = γ_c).
        return value.lo().is_zero() && value.hi().is_zero();
    }
    if value.is_normal() {
        return BigReal::parse_decimal(&p, text).is_ok_and(|x| value.vouches_for(&x, tol));
    }
    // Outside the range: compare logarithms; |Δ ln x| ≤ ln(1 + tol) bounds the relative error.
    let (Some(ln), Ok(k)) = (&enclosure.ln_value, BigReal::parse_decimal(&p, exponent)) else {
        return false;
    };
    if m < BigReal::zero(&p) {
        return false;
    }
    let ln_printed = m.ln() + &(k * &BigReal::from_f64(&p, 10.0).ln());
    ln.within_absolute(&ln_printed, tol.ln_1p())
}

/// An upper bound on the relative error of the printed `text` over every value its enclosure
/// allows (through the logarithm outside the range); `None` when the enclosure cannot bound it
/// relatively (it contains 0) or the text is not a number.
fn relative_error_bound(text: &str, enclosure: &Numeric<Interval>) -> Option<f64> {
    let (mantissa, exponent) = text.split_once(['e', 'E'])?;
    let digits = |s: &str| s.trim_start_matches(['-', '+']).len() as u64;
    let bits = (64 + 4 * (digits(mantissa) + digits(exponent)) + 128)
        .min(critscale_real::big::MAX_PRECISION_BITS as u64);
    let p = Precision::new(bits).ok()?;
    if enclosure.value.is_normal() {
        return enclosure
            .value
            .relative_distance(&BigReal::parse_decimal(&p, text).ok()?);
    }
    let ln = enclosure.ln_value.as_ref()?;
    let m = BigReal::parse_decimal(&p, mantissa).ok()?;
    let k = BigReal::parse_decimal(&p, exponent).ok()?;
    if m <= BigReal::zero(&p) {
        return None;
    }
    let ln_printed = m.ln() + &(k * &BigReal::from_f64(&p, 10.0).ln());
    // |Δ ln x| = δ gives a relative error e^δ − 1.
    ln.absolute_distance(&ln_printed).map(f64::exp_m1)
}

/// `text` (`m e k`, k an integer of any length) rounded to nearest at `digits` significant
/// digits: the mantissa is rounded alone and a carry (9.99 → 1e1) is added to k exactly.
fn round_to_digits(text: &str, digits: usize) -> Option<String> {
    let (mantissa, exponent) = text.split_once(['e', 'E'])?;
    let rounded = round_sci(mantissa, digits, Direction::Nearest)?;
    let (rounded, carry) = rounded.split_once('e')?;
    let carry: i64 = carry.parse().ok()?;
    if carry == 0 {
        return Some(format!("{rounded}e{exponent}"));
    }
    let p = Precision::new(128 + 4 * exponent.len() as u64).ok()?;
    let k = BigReal::parse_decimal(&p, exponent).ok()? + &BigReal::from_i64(&p, carry);
    Some(format!("{rounded}e{}", critscale_real::integer_decimal(&k)))
}

/// Cuts every printed number of a big-engine report to the significant digits its enclosure at
/// the same precision vouches for (error below one unit of the last digit kept, after one guard
/// digit), so that no digit is printed that the rounding of the inputs or of the arithmetic may
/// have changed. Numbers whose enclosure contains 0 (κ at γ_c from a decimal γ) keep their text.
/// Returns the names of numbers of which not even one digit is vouched.
pub(crate) fn trim_to_enclosure(
    report: &mut EvalReport,
    enclosures: &[Numeric<Interval>],
) -> Vec<&'static str> {
    let mut hopeless = Vec::new();
    for entry in report.inputs.iter_mut().chain(report.outputs.iter_mut()) {
        let Value_::Number(text) = &entry.value else {
            continue;
        };
        let Some(enclosure) = enclosures.iter().find(|e| e.name == entry.name) else {
            continue;
        };
        let Some(bound) = relative_error_bound(text, enclosure) else {
            continue;
        };
        if bound == 0.0 {
            continue;
        }
        let vouched = (-bound.log10()).floor() as i64 - 1;
        if vouched < 1 {
            hopeless.push(entry.name);
            continue;
        }
        let shown = text.split_once(['e', 'E']).map_or(text.len(), |(m, _)| {
            m.chars().filter(char::is_ascii_digit).count()
        });
        if (vouched as usize) < shown
            && let Some(cut) = round_to_digits(text, vouched as usize)
        {
            entry.value = Value_::Number(cut);
        }
    }
    hopeless
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_carries_into_exponents_of_any_length() {
        assert_eq!(
            round_to_digits("9.996e-123456789012345678901", 3).unwrap(),
            "1e-123456789012345678900"
        );
        assert_eq!(round_to_digits("1.23456e7", 3).unwrap(), "1.23e7");
        assert_eq!(round_to_digits("-9.96e0", 2).unwrap(), "-1e1");
    }
}
