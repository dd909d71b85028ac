//! Fixed number formatting of the data files (the tables themselves are written by
//! [`crate::table`]).
//!
//! Every number that reaches a data file is first rounded to [`DIGITS`] significant decimal
//! digits (through Rust's exact decimal formatting, so the rounding is the same on every
//! platform). Ten digits are far more than any figure or table needs, and they hide the
//! last-bit differences that a different `libm` or SIMD summation order can produce, so the data
//! files of two machines agree byte for byte (a difference can only appear when a value lies
//! within an ulp of a rounding boundary of the tenth digit).
//!
//! * CSV: the rounded value in its shortest form, positional (`0.3`, `1.428571429`) between
//!   1e-4 and 1e15 and with an exponent otherwise (`1e100`, `4.5e-9`); a non-finite value is
//!   an empty cell. Text cells are quoted as RFC 4180 says (by the `csv` crate).
//! * JSON: `serde_json` with the workspace's `preserve_order` feature, so keys keep the order
//!   in which they are inserted; numbers are the rounded values (shortest round-trip form), a
//!   non-finite value is `null`. Files end with a newline.

use serde_json::Value;

/// Significant decimal digits kept in the data files.
pub const DIGITS: usize = 10;

/// `x` rounded to [`DIGITS`] significant digits (non-finite values unchanged).
pub fn round(x: f64) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return if x == 0.0 { 0.0 } else { x };
    }
    format!("{:.*e}", DIGITS - 1, x).parse().unwrap_or(x)
}

/// A number as JSON: rounded, `null` when not finite.
pub fn num(x: f64) -> Value {
    let r = round(x);
    if r.is_finite() {
        Value::from(r)
    } else {
        Value::Null
    }
}

/// A number as a CSV cell (see the module docs).
pub fn csv_num(x: f64) -> String {
    let r = round(x);
    if !r.is_finite() {
        return String::new();
    }
    if r == 0.0 {
        return "0".to_owned();
    }
    let a = r.abs();
    if (1e-4..1e15).contains(&a) {
        format!("{r}")
    } else {
        format!("{r:e}")
    }
}

/// A number for a Markdown table: 7 significant digits, positional between 1e-3 and 1e7.
pub fn md_num(x: f64) -> String {
    if !x.is_finite() {
        return "–".to_owned();
    }
    if x == 0.0 {
        return "0".to_owned();
    }
    // Decide the layout from the value rounded to 7 digits (0.99999999 is shown as 1.000000).
    let a: f64 = format!("{:.6e}", x.abs()).parse().unwrap_or(x.abs());
    if (1e-3..1e7).contains(&a) {
        let magnitude = a.log10().floor() as i64;
        let decimals = (6 - magnitude).max(0) as usize;
        format!("{x:.decimals$}")
    } else {
        format!("{x:.6e}")
    }
}

/// A JSON value as a file: pretty-printed, two-space indent, final newline.
pub fn json_bytes(value: &Value) -> Vec<u8> {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".to_owned());
    text.push('\n');
    text.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_keeps_ten_digits_and_hides_the_last_bits() {
        assert_eq!(round(1.0 / 0.7), 1.428571429);
        assert_eq!(round(0.1 + 0.2), 0.3);
        assert_eq!(round(0.3), round(0.3 + f64::EPSILON));
        assert_eq!(round(-2.5e-300), -2.5e-300);
        assert!(round(f64::NAN).is_nan());
    }

    #[test]
    fn csv_cells() {
        assert_eq!(csv_num(0.3), "0.3");
        assert_eq!(csv_num(1.0 / 0.7), "1.428571429");
        assert_eq!(csv_num(1e100), "1e100");
        assert_eq!(csv_num(4.5e-9), "4.5e-9");
        assert_eq!(csv_num(100.0), "100");
        assert_eq!(csv_num(0.0), "0");
        assert_eq!(csv_num(f64::NAN), "");
    }

    #[test]
    fn json_numbers_and_order() {
        let value = serde_json::json!({ "b": num(1.0 / 3.0), "a": num(f64::INFINITY) });
        let text = String::from_utf8(json_bytes(&value)).unwrap();
        assert_eq!(text, "{\n  \"b\": 0.3333333333,\n  \"a\": null\n}\n");
    }

    #[test]
    fn markdown_numbers() {
        assert_eq!(md_num(1.0 / 0.7), "1.428571");
        assert_eq!(md_num(0.48), "0.4800000");
        assert_eq!(md_num(4.5e-9), "4.500000e-9");
        assert_eq!(md_num(123.456), "123.4560");
        assert_eq!(md_num(f64::NAN), "–");
        assert_eq!(md_num(-0.99999999), "-1.000000");
    }
}
