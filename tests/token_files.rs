//! `critscale simulate --tokens` on every token-file format (`critscale-tokens`): the same values
//! as `.npy` (f16, f32, f64), as a `.safetensors` tensor (F16, BF16, F32, F64, chosen with
//! `--tensor`) and as ids into a table give the same observables, and a bad file is one line
//! with exit 2.

use super::support::critscale;
use critscale_model::gaussian_almost_simplex;
use critscale_tokens::npy::{IdDType, NpyDType, ids_to_npy_bytes, parse_tokens, to_npy_bytes};
use critscale_tokens::{StoredDtype, to_safetensors_bytes};
use ndarray::Array2;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh file `*.{ext}` in the temp directory holding `bytes`; removed on drop.
struct Temp(PathBuf);

impl Temp {
    fn new(bytes: &[u8], ext: &str) -> Temp {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let k = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!(
            "critscale-token-files-{}-{k}.{ext}",
            std::process::id()
        ));
        std::fs::write(&path, bytes).expect("temp dir is writable");
        Temp(path)
    }

    fn arg(&self) -> String {
        self.0.to_str().expect("a UTF-8 temp path").to_owned()
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        std::fs::remove_file(&self.0).ok();
    }
}

/// `simulate --json` on `extra`, without the fields that name the source or time the phases.
fn observables(extra: &[&str]) -> Value {
    let mut args = vec!["simulate", "--beta", "3", "--json"];
    args.extend_from_slice(extra);
    let run = critscale(&args);
    run.expect_success();
    let mut v = run.json();
    let m = v.as_object_mut().expect("a JSON object");
    assert!(m.remove("source").is_some() && m.remove("timings").is_some());
    v
}

/// Gaussian tokens rounded to values that f16, bf16 and f32 all hold exactly: f16 values
/// whose last 3 significand bits are zero (8 significant bits, bf16's precision).
fn representable_tokens(n: usize, d: usize) -> Array2<f64> {
    let x: Array2<f64> = gaussian_almost_simplex(&(), n, d, 0.3, 11);
    let x = x.mapv(|v| (v * 64.0).round().clamp(-256.0, 256.0) / 64.0);
    let (y, _) = parse_tokens(&to_npy_bytes(&x, NpyDType::F16), "x").expect("f16 tokens");
    assert_eq!(y, x, "the rounded tokens are f16 values");
    y
}

#[test]
fn every_format_gives_the_observables_of_the_same_values() {
    let x = representable_tokens(48, 6);
    let want = observables(&[
        "--tokens",
        &Temp::new(&to_npy_bytes(&x, NpyDType::F64), "npy").arg(),
    ]);
    assert_eq!(want["n"], 48);
    for dt in [NpyDType::F16, NpyDType::F32] {
        let f = Temp::new(&to_npy_bytes(&x, dt), "npy");
        assert_eq!(observables(&["--tokens", &f.arg()]), want, "{dt:?}");
    }
    let norm = Array2::<f64>::ones((1, 6));
    for dt in [
        StoredDtype::F16,
        StoredDtype::BF16,
        StoredDtype::F32,
        StoredDtype::F64,
    ] {
        let one = Temp::new(&to_safetensors_bytes(&[("embed", &x, dt)]), "safetensors");
        assert_eq!(observables(&["--tokens", &one.arg()]), want, "{dt}");
        let two = Temp::new(
            &to_safetensors_bytes(&[("embed", &x, dt), ("norm", &norm, StoredDtype::F32)]),
            "safetensors",
        );
        let got = observables(&["--tokens", &two.arg(), "--tensor", "embed"]);
        assert_eq!(got, want, "{dt} with --tensor");
    }
    // Ids into a table that holds the rows in another order, among rows no id selects.
    let rows = 70;
    let mut table = Array2::<f64>::from_elem((rows, 6), 0.25);
    let ids: Vec<i64> = (0..48).map(|i| ((i * 37 + 5) % rows) as i64).collect();
    for (i, &r) in ids.iter().enumerate() {
        table.row_mut(r as usize).assign(&x.row(i));
    }
    let ids_file = Temp::new(&ids_to_npy_bytes(&ids, IdDType::I32), "npy");
    let st = Temp::new(
        &to_safetensors_bytes(&[("embed", &table, StoredDtype::BF16)]),
        "safetensors",
    );
    let npy = Temp::new(&to_npy_bytes(&table, NpyDType::F16), "npy");
    for t in [&st, &npy] {
        let got = observables(&["--tokens", &t.arg(), "--ids", &ids_file.arg()]);
        assert_eq!(got, want);
    }
    // The source names the table, the ids and the counts.
    let run = critscale(&[
        "simulate",
        "--beta",
        "3",
        "--tokens",
        &st.arg(),
        "--ids",
        &ids_file.arg(),
    ]);
    run.expect_success();
    assert!(
        run.stdout.contains(&format!(
            "[embed] rows by {} (n = 48 of 70)",
            ids_file.arg()
        )),
        "{}",
        run.stdout
    );
}

