//! Rounding decimal digit strings to a number of significant digits, in a chosen direction.
//!
//! The big-float engines print more digits than their precision supports; these helpers cut a
//! scientific string `[-]d.ddd…e±x` down to `digits` significant digits, rounding to nearest (for
//! values) or toward −∞ / +∞ (for the two ends of an enclosure, so that the printed interval still
//! contains the computed one).

/// Direction in which a decimal string is shortened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Round half away from zero.
    Nearest,
    /// Toward −∞: the result is ≤ the input.
    Down,
    /// Toward +∞: the result is ≥ the input.
    Up,
}

/// True for `[+-]digits[.digits][e[+-]digits]` (digits on at least one side of the point, an
/// exponent of at most nine digits) and for `inf`, `infinity`, `nan` in any case, with a sign.
pub fn is_decimal_literal(text: &str) -> bool {
    let lower = text.trim().to_ascii_lowercase();
    let unsigned = lower.strip_prefix(['+', '-']).unwrap_or(&lower);
    if matches!(unsigned, "inf" | "infinity" | "nan") {
        return true;
    }
    let (mantissa, exponent) = match unsigned.split_once('e') {
        Some((m, e)) => (m, Some(e)),
        None => (unsigned, None),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_ok = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok = digits_ok(int_part)
        && digits_ok(frac_part)
        && !(int_part.is_empty() && frac_part.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits_ok(e) && e.len() <= 9
    });
    mantissa_ok && exponent_ok
}

/// A parsed decimal: sign, digits (no leading zeros unless the value is 0), and the exponent of
/// the first digit.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    digits: Vec<u8>,
    exponent: i64,
}

fn parse(text: &str) -> Option<Decimal> {
    let text = text.trim();
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, exponent) = match body.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.trim_start_matches('+').parse::<i64>().ok()?),
        None => (body, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if !int_part
        .chars()
        .chain(frac_part.chars())
        .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let all: Vec<u8> = int_part
        .bytes()
        .chain(frac_part.bytes())
        .map(|b| b - b'0')
        .collect();
    if all.is_empty() {
        return None;
    }
    let leading_zeros = all.iter().take_while(|&&d| d == 0).count();
    if leading_zeros == all.len() {
        return Some(Decimal {
            negative,
            digits: vec![0],
            exponent: 0,
        });
    }
    let digits = all[leading_zeros..].to_vec();
    let exponent = exponent + int_part.len() as i64 - 1 - leading_zeros as i64;
    Some(Decimal {
        negative,
        digits,
        exponent,
    })
}

/// Adds one unit in the last place of `digits`, carrying; returns true when the carry grew a
/// new leading digit.
fn increment(digits: &mut Vec<u8>) -> bool {
    for digit in digits.iter_mut().rev() {
        if *digit == 9 {
            *digit = 0;
        } else {
            *digit += 1;
            return false;
        }
    }
    digits.insert(0, 1);
    digits.pop();
    true
}

/// `text` (scientific or positional) shortened to `digits` significant digits in `direction`,
/// written as `[-]d[.ddd]e[-]x` without trailing zeros. Returns `None` if `text` is not a decimal.
pub fn round_sci(text: &str, digits: usize, direction: Direction) -> Option<String> {
    let mut value = parse(text)?;
    let digits = digits.max(1);
    if value.digits.len() > digits {
        let dropped = &value.digits[digits..];
        let any_dropped = dropped.iter().any(|&d| d != 0);
        let round_up_magnitude = match direction {
            Direction::Nearest => dropped[0] >= 5,
            // Toward −∞ grows the magnitude of negatives; toward +∞ that of positives.
            Direction::Down => value.negative && any_dropped,
            Direction::Up => !value.negative && any_dropped,
        };
        value.digits.truncate(digits);
        if round_up_magnitude && increment(&mut value.digits) {
            value.exponent += 1;
        }
    }
    while value.digits.len() > 1 && value.digits.last() == Some(&0) {
        value.digits.pop();
    }
    let is_zero = value.digits == [0];
    let mut out = String::new();
    if value.negative && !is_zero {
        out.push('-');
    }
    out.push((b'0' + value.digits[0]) as char);
    if value.digits.len() > 1 {
        out.push('.');
        out.extend(value.digits[1..].iter().map(|&d| (b'0' + d) as char));
    }
    out.push_str(&format!("e{}", if is_zero { 0 } else { value.exponent }));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rounds_in_each_direction() {
        assert_eq!(
            round_sci("3.14159e0", 3, Direction::Nearest).unwrap(),
            "3.14e0"
        );
        assert_eq!(round_sci("3.14159e0", 3, Direction::Up).unwrap(), "3.15e0");
        assert_eq!(
            round_sci("3.14159e0", 3, Direction::Down).unwrap(),
            "3.14e0"
        );
        assert_eq!(
            round_sci("-3.14159e0", 3, Direction::Down).unwrap(),
            "-3.15e0"
        );
        assert_eq!(
            round_sci("-3.14159e0", 3, Direction::Up).unwrap(),
            "-3.14e0"
        );
        assert_eq!(
            round_sci("9.999e-5", 2, Direction::Nearest).unwrap(),
            "1e-4"
        );
        assert_eq!(round_sci("9.999e+5", 2, Direction::Up).unwrap(), "1e6");
        assert_eq!(
            round_sci("1.e+100000", 5, Direction::Nearest).unwrap(),
            "1e100000"
        );
        assert_eq!(
            round_sci("0.0025", 5, Direction::Nearest).unwrap(),
            "2.5e-3"
        );
        assert_eq!(round_sci("0", 5, Direction::Up).unwrap(), "0e0");
        assert_eq!(round_sci("1.50e0", 1, Direction::Nearest).unwrap(), "2e0");
        assert!(round_sci("abc", 3, Direction::Up).is_none());
    }

    #[test]
    fn decimal_grammar() {
        for good in [
            "1",
            "-1.5",
            "+.5",
            "5.",
            "1e40",
            "1E-7",
            "2.5e+3",
            "inf",
            "-Infinity",
            "NaN",
        ] {
            assert!(is_decimal_literal(good), "{good}");
        }
        for bad in [
            "",
            ".",
            "e5",
            "1e",
            "1e+",
            "0x10",
            "1,5",
            "one",
            "1e1234567890",
            "--1",
            "1.2.3",
        ] {
            assert!(!is_decimal_literal(bad), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn directed_rounding_brackets_the_value(x in -1e30f64..1e30, digits in 1usize..17) {
            let text = format!("{x:.20e}");
            let exact: f64 = text.parse().unwrap();
            let down: f64 = round_sci(&text, digits, Direction::Down).unwrap().parse().unwrap();
            let up: f64 = round_sci(&text, digits, Direction::Up).unwrap().parse().unwrap();
            prop_assert!(down <= exact && exact <= up, "{down} {exact} {up}");
            let nearest: f64 = round_sci(&text, digits, Direction::Nearest).unwrap().parse().unwrap();
            prop_assert!(down <= nearest && nearest <= up);
        }
    }
}
