//! The engines and the `f64` precision policy (see the crate docs): check against a 128-bit
//! enclosure, escalate, refuse, or print unchecked.

use crate::read::bad;
use crate::read::read_params;
use crate::report::{
    EvalReport, Numeric, build_report, evaluate, input_numerics, numeric_outputs, unprintable_error,
};
use crate::vouch::{doubtful_fields, trim_to_enclosure};
use crate::{BadParameter, EngineName, EvalArgs, EvalError, EvalOptions, MAX_REL_TOL, MIN_REL_TOL};
use critscale_real::{BigReal, Interval, Precision, Real};
use critscale_simplex::SimplexLayer;

/// The engines `eval` can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// IEEE double (with the precision policy).
    F64,
    /// astro-float at a precision.
    Big(Precision),
    /// MPFR at a precision (feature `mpfr`).
    Mpfr(Precision),
    /// Outward-rounded intervals on astro-float.
    Enclose(Precision),
}

/// What to do when `f64` cannot vouch for a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDoubt {
    /// Re-evaluate at high precision (default).
    Escalate,
    /// Exit with an error.
    Refuse,
    /// Print the `f64` values without the check.
    Off,
}

/// Default precision when an engine or `--enclose` is asked for without `--precision`.
pub const DEFAULT_HIGH_PRECISION: u64 = 256;

/// The requirement on `--precision`, as the refusal states it.
pub fn precision_requirement() -> String {
    format!(
        "must be a whole number of bits in [{}, {}]",
        critscale_real::big::MIN_PRECISION_BITS,
        critscale_real::big::MAX_PRECISION_BITS
    )
}

/// The requirement on `--rel-tol`, as the refusal states it.
pub fn rel_tol_requirement() -> String {
    format!("must be a number in [{MIN_REL_TOL:e}, {MAX_REL_TOL}]")
}

/// The engine of `--precision`, `--engine` and `--enclose`.
///
/// # Errors
///
/// [`BadParameter`] for a precision outside the supported range, `--engine mpfr` with
/// `--enclose` (enclosures are computed on the big engine), or `--engine mpfr` in a build
/// without the feature `mpfr`.
pub fn choose_engine(options: &EvalOptions) -> Result<Engine, BadParameter> {
    let precision = options
        .precision
        .map(|bits| {
            Precision::new(bits)
                .map_err(|_| bad("precision", &bits.to_string(), precision_requirement()))
        })
        .transpose()?;
    let high = || precision.unwrap_or_else(|| Precision::new(DEFAULT_HIGH_PRECISION).unwrap());
    match (options.engine, options.enclose) {
        (Some(EngineName::Mpfr), true) => Err(bad(
            "engine",
            "mpfr",
            "enclosures (--enclose) are computed on the big engine; drop --engine mpfr",
        )),
        (Some(EngineName::Mpfr), false) => {
            if cfg!(feature = "mpfr") {
                Ok(Engine::Mpfr(high()))
            } else {
                Err(bad(
                    "engine",
                    "mpfr",
                    "this build has no MPFR engine (rebuild with --features mpfr)",
                ))
            }
        }
        (Some(EngineName::Big) | None, true) => Ok(Engine::Enclose(high())),
        (Some(EngineName::Big), false) => Ok(Engine::Big(high())),
        (None, false) => Ok(precision.map_or(Engine::F64, Engine::Big)),
    }
}

/// Runs `eval` at the point `args` as `options` ask.
///
/// # Errors
///
/// [`EvalError::Bad`] for a bad parameter (the user's), the others when the chosen backend cannot
/// vouch for or print a result (see the crate docs).
pub fn run(args: &EvalArgs, options: &EvalOptions) -> Result<EvalReport, EvalError> {
    let engine = choose_engine(options)?;
    let tol = options.rel_tol;
    if !(MIN_REL_TOL..=MAX_REL_TOL).contains(&tol) {
        return Err(bad("rel-tol", &tol.to_string(), rel_tol_requirement()).into());
    }
    match engine {
        Engine::F64 => run_f64(args, tol, options.on_doubt),
        Engine::Big(p) => run_big::<BigReal>(args, p),
        Engine::Enclose(p) => evaluate::<Interval>(&p, args),
        Engine::Mpfr(p) => run_mpfr(args, p),
    }
}

/// A big engine at precision `p`, its numbers cut to the digits an enclosure at `p` vouches for.
fn run_big<T: Real<Ctx = Precision>>(
    args: &EvalArgs,
    p: Precision,
) -> Result<EvalReport, EvalError> {
    let mut report = evaluate::<T>(&p, args)?;
    let enclosures = enclose(args, p.bits() as u64)?;
    let hopeless = trim_to_enclosure(&mut report, &enclosures);
    if !hopeless.is_empty() {
        return Err(EvalError::Unprintable {
            backend: T::backend_name(&p),
            fields: hopeless.join(", "),
            remedy: format!(
                "not one digit is determined at this point (ill-conditioned); rerun with --precision {} or more",
                2 * p.bits()
            ),
        });
    }
    Ok(report)
}

