//! Bad input on the command line, and the typed value parsers of the options.
//!
//! Every refusal of a value is one line, `invalid value 'VALUE' for --FLAG: WHAT IS VALID`, and
//! exit code 2, whether clap refuses the value while parsing (the parsers below, whose error
//! text is the requirement) or a subcommand refuses a combination of values afterwards
//! ([`BadParameter`]). `main.rs` renders clap's refusals in the same shape.

use critscale_theorems::Budget;

/// A command-line option with a value outside its domain (exit code 2): the one type for every
/// refusal, defined with `eval` (the lowest crate that refuses parameters).
pub use critscale_eval::BadParameter;

/// A parsed value with the text it was read from, for messages that quote the user's text.
#[derive(Debug, Clone, PartialEq)]
pub struct Given<T> {
    /// The value.
    pub value: T,
    /// The text as typed.
    pub text: String,
}

impl<T: std::fmt::Display> Given<T> {
    /// A value given by the program (a default): its text is its display.
    pub fn of(value: T) -> Self {
        let text = value.to_string();
        Given { value, text }
    }
}

impl<T> std::fmt::Display for Given<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// `--budget`: `quick` or `full`.
pub fn budget(text: &str) -> Result<Budget, String> {
    text.trim().parse().map_err(|err| format!("{err}"))
}

/// A whole number in `[min, max]`, refused with `requirement`.
fn whole(text: &str, min: u64, max: u64, requirement: &str) -> Result<u64, String> {
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| requirement.to_owned())
}

/// `--jobs`: threads, 1 to 1024.
pub fn jobs(text: &str) -> Result<usize, String> {
    whole(text, 1, 1024, "an integer from 1 to 1024").map(|n| n as usize)
}

/// `certify --precision`: interval bits, 53 to 4096.
pub fn certify_bits(text: &str) -> Result<u64, String> {
    whole(
        text,
        53,
        4096,
        "must be a whole number of bits in [53, 4096]",
    )
}

/// `certify --max-boxes`: a positive whole number.
pub fn max_boxes(text: &str) -> Result<usize, String> {
    whole(
        text,
        1,
        usize::MAX as u64,
        "must be a positive whole number",
    )
    .map(|n| n as usize)
}

/// `eval --precision`: big-float bits in the engines' range.
pub fn eval_bits(text: &str) -> Result<u64, String> {
    whole(
        text,
        critscale_real::big::MIN_PRECISION_BITS as u64,
        critscale_real::big::MAX_PRECISION_BITS as u64,
        &critscale_eval::policy::precision_requirement(),
    )
}

/// `eval --engine`: `big` or `mpfr` (any case).
pub fn engine(text: &str) -> Result<critscale_eval::EngineName, String> {
    use critscale_eval::EngineName;
    match text.trim().to_ascii_lowercase().as_str() {
        "big" => Ok(EngineName::Big),
        "mpfr" => Ok(EngineName::Mpfr),
        _ => Err("expected 'big' or 'mpfr'".to_owned()),
    }
}

/// `eval --rel-tol`: a number in the policy's range.
pub fn rel_tol(text: &str) -> Result<f64, String> {
    use critscale_eval::{MAX_REL_TOL, MIN_REL_TOL};
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|t| (MIN_REL_TOL..=MAX_REL_TOL).contains(t))
        .ok_or_else(critscale_eval::policy::rel_tol_requirement)
}

/// `eval --on-doubt`: `escalate`, `refuse` or `off`.
pub fn on_doubt(text: &str) -> Result<critscale_eval::OnDoubt, String> {
    use critscale_eval::OnDoubt;
    match text.trim() {
        "escalate" => Ok(OnDoubt::Escalate),
        "refuse" => Ok(OnDoubt::Refuse),
        "off" => Ok(OnDoubt::Off),
        _ => Err("expected 'escalate', 'refuse' or 'off'".to_owned()),
    }
}

/// `report --shard`: `i/N`.
pub fn shard(text: &str) -> Result<critscale_report::shard::ShardSpec, String> {
    critscale_report::shard::ShardSpec::parse(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_keep_their_ranges() {
        assert_eq!(jobs(" 4 "), Ok(4));
        assert_eq!(jobs("0"), Err("an integer from 1 to 1024".to_owned()));
        assert!(jobs("1025").is_err() && jobs("-1").is_err() && jobs("2.0").is_err());
        assert_eq!(certify_bits("53"), Ok(53));
        assert!(certify_bits("4097").is_err());
        assert_eq!(max_boxes("1"), Ok(1));
        assert!(max_boxes("0").unwrap_err().contains("positive"));
        let too_small = (critscale_real::big::MIN_PRECISION_BITS - 1).to_string();
        assert!(eval_bits(&too_small).unwrap_err().contains("bits in ["));
    }

    #[test]
    fn words_are_read_as_before() {
        assert_eq!(budget(" full"), Ok(Budget::Full));
        assert_eq!(budget("slow"), Err("expected 'quick' or 'full'".to_owned()));
        assert_eq!(engine("MPFR"), Ok(critscale_eval::EngineName::Mpfr));
        assert!(engine("gmp").is_err());
        assert_eq!(on_doubt("off"), Ok(critscale_eval::OnDoubt::Off));
        assert!(on_doubt("Off").is_err());
        assert_eq!(rel_tol("1e-9"), Ok(1e-9));
        assert!(rel_tol("0.5").unwrap_err().contains("[1e-15, 0.1]"));
        assert!(rel_tol("NaN").is_err());
    }

    #[test]
    fn given_values_print_as_typed() {
        let x = Given {
            value: 1e300,
            text: "1e300".to_owned(),
        };
        assert_eq!(x.to_string(), "1e300");
        assert_eq!(Given::of(10.0).text, "10");
        assert_eq!(Given::of(0.43).text, "0.43");
    }
}
