//! Reading a token matrix from a NumPy `.npy` file (through `npyz`).
//!
//! Accepted: a two-dimensional array of `float64` or `float32` (either byte order, C or Fortran
//! order), n ≥ 2 rows, d ≥ 1 columns, every entry finite. Anything else — a file that is not
//! `.npy`, a truncated one, another dtype, another number of dimensions, a NaN or ∞ — is an
//! [`NpyError`] naming what is wrong. A zero row is accepted here and rejected by the kernels
//! ([`crate::KernelError::ZeroToken`]).

use ndarray::Array2;
use npyz::WriterBuilder;
use std::io::Read;
use std::path::Path;

/// Why a `.npy` file could not be used as tokens.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NpyError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {reason}")]
    Io {
        /// The path.
        path: String,
        /// The system's message.
        reason: String,
    },
    /// Not a well-formed `.npy` file (bad magic, header or truncated data).
    #[error("{path} is not a valid .npy file: {reason}")]
    Malformed {
        /// The path.
        path: String,
        /// What the parser reported.
        reason: String,
    },
    /// The array's dtype is not float64 or float32.
    #[error("{path} holds dtype {dtype}; need float64 or float32")]
    DType {
        /// The path.
        path: String,
        /// The dtype string.
        dtype: String,
    },
    /// Not a two-dimensional array with n ≥ 2 rows and d ≥ 1 columns.
    #[error("{path} has shape {shape:?}; need a 2-d array n x d with n >= 2 and d >= 1")]
    Shape {
        /// The path.
        path: String,
        /// The shape in the file.
        shape: Vec<u64>,
    },
    /// A non-finite entry.
    #[error("{path}: token {row} has a non-finite entry {value} in column {col}")]
    NonFinite {
        /// The path.
        path: String,
        /// Row.
        row: usize,
        /// Column.
        col: usize,
        /// The entry.
        value: f64,
    },
}

/// The element type stored in a `.npy` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NpyDType {
    /// float64.
    F64,
    /// float32.
    F32,
}

/// Reads an n × d token matrix (f32 entries are widened exactly) and reports the stored dtype.
///
/// # Errors
///
/// See [`NpyError`].
pub fn read_tokens(path: &Path) -> Result<(Array2<f64>, NpyDType), NpyError> {
    let p = path.display().to_string();
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| NpyError::Io {
            path: p.clone(),
            reason: e.to_string(),
        })?;
    parse_tokens(&bytes, &p)
}

/// [`read_tokens`] on bytes in memory; `name` is used in messages.
///
/// # Errors
///
/// See [`NpyError`].
pub fn parse_tokens(bytes: &[u8], name: &str) -> Result<(Array2<f64>, NpyDType), NpyError> {
    let malformed = |e: std::io::Error| NpyError::Malformed {
        path: name.to_owned(),
        reason: e.to_string(),
    };
    let file = npyz::NpyFile::new(bytes).map_err(malformed)?;
    let shape = file.shape().to_vec();
    let order = file.order();
    let dtype = file.dtype();
    let descr = match &dtype {
        npyz::DType::Plain(t) => t.to_string(),
        other => format!("{other:?}"),
    };
    let kind = match descr.get(1..) {
        Some("f8") => NpyDType::F64,
        Some("f4") => NpyDType::F32,
        _ => {
            return Err(NpyError::DType {
                path: name.to_owned(),
                dtype: descr,
            });
        }
    };
    if shape.len() != 2 || shape[0] < 2 || shape[1] < 1 {
        return Err(NpyError::Shape {
            path: name.to_owned(),
            shape,
        });
    }
    let (n, d) = (
        usize::try_from(shape[0]).map_err(|_| NpyError::Shape {
            path: name.to_owned(),
            shape: shape.clone(),
        })?,
        usize::try_from(shape[1]).map_err(|_| NpyError::Shape {
            path: name.to_owned(),
            shape: shape.clone(),
        })?,
    );
    let data: Vec<f64> = match kind {
        NpyDType::F64 => file.into_vec::<f64>().map_err(malformed)?,
        NpyDType::F32 => file
            .into_vec::<f32>()
            .map_err(malformed)?
            .into_iter()
            .map(f64::from)
            .collect(),
    };
    if data.len() != n * d {
        return Err(NpyError::Malformed {
            path: name.to_owned(),
            reason: format!("{} values for a {n} x {d} array", data.len()),
        });
    }
    let x = match order {
        npyz::Order::C => Array2::from_shape_vec((n, d), data),
        npyz::Order::Fortran => Array2::from_shape_vec((d, n), data)
            .map(|a| a.reversed_axes().as_standard_layout().into_owned()),
    }
    .map_err(|e| NpyError::Malformed {
        path: name.to_owned(),
        reason: e.to_string(),
    })?;
    for ((row, col), v) in x.indexed_iter() {
        if !v.is_finite() {
            return Err(NpyError::NonFinite {
                path: name.to_owned(),
                row,
                col,
                value: *v,
            });
        }
    }
    Ok((x, kind))
}