/// Runs `simulate` expecting exit code 2 and exactly one line on stderr containing `needle`.
fn rejects(extra: &[&str], needle: &str) {
    let mut a = vec!["simulate", "--beta", "2"];
    a.extend_from_slice(extra);
    let out = critscale(&a);
    out.expect_exit(2);
    let err = &out.stderr;
    assert_eq!(err.trim_end().lines().count(), 1, "{a:?}: {err}");
    assert!(
        err.starts_with("error: ") && err.contains(needle),
        "{a:?}: {err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_token_files_and_flags_are_one_line_and_exit_2() {
    let x = representable_tokens(4, 3);
    let v = Array2::<f64>::ones((1, 3));
    let two = Temp::new(
        &to_safetensors_bytes(&[("a", &x, StoredDtype::F32), ("b", &v, StoredDtype::F32)]),
        "safetensors",
    );
    let whole = to_safetensors_bytes(&[("a", &x, StoredDtype::F16)]);
    let cut = Temp::new(&whole[..whole.len() - 3], "safetensors");
    let table = Temp::new(&to_npy_bytes(&x, NpyDType::F32), "npy");
    let ids = Temp::new(&ids_to_npy_bytes(&[0, 3, 4], IdDType::I64), "npy");
    let float_ids = Temp::new(&to_npy_bytes(&x, NpyDType::F64), "npy");
    let text = Temp::new(b"0.1 0.2\n", "csv");
    rejects(
        &["--tokens", &two.arg()],
        "holds 2 tensors (a F32 [4, 3], b F32 [1, 3]); choose one with --tensor NAME",
    );
    rejects(
        &["--tokens", &two.arg(), "--tensor", "c"],
        "has no tensor named 'c'",
    );
    rejects(
        &["--tokens", &two.arg(), "--tensor", "b"],
        "[b] has shape [1, 3]; need a 2-d tensor",
    );
    rejects(
        &["--tokens", &cut.arg()],
        "is not a valid .safetensors file",
    );
    rejects(
        &["--tokens", &table.arg(), "--ids", &ids.arg()],
        "id 4 at position 2 is outside the rows of",
    );
    rejects(
        &["--tokens", &table.arg(), "--ids", &float_ids.arg()],
        "need int32, int64, uint16 or uint32",
    );
    rejects(
        &["--tokens", &table.arg(), "--tensor", "a"],
        "--tensor applies to .safetensors files only",
    );
    rejects(
        &["--tokens", &text.arg()],
        "unknown token file format (extension 'csv'",
    );
    rejects(
        &[
            "--config", "gaussian", "--n", "8", "--d", "4", "--rho", "0.2", "--tensor", "a",
        ],
        "--tensor needs --tokens",
    );
    rejects(
        &[
            "--config",
            "gaussian",
            "--n",
            "8",
            "--d",
            "4",
            "--rho",
            "0.2",
            "--ids",
            &ids.arg(),
        ],
        "--ids needs --tokens",
    );
}
