//! Reading a point: the typed text of each parameter, parsed by the chosen backend (so `1e100000`
//! or a 40-digit ρ keep what the backend can hold) and validated by [`SimplexParams::new`].

use crate::{BadParameter, EvalArgs};
use critscale_real::{BigReal, Precision, Real};
use critscale_simplex::{InvalidParameter, Scaling, SimplexParams};

pub(crate) fn bad(flag: &str, value: &str, requirement: impl Into<String>) -> BadParameter {
    BadParameter::new(flag, value, requirement)
}

fn parse<T: Real>(ctx: &T::Ctx, flag: &str, text: &str) -> Result<T, BadParameter> {
    T::parse_decimal(ctx, text).map_err(|err| bad(flag, text, err.reason))
}

/// Accepted spellings of γ = γ_c.
fn is_critical_keyword(text: &str) -> bool {
    matches!(
        text.trim().to_ascii_lowercase().as_str(),
        "crit" | "critical" | "gc" | "gamma_c"
    )
}

/// Why a point could not be read: text that is not a number, or a number outside the domain.
enum ReadError {
    Text(BadParameter),
    Domain(critscale_simplex::InvalidParameter),
}

/// Parses and validates the point on backend `T`, without explaining rounding.
fn read_point<T: Real>(ctx: &T::Ctx, args: &EvalArgs) -> Result<SimplexParams<T>, ReadError> {
    let n: T = parse(ctx, "n", &args.n).map_err(ReadError::Text)?;
    let rho: T = parse(ctx, "rho", &args.rho).map_err(ReadError::Text)?;
    let scaling = match (&args.gamma, &args.beta) {
        (Some(_), Some(beta)) => {
            return Err(ReadError::Text(bad(
                "beta",
                beta,
                "give either --gamma or --beta, not both",
            )));
        }
        (Some(gamma), None) if is_critical_keyword(gamma) => Scaling::Critical,
        (Some(gamma), None) => Scaling::Gamma(parse(ctx, "gamma", gamma).map_err(ReadError::Text)?),
        (None, Some(beta)) => Scaling::Beta(parse(ctx, "beta", beta).map_err(ReadError::Text)?),
        (None, None) => {
            return Err(ReadError::Text(bad(
                "gamma",
                "",
                "give --gamma (a positive number, or 'crit' for 1/(1-rho)) or --beta",
            )));
        }
    };
    let alpha: T = parse(ctx, "alpha", &args.alpha).map_err(ReadError::Text)?;
    let q: T = parse(ctx, "q", &args.q).map_err(ReadError::Text)?;
    let d: Option<T> = args
        .d
        .as_deref()
        .map(|d| parse(ctx, "d", d))
        .transpose()
        .map_err(ReadError::Text)?;
    SimplexParams::new(n, rho, scaling, alpha, q, d).map_err(ReadError::Domain)
}

/// Precisions tried when a value is invalid on the chosen backend, to tell rounding (the value
/// is valid, the backend cannot hold it) from a value that is invalid in itself.
const EXPLAIN_PRECISIONS: [u64; 4] = [128, 1024, 8192, 65536];

/// Reads and validates the point on backend `T`.
///
/// A value that is invalid only because the backend rounds it (ρ = 1 − 1e-30 is 1 in `f64`,
/// n = 1e400 is ∞) is reported as such, with the `--precision` that holds it.
pub fn read_params<T: Real>(
    ctx: &T::Ctx,
    args: &EvalArgs,
) -> Result<SimplexParams<T>, BadParameter> {
    let invalid = match read_point::<T>(ctx, args) {
        Ok(params) => return Ok(params),
        Err(ReadError::Text(bad)) => return Err(bad),
        Err(ReadError::Domain(invalid)) => invalid,
    };
    let own_bits = (T::significant_digits(ctx) as f64 / std::f64::consts::LOG10_2) as u64;
    let holds = EXPLAIN_PRECISIONS
        .into_iter()
        .filter(|&bits| bits > own_bits + 8)
        .find(|&bits| {
            let p = Precision::new(bits).expect("explanation precisions are in range");
            read_point::<BigReal>(&p, args).is_ok()
        });
    let mut bad = bad_parameter(args, invalid.clone());
    if let Some(bits) = holds {
        bad.requirement = format!(
            "{} cannot represent it distinctly (it rounds to {}, and {} {}); the value itself is valid: rerun with --precision {bits} or more",
            T::backend_name(ctx),
            invalid.value,
            invalid.name,
            invalid.requirement
        );
    }
    Err(bad)
}

fn bad_parameter(args: &EvalArgs, invalid: InvalidParameter) -> BadParameter {
    let given = match invalid.name {
        "n" => Some(args.n.clone()),
        "rho" => Some(args.rho.clone()),
        "gamma" => args.gamma.clone(),
        "beta" => args.beta.clone(),
        "alpha" => Some(args.alpha.clone()),
        "q" => Some(args.q.clone()),
        "d" => args.d.clone(),
        _ => None,
    };
    BadParameter {
        flag: invalid.name.to_owned(),
        value: given.unwrap_or(invalid.value),
        requirement: invalid.requirement,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_the_backend_rounds_out_of_range_are_named_as_rounding() {
        let args = EvalArgs {
            n: "10".to_owned(),
            rho: "0.999999999999999999999999999999".to_owned(),
            gamma: Some("1".to_owned()),
            alpha: "0".to_owned(),
            q: "1".to_owned(),
            ..EvalArgs::default()
        };
        let bad = read_params::<f64>(&(), &args).unwrap_err();
        assert_eq!(bad.flag, "rho");
        assert!(bad.requirement.contains("--precision 128"), "{bad}");
        // Valid at 128 bits, and invalid in itself at 1 exactly.
        assert!(read_params::<BigReal>(&Precision::new(128).unwrap(), &args).is_ok());
        let one = EvalArgs {
            rho: "1".to_owned(),
            ..args
        };
        let bad = read_params::<f64>(&(), &one).unwrap_err();
        assert!(!bad.requirement.contains("--precision"), "{bad}");
    }
}