/// Writes an n × d float64 (or float32) array as `.npy` bytes in C order (for tests and tools).
pub fn to_npy_bytes(x: &Array2<f64>, dtype: NpyDType) -> Vec<u8> {
    let (n, d) = x.dim();
    let mut out = Vec::new();
    let shape = [n as u64, d as u64];
    match dtype {
        NpyDType::F64 => {
            let mut w = npyz::WriteOptions::new()
                .default_dtype()
                .shape(&shape)
                .writer(&mut out)
                .begin_nd()
                .expect("writing to memory");
            w.extend(x.iter().copied()).expect("writing to memory");
            w.finish().expect("writing to memory");
        }
        NpyDType::F32 => {
            let mut w = npyz::WriteOptions::new()
                .default_dtype()
                .shape(&shape)
                .writer(&mut out)
                .begin_nd()
                .expect("writing to memory");
            w.extend(x.iter().map(|v| *v as f32))
                .expect("writing to memory");
            w.finish().expect("writing to memory");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_f64_and_f32() {
        let x = ndarray::array![[1.0, 2.0, 3.0], [4.0, 5.5, -6.0]];
        for dt in [NpyDType::F64, NpyDType::F32] {
            let bytes = to_npy_bytes(&x, dt);
            let (y, got) = parse_tokens(&bytes, "t.npy").unwrap();
            assert_eq!(got, dt);
            assert_eq!(y, x);
        }
    }

    #[test]
    fn rejects_malformed_truncated_and_wrong_shapes() {
        let x = ndarray::array![[1.0, 2.0], [3.0, 4.0]];
        let bytes = to_npy_bytes(&x, NpyDType::F64);
        let cut = &bytes[..bytes.len() - 3];
        assert!(matches!(
            parse_tokens(cut, "t"),
            Err(NpyError::Malformed { .. })
        ));
        assert!(matches!(
            parse_tokens(b"not numpy at all", "t"),
            Err(NpyError::Malformed { .. })
        ));
        let one_row = to_npy_bytes(&ndarray::array![[1.0, 2.0]], NpyDType::F64);
        assert!(matches!(
            parse_tokens(&one_row, "t"),
            Err(NpyError::Shape { .. })
        ));
        let mut nan = x.clone();
        nan[[1, 0]] = f64::NAN;
        let err = parse_tokens(&to_npy_bytes(&nan, NpyDType::F64), "t").unwrap_err();
        assert!(
            matches!(err, NpyError::NonFinite { row: 1, col: 0, .. }),
            "{err}"
        );
        // A 1-d int array.
        let mut ints = Vec::new();
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&[3])
            .writer(&mut ints)
            .begin_nd()
            .unwrap();
        w.extend([1i32, 2, 3]).unwrap();
        w.finish().unwrap();
        assert!(matches!(
            parse_tokens(&ints, "t"),
            Err(NpyError::DType { .. })
        ));
    }
}