#[cfg(feature = "mpfr")]
fn run_mpfr(args: &EvalArgs, p: Precision) -> Result<EvalReport, EvalError> {
    run_big::<critscale_real::MpfrReal>(args, p)
}

#[cfg(not(feature = "mpfr"))]
fn run_mpfr(_: &EvalArgs, _: Precision) -> Result<EvalReport, EvalError> {
    unreachable!("choose_engine refuses mpfr in builds without the feature")
}

/// The largest precision the `f64` policy escalates to before refusing.
pub const MAX_ESCALATION_BITS: u64 = 8192;

/// The precision of the enclosure `f64` results are checked against.
const CHECK_BITS: u64 = 128;

/// The `f64` path with the precision policy of the module docs.
fn run_f64(args: &EvalArgs, tol: f64, on_doubt: OnDoubt) -> Result<EvalReport, EvalError> {
    let params = read_params::<f64>(&(), args)?;
    let layer = SimplexLayer::evaluate(&params);
    let report = build_report(&(), &params, &layer);
    if on_doubt == OnDoubt::Off {
        return report.map_err(|unprintable| unprintable_error::<f64>(&(), &unprintable));
    }
    let check = enclose(args, CHECK_BITS)?;
    let in_doubt = match &report {
        Ok(report) => doubtful_fields(report, &check, tol),
        Err(unprintable) => unprintable.iter().map(|(name, _)| *name).collect(),
    };
    if let (Ok(report), true) = (report, in_doubt.is_empty()) {
        return Ok(report);
    }
    let fields = in_doubt.join(", ");
    let tolerance = format!("{tol:e}");
    if on_doubt == OnDoubt::Refuse {
        return Err(EvalError::Refused { fields, tolerance });
    }
    // The escalation starts at the precision of the check, whose enclosures are reused.
    let mut bits = CHECK_BITS;
    let mut enclosure = check;
    loop {
        let p = Precision::new(bits).expect("escalation stays within the precision range");
        // A precision that cannot print a value (its exponent not yet fixed) is skipped.
        if let Ok(mut escalated) = evaluate::<BigReal>(&p, args)
            && doubtful_fields(&escalated, &enclosure, tol).is_empty()
        {
            // Vouched to `tol`; print no digit beyond what the enclosure vouches for.
            trim_to_enclosure(&mut escalated, &enclosure);
            escalated.backend = format!("{} (escalated from f64)", escalated.backend);
            escalated.warnings.push(format!(
                "f64 cannot vouch for {fields} to relative {tolerance} at this point; re-evaluated at {bits} bits"
            ));
            return Ok(escalated);
        }
        bits *= 2;
        if bits > MAX_ESCALATION_BITS {
            break;
        }
        enclosure = enclose(args, bits)?;
    }
    Err(EvalError::Unvouched {
        fields,
        tolerance,
        bits: MAX_ESCALATION_BITS,
    })
}

/// The numbers of a point as enclosures at `bits`, computed from the decimal inputs.
fn enclose(args: &EvalArgs, bits: u64) -> Result<Vec<Numeric<Interval>>, BadParameter> {
    let p = Precision::new(bits).expect("check precisions are in range");
    let params = read_params::<Interval>(&p, args)?;
    let layer = SimplexLayer::evaluate(&params);
    let mut all = input_numerics(&params);
    all.extend(numeric_outputs(&params, &layer));
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_follow_the_options() {
        let with = |precision: Option<u64>, engine: Option<EngineName>, enclose: bool| {
            choose_engine(&EvalOptions {
                precision,
                engine,
                enclose,
                ..EvalOptions::default()
            })
        };
        let p = |bits| Precision::new(bits).unwrap();
        assert_eq!(with(None, None, false), Ok(Engine::F64));
        assert_eq!(with(Some(300), None, false), Ok(Engine::Big(p(300))));
        assert_eq!(
            with(None, Some(EngineName::Big), false),
            Ok(Engine::Big(p(DEFAULT_HIGH_PRECISION)))
        );
        assert_eq!(
            with(None, None, true),
            Ok(Engine::Enclose(p(DEFAULT_HIGH_PRECISION)))
        );
        let refused = with(None, Some(EngineName::Mpfr), true).unwrap_err();
        assert_eq!(refused.flag, "engine");
        let too_small = with(Some(52), None, false).unwrap_err();
        assert_eq!(too_small.flag, "precision");
        assert_eq!(too_small.requirement, precision_requirement());
    }

    #[test]
    fn a_tolerance_outside_its_range_is_refused() {
        let args = EvalArgs {
            n: "100".to_owned(),
            rho: "0.3".to_owned(),
            gamma: Some("1".to_owned()),
            alpha: "0".to_owned(),
            q: "1".to_owned(),
            ..EvalArgs::default()
        };
        let options = EvalOptions {
            rel_tol: 0.5,
            ..EvalOptions::default()
        };
        match run(&args, &options) {
            Err(EvalError::Bad(bad)) => assert_eq!(bad.flag, "rel-tol"),
            other => panic!("{other:?}"),
        }
        assert!(run(&args, &EvalOptions::default()).is_ok());
    }
}
