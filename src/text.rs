//! Rendering numbers for people: full-precision scientific strings, shown positionally when short.

/// Rewrites a scientific string `[-]d[.ddd]e[-]x` positionally when the exponent is in [−4, 6),
/// keeping every digit, so that `6.315789473684211e-1` reads `0.6315789473684211`.
pub fn human_decimal(sci: &str) -> String {
    let Some((mantissa, exponent)) = sci.split_once(['e', 'E']) else {
        return sci.to_owned();
    };
    let Ok(exponent) = exponent.parse::<i64>() else {
        return sci.to_owned();
    };
    if !(-4..6).contains(&exponent) {
        return sci.to_owned();
    }
    let (sign, digits_part) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let (int_digits, frac_digits) = digits_part.split_once('.').unwrap_or((digits_part, ""));
    let digits: String = format!("{int_digits}{frac_digits}");
    // The decimal point sits after `point` digits.
    let point = int_digits.len() as i64 + exponent;
    let body = if point <= 0 {
        format!("0.{}{}", "0".repeat((-point) as usize), digits)
    } else if point as usize >= digits.len() {
        format!("{}{}", digits, "0".repeat(point as usize - digits.len()))
    } else {
        let (left, right) = digits.split_at(point as usize);
        format!("{left}.{right}")
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::human_decimal;

    #[test]
    fn short_exponents_become_positional() {
        assert_eq!(human_decimal("6.315789473684211e-1"), "0.6315789473684211");
        assert_eq!(human_decimal("1e0"), "1");
        assert_eq!(human_decimal("1.25e2"), "125");
        assert_eq!(human_decimal("-2.5e-3"), "-0.0025");
        assert_eq!(human_decimal("1.2345e5"), "123450");
    }

    #[test]
    fn long_exponents_stay_scientific() {
        assert_eq!(human_decimal("3.2e-540"), "3.2e-540");
        assert_eq!(human_decimal("1e6"), "1e6");
        assert_eq!(human_decimal("5e-5"), "5e-5");
    }
}
