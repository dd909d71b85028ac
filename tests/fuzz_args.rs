//! A bounded argument fuzzer over every subcommand: random option lists drawn from each
//! command's options and from values that are valid, extreme or garbage. Whatever the input,
//! the binary must exit with 0, 1, 2 or 3, never panic, never print a NaN or an error among
//! its results, and a bad input (exit 2) gets exactly one line on stderr.
//!
//! Sizes are kept small so that a valid draw runs in well under a second; a draw that still
//! runs longer than the time limit is stopped and not judged (it is slow, not wrong).

use super::support::{Run, command};
use proptest::prelude::*;
use proptest::test_runner::Config;
use std::path::PathBuf;
use std::time::Duration;

/// Longest a single draw may run before it is stopped and left unjudged.
const TIME_LIMIT: Duration = Duration::from_secs(20);

/// Draws per subcommand: enough to hit each option with good and bad values, few enough to
/// keep the suite fast. `CRITSCALE_FUZZ_CASES=N` asks for a deeper run.
fn cases() -> u32 {
    std::env::var("CRITSCALE_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(24)
}

/// The options of one subcommand, each with the values it is drawn from (an empty list marks
/// a flag).
type Vocabulary = &'static [(&'static str, &'static [&'static str])];

const NUMBERS: &[&str] = &[
    "0", "-1", "nan", "NaN", "inf", "-inf", "1e400", "1e-400", "abc", "", "0x10", "1/0",
];

const EVAL: Vocabulary = &[
    (
        "--n",
        &["2", "64", "1e6", "1e300", "1e1000", "1e100000", "1.5"],
    ),
    (
        "--rho",
        &[
            "0.3",
            "0.95",
            "1e-9",
            "-0.5",
            "1",
            "0.999999999999999999999999999999",
            "2",
        ],
    ),
    ("--gamma", &["crit", "0.5", "1.2", "1e6", "1e-6"]),
    ("--beta", &["3", "1e10", "1e18", "1e50", "3e9"]),
    ("--alpha", &["0", "0.5", "1e300"]),
    ("--q", &["1", "0.25", "1e-300"]),
    ("--d", &["64", "1e6", "1e301", "80"]),
    ("--precision", &["53", "128", "256", "52", "2000000"]),
    ("--engine", &["big", "mpfr", "fast"]),
    ("--rel-tol", &["1e-12", "0", "1"]),
    ("--on-doubt", &["escalate", "refuse", "off", "maybe"]),
    ("--enclose", &[]),
    ("--json", &[]),
];

const SIMULATE: Vocabulary = &[
    ("--config", &["simplex", "gaussian", "cube"]),
    ("--n", &["2", "16", "64", "200", "1e12"]),
    ("--d", &["2", "16", "64", "300"]),
    ("--rho", &["0.3", "0.9", "-0.5", "1"]),
    ("--seed", &["0", "7", "18446744073709551616"]),
    ("--gamma", &["crit", "0.5", "1e6"]),
    ("--beta", &["3", "1e10", "1e300"]),
    ("--alpha", &["0", "0.5"]),
    ("--dtype", &["f32", "f64", "f16"]),
    ("--eta", &["exact", "hutchinson", "none", "all"]),
    ("--probes", &["1", "8", "0"]),
    ("--probe-seed", &["1"]),
    ("--block", &["1", "7", "0"]),
    ("--tokens", &["/dev/zero", "does-not-exist.npy", "."]),
    ("--json", &[]),
];

const DIAGNOSE: Vocabulary = &[
    (
        "--tokens",
        &[
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/real/distinct.npy"),
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/real/table.npy"),
            "/dev/zero",
            "does-not-exist.npy",
            ".",
        ],
    ),
    (
        "--ids",
        &[
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/real/ids.npy"),
            "does-not-exist.npy",
        ],
    ),
    ("--tensor", &["embed"]),
    (
        "--gamma",
        &[
            "0.5:1.5:5",
            "1",
            "0.2,0.9",
            "0:1:3",
            "2,1",
            "1e300",
            "1e308",
            "nan",
            "1:2:100001",
        ],
    ),
    ("--eta", &["none", "all"]),
    ("--out", &["diag-out", ".", "/"]),
    ("--force", &[]),
    ("--json", &[]),
];

const SCHEMES: Vocabulary = &[
    ("--rho", &["0.3", "0.3,0.6", "0.99", "1,2", ",,"]),
    ("--n", &["1e3,1e8", "4096", "1e1000", "2", "1"]),
    ("--beta0", &["10", "1e308", "1e-300"]),
    ("--train-len", &["4096", "2", "1e300"]),
    ("--ssmax-s", &["0.43", "1e300"]),
    ("--swan-tau", &["2", "-3"]),
    ("--json", &[]),
];

const CERTIFY: Vocabulary = &[
    (
        "--id",
        &["cert.T1.limit.crit", "cert.T3.limit.sub", "T9.nothing"],
    ),
    ("--precision", &["64", "128", "8"]),
    ("--max-boxes", &["10", "1000", "0"]),
    (
        "--statement",
        &["/nonexistent/critscale-statement.json", "Cargo.toml"],
    ),
    ("--json", &[]),
];

/// Cheap claims only (the run always adds `--claim T1.limit`): the Gaussian claims take
/// minutes in a test build.
const CHECK: Vocabulary = &[
    (
        "--claim",
        &["T1.limit.crit", "T3.limit", "T3.limit.sub", "T9"],
    ),
    ("--budget", &["quick", "tiny"]),
    ("--json", &[]),
    ("--quiet", &[]),
];

/// Bad values only: even a quick report takes a minute in a test build, and what is fuzzed
/// here is that bad input is refused at once (valid runs are the report tests' job).
const REPORT: Vocabulary = &[
    ("--budget", &["huge", "Quick", "full,quick"]),
    ("--claim", &["T9", "", "T1..limit"]),
    ("--jobs", &["0", "-1", "1e9", "two"]),
    ("--shard", &["0/2", "3/2", "a/b", "1/0", "1/", "2/1"]),
];

/// Draws one option of `vocabulary` with a value: one of its own values, or a generic bad one.
fn option(vocabulary: Vocabulary) -> impl Strategy<Value = Vec<String>> {
    (0..vocabulary.len(), any::<prop::sample::Index>(), 0..4u8).prop_map(
        move |(which, pick, garbage)| {
            let (name, values) = vocabulary[which];
            if values.is_empty() {
                return vec![name.to_string()];
            }
            let value = if garbage == 0 {
                pick.get(NUMBERS)
            } else {
                pick.get(values)
            };
            vec![name.to_string(), value.to_string()]
        },
    )
}

/// A command line: the subcommand's fixed words, then one to five drawn options.
fn command_line(
    words: &'static [&'static str],
    vocabulary: Vocabulary,
) -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(option(vocabulary), 1..=5).prop_map(move |options| {
        let mut args: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        args.extend(options.into_iter().flatten());
        args
    })
}

/// A fresh scratch directory for the commands that write files.
fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("critscale-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// Runs the binary on `args`; `None` when it ran past [`TIME_LIMIT`] and was stopped.
fn run(args: &[String], dir: &std::path::Path) -> Option<Run> {
    command(args).cwd(dir).run_within(TIME_LIMIT)
}

/// Whether `text` holds a NaN printed as a value (a word `nan`, any case).
fn prints_nan(text: &str) -> bool {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| word.eq_ignore_ascii_case("nan"))
}

/// The judgement of one run (see the module docs).
fn judge(args: &[String], out: &Run) -> Result<(), TestCaseError> {
    let stdout = &out.stdout;
    let stderr = &out.stderr;
    let code = out.code;
    prop_assert!(
        matches!(code, Some(0..=3)),
        "exit {code:?} for {args:?}\nstderr: {stderr}"
    );
    prop_assert!(!stderr.contains("panicked"), "panic for {args:?}: {stderr}");
    prop_assert!(!prints_nan(stdout), "NaN printed for {args:?}:\n{stdout}");
    prop_assert!(
        !stdout.contains("error:"),
        "an error printed among the results for {args:?}:\n{stdout}"
    );
    if code == Some(2) {
        // clap's own usage errors add a usage block; our errors are one `error:` line.
        let ours = !stderr.contains("Usage:");
        prop_assert!(
            !ours || stderr.lines().count() == 1,
            "bad input must get one line for {args:?}: {stderr}"
        );
        prop_assert!(stdout.is_empty(), "exit 2 printed results for {args:?}");
    }
    Ok(())
}

/// Fuzzes one subcommand; with `all_bad`, every draw holds a bad value and must be refused
/// (exit 2) within the time limit.
fn fuzz(words: &'static [&'static str], vocabulary: Vocabulary, extra: &[&str], all_bad: bool) {
    let dir = scratch();
    let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    let config = Config::with_cases(cases());
    proptest!(config, |(mut args in command_line(words, vocabulary))| {
        args.extend(extra.iter().cloned());
        match run(&args, &dir) {
            Some(out) => {
                judge(&args, &out)?;
                if all_bad {
                    prop_assert_eq!(out.code, Some(2), "{:?} was not refused", args);
                }
            }
            None => prop_assert!(!all_bad, "{:?} was not refused at once", args),
        }
    });
}

#[test]
fn eval_never_panics_or_prints_nan() {
    fuzz(&["eval"], EVAL, &[], false);
}

#[test]
fn simulate_never_panics_or_prints_nan() {
    fuzz(&["simulate"], SIMULATE, &[], false);
}

#[test]
fn diagnose_never_panics_or_prints_nan() {
    fuzz(&["diagnose"], DIAGNOSE, &["--quiet"], false);
}

#[test]
fn schemes_never_panics_or_prints_nan() {
    fuzz(&["schemes"], SCHEMES, &[], false);
}

#[test]
fn certify_never_panics_or_prints_nan() {
    fuzz(&["certify"], CERTIFY, &[], false);
}

#[test]
fn check_never_panics_or_prints_nan() {
    fuzz(&["check"], CHECK, &["--claim", "T1.limit"], false);
}

#[test]
fn report_never_panics_or_prints_nan() {
    fuzz(
        &["report"],
        REPORT,
        &["--out", "fuzz-report", "--quiet"],
        true,
    );
}

#[test]
fn report_merge_never_panics() {
    const MERGE: Vocabulary = &[
        ("--jobs", &["1", "0"]),
        ("--force", &[]),
        ("--quiet", &[]),
        ("--out", &["merged", ".", "/"]),
    ];
    fuzz(
        &["report", "merge", "does-not-exist", "."],
        MERGE,
        &[],
        false,
    );
}

#[test]
fn the_nan_detector_sees_nan_words_only() {
    assert!(prints_nan("lambda NaN\n"));
    assert!(prints_nan("{\"eta\": \"nan\"}"));
    assert!(!prints_nan("nanoseconds, finance, 1e-9"));
}
