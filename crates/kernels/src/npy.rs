//! Reading a token matrix from a NumPy `.npy` file (through `npyz`).
//!
//! Accepted: a two-dimensional array of `float64` or `float32` (either byte order, C or Fortran
//! order), n ≥ 2 rows, d ≥ 1 columns, every entry finite. Anything else — a file that is not
//! `.npy`, a truncated one, another dtype, another number of dimensions, a NaN or ∞ — is an
//! [`NpyError`] naming what is wrong. A zero row is accepted here and rejected by the kernels
//! ([`crate::KernelError::ZeroToken`]).
//!
//! **Bounded reading.** Only regular files are read (a device such as `/dev/zero`, a pipe or a
//! directory is refused before any byte is read). The header is read first (at most
//! [`MAX_HEADER`] bytes) and checked; then the file's length must equal the header's size plus
//! n·d·(4 or 8) bytes, so a file that declares more (or fewer) values than it holds is refused
//! before any data is read and before any buffer of the declared size is allocated; the data
//! buffer itself is allocated fallibly. [`inspect_tokens`] stops after the header, so that a
//! caller can check the memory the whole computation needs before loading anything.

use ndarray::Array2;
use npyz::WriterBuilder;
use std::io::Read;
use std::path::Path;

/// The largest header accepted, in bytes (magic, version, length and the dict). NumPy itself
/// refuses headers above 10 000 bytes by default; ours are about 128.
pub const MAX_HEADER: usize = 16_384;

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
    /// Not a regular file (a device, a pipe, a directory): refused before reading.
    #[error("{path} is not a regular file ({kind}); --tokens needs a .npy file")]
    NotRegular {
        /// The path.
        path: String,
        /// What it is instead.
        kind: &'static str,
    },
    /// Not a well-formed `.npy` file (bad magic, header or truncated data).
    #[error("{path} is not a valid .npy file: {reason}")]
    Malformed {
        /// The path.
        path: String,
        /// What the parser reported.
        reason: String,
    },
    /// The header declares a different amount of data than the file holds.
    #[error(
        "{path} declares {n} x {d} {dtype} values ({declared} bytes of data) but the file holds \
         {held} bytes of data; need a complete .npy file"
    )]
    SizeMismatch {
        /// The path.
        path: String,
        /// Declared rows.
        n: u64,
        /// Declared columns.
        d: u64,
        /// `float64` or `float32`.
        dtype: &'static str,
        /// n·d·(item size), saturated at `u64::MAX` when it does not fit.
        declared: u64,
        /// Bytes after the header.
        held: u64,
    },
    /// The data of a file whose size is consistent could not be allocated.
    #[error("{path}: cannot allocate {bytes} bytes for its {n} x {d} values")]
    OutOfMemory {
        /// The path.
        path: String,
        /// Rows.
        n: usize,
        /// Columns.
        d: usize,
        /// Bytes asked for.
        bytes: u64,
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

impl NpyDType {
    /// Bytes per value.
    pub fn size(self) -> usize {
        match self {
            NpyDType::F64 => 8,
            NpyDType::F32 => 4,
        }
    }

    fn name(self) -> &'static str {
        match self {
            NpyDType::F64 => "float64",
            NpyDType::F32 => "float32",
        }
    }
}

/// What the header of a token file declares (checked against the file's length).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NpyInfo {
    /// Rows (tokens).
    pub n: usize,
    /// Columns (dimension).
    pub d: usize,
    /// Stored element type.
    pub dtype: NpyDType,
    /// Bytes of the header (magic, version, length field and dict).
    pub header_bytes: usize,
}

/// The header's length from the first bytes (magic, version, length field), or why not.
fn header_len(first: &[u8]) -> Result<usize, String> {
    if first.len() < 10 || &first[..6] != b"\x93NUMPY" {
        return Err("magic not found for NPY file".to_owned());
    }
    let total = match first[6] {
        1 => 10 + usize::from(u16::from_le_bytes([first[8], first[9]])),
        2 | 3 => {
            if first.len() < 12 {
                return Err("truncated header".to_owned());
            }
            let len = u32::from_le_bytes([first[8], first[9], first[10], first[11]]);
            12usize.saturating_add(usize::try_from(len).unwrap_or(usize::MAX))
        }
        v => return Err(format!("unsupported format version {v}")),
    };
    if total > MAX_HEADER {
        return Err(format!(
            "header of {total} bytes (at most {MAX_HEADER} are accepted)"
        ));
    }
    Ok(total)
}

/// The shape tuple as written in the header text, if it can be found, with every dimension's
/// product checked: `npyz` multiplies the dimensions without checking for overflow.
fn shape_fits(text: &str) -> Result<(), String> {
    // Deeply nested literals would only recurse in the parser; a header has two levels.
    if text
        .chars()
        .filter(|c| matches!(c, '(' | '[' | '{'))
        .count()
        > 16
    {
        return Err("header nests too deeply".to_owned());
    }
    let Some(at) = text.find("shape") else {
        return Ok(());
    };
    let rest = &text[at..];
    let (Some(open), Some(close)) = (rest.find('('), rest.find(')')) else {
        return Ok(());
    };
    if close < open {
        return Ok(());
    }
    let mut product: u64 = 1;
    for part in rest[open + 1..close].split(',') {
        let part = part.trim().trim_end_matches('L');
        if part.is_empty() {
            continue;
        }
        let Ok(v) = part.parse::<u64>() else {
            return Ok(());
        };
        product = product.checked_mul(v.max(1)).ok_or_else(|| {
            format!(
                "shape ({}) has more values than fit in 64 bits",
                rest[open + 1..close].trim()
            )
        })?;
    }
    Ok(())
}

/// Parses and checks the header in `head` (exactly the header's bytes), given `data_len`, the
/// number of bytes that follow it.
fn check_header(head: &[u8], data_len: u64, name: &str) -> Result<NpyInfo, NpyError> {
    let malformed = |reason: String| NpyError::Malformed {
        path: name.to_owned(),
        reason,
    };
    let total = header_len(head).map_err(malformed)?;
    if head.len() < total {
        return Err(malformed("truncated header".to_owned()));
    }
    let start = if head[6] == 1 { 10 } else { 12 };
    shape_fits(&String::from_utf8_lossy(&head[start..total])).map_err(malformed)?;
    let file = npyz::NpyFile::new(&head[..total]).map_err(|e| malformed(e.to_string()))?;
    let shape = file.shape().to_vec();
    let descr = match &file.dtype() {
        npyz::DType::Plain(t) => t.to_string(),
        other => format!("{other:?}"),
    };
    let dtype = match descr.get(1..) {
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
    let declared = shape[0]
        .checked_mul(shape[1])
        .and_then(|v| v.checked_mul(dtype.size() as u64));
    if declared != Some(data_len) {
        return Err(NpyError::SizeMismatch {
            path: name.to_owned(),
            n: shape[0],
            d: shape[1],
            dtype: dtype.name(),
            declared: declared.unwrap_or(u64::MAX),
            held: data_len,
        });
    }
    // The data fit in the file, hence in memory's address range: n and d fit in usize.
    let (n, d) = (
        usize::try_from(shape[0]).map_err(|_| malformed("shape too large".to_owned()))?,
        usize::try_from(shape[1]).map_err(|_| malformed("shape too large".to_owned()))?,
    );
    Ok(NpyInfo {
        n,
        d,
        dtype,
        header_bytes: total,
    })
}

/// What a file that is not a regular file is, for the message.
#[cfg(unix)]
fn kind_of(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a directory"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_fifo() {
        "a pipe"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a plain file"
    }
}

/// What a file that is not a regular file is, for the message.
#[cfg(not(unix))]
fn kind_of(t: &std::fs::FileType) -> &'static str {
    if t.is_dir() {
        "a directory"
    } else {
        "not a plain file"
    }
}

/// Opens `path` as a regular file and reads its header: the file and what it declares.
fn open_checked(path: &Path) -> Result<(std::fs::File, NpyInfo, Vec<u8>), NpyError> {
    let p = path.display().to_string();
    let io = |e: std::io::Error| NpyError::Io {
        path: p.clone(),
        reason: e.to_string(),
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        let kind = kind_of(&meta.file_type());
        return Err(NpyError::NotRegular { path: p, kind });
    }
    let mut file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    // The fixed part first (at most 12 bytes), then exactly the header it announces.
    let mut head = Vec::with_capacity(64);
    (&mut file)
        .take(12.min(len))
        .read_to_end(&mut head)
        .map_err(io)?;
    let total = header_len(&head).map_err(|reason| NpyError::Malformed {
        path: p.clone(),
        reason,
    })?;
    if (total as u64) > len {
        return Err(NpyError::Malformed {
            path: p,
            reason: format!("truncated header ({len} bytes, the header needs {total})"),
        });
    }
    (&mut file)
        .take((total - head.len()) as u64)
        .read_to_end(&mut head)
        .map_err(io)?;
    let info = check_header(&head, len - total as u64, &p)?;
    Ok((file, info, head))
}

/// Reads and checks only the header of a token file: what it declares, consistent with the
/// file's length. Reads at most [`MAX_HEADER`] bytes.
///
/// # Errors
///
/// See [`NpyError`] (everything but the entries' values, which are not read).
pub fn inspect_tokens(path: &Path) -> Result<NpyInfo, NpyError> {
    open_checked(path).map(|(_, info, _)| info)
}

/// Reads an n × d token matrix (f32 entries are widened exactly) and reports the stored dtype.
/// Reads the header, then exactly the n·d values it declares (see the module docs).
///
/// # Errors
///
/// See [`NpyError`].
pub fn read_tokens(path: &Path) -> Result<(Array2<f64>, NpyDType), NpyError> {
    let p = path.display().to_string();
    let (file, info, head) = open_checked(path)?;
    let data_len = info.n * info.d * info.dtype.size();
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(head.len() + data_len)
        .map_err(|_| NpyError::OutOfMemory {
            path: p.clone(),
            n: info.n,
            d: info.d,
            bytes: data_len as u64,
        })?;
    bytes.extend_from_slice(&head);
    let got = file
        .take(data_len as u64)
        .read_to_end(&mut bytes)
        .map_err(|e| NpyError::Io {
            path: p.clone(),
            reason: e.to_string(),
        })?;
    if got != data_len {
        return Err(NpyError::Malformed {
            path: p,
            reason: format!("the file shrank while being read ({got} of {data_len} data bytes)"),
        });
    }
    parse_tokens(&bytes, &p)
}

/// [`read_tokens`] on bytes in memory; `name` is used in messages. The bytes must be exactly a
/// header and the data it declares.
///
/// # Errors
///
/// See [`NpyError`].
pub fn parse_tokens(bytes: &[u8], name: &str) -> Result<(Array2<f64>, NpyDType), NpyError> {
    let malformed = |e: std::io::Error| NpyError::Malformed {
        path: name.to_owned(),
        reason: e.to_string(),
    };
    let total = header_len(bytes).map_err(|reason| NpyError::Malformed {
        path: name.to_owned(),
        reason,
    })?;
    if bytes.len() < total {
        return Err(NpyError::Malformed {
            path: name.to_owned(),
            reason: format!(
                "truncated header ({} bytes, the header needs {total})",
                bytes.len()
            ),
        });
    }
    let info = check_header(&bytes[..total], (bytes.len() - total) as u64, name)?;
    let (n, d, kind) = (info.n, info.d, info.dtype);
    let file = npyz::NpyFile::new(bytes).map_err(malformed)?;
    let order = file.order();
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
            Err(NpyError::SizeMismatch {
                declared: 32,
                held: 29,
                ..
            })
        ));
        assert!(matches!(
            parse_tokens(&bytes[..20], "t"),
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

    /// A v1.0 header declaring `shape` (a Python tuple literal) of `descr`, padded like NumPy's.
    pub(crate) fn header(descr: &str, shape: &str) -> Vec<u8> {
        let mut dict =
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        while !(10 + dict.len() + 1).is_multiple_of(64) {
            dict.push(' ');
        }
        dict.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        out.extend_from_slice(dict.as_bytes());
        out
    }

    #[test]
    fn a_huge_declared_shape_is_reported_as_such() {
        for shape in [
            "(1000000000000, 5)",
            "(4294967296, 4294967296)",
            "(18446744073709551615, 3)",
        ] {
            let mut bytes = header("<f8", shape);
            bytes.extend_from_slice(&[0u8; 40]);
            let err = parse_tokens(&bytes, "big.npy").unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains("declares") || text.contains("more values than fit"),
                "{shape}: {text}"
            );
            assert!(!text.contains("fill whole buffer"), "{text}");
        }
        let mut bytes = header("<f8", "(1000000000000, 5)");
        bytes.extend_from_slice(&[0u8; 40]);
        assert_eq!(
            parse_tokens(&bytes, "big.npy").unwrap_err().to_string(),
            "big.npy declares 1000000000000 x 5 float64 values (40000000000000 bytes of data) \
             but the file holds 40 bytes of data; need a complete .npy file"
        );
        // Extra bytes after the data are refused too (the data is exactly what is declared).
        let mut extra = to_npy_bytes(&ndarray::array![[1.0], [2.0]], NpyDType::F64);
        extra.push(0);
        assert!(matches!(
            parse_tokens(&extra, "t"),
            Err(NpyError::SizeMismatch { .. })
        ));
    }

    #[test]
    fn devices_and_directories_are_refused_before_reading() {
        for path in ["/dev/zero", "/dev/null", "."] {
            let p = std::path::Path::new(path);
            if !p.exists() {
                continue;
            }
            let err = read_tokens(p).unwrap_err();
            assert!(matches!(err, NpyError::NotRegular { .. }), "{path}: {err}");
            assert!(matches!(
                inspect_tokens(p),
                Err(NpyError::NotRegular { .. })
            ));
        }
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            // Garbage is refused, never a panic.
            if let Ok((x, _)) = parse_tokens(&bytes, "r") {
                proptest::prop_assert!(x.nrows() >= 2 && x.ncols() >= 1);
            }
        }

        #[test]
        fn random_data_after_a_valid_header_never_panics(
            descr in proptest::prop_oneof![
                proptest::strategy::Just("<f8"), proptest::strategy::Just("<f4"),
                proptest::strategy::Just(">f8"), proptest::strategy::Just("<i4"),
            ],
            n in 0u64..6,
            d in 0u64..4,
            tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
        ) {
            let mut bytes = header(descr, &format!("({n}, {d})"));
            let head = bytes.len();
            bytes.extend_from_slice(&tail);
            match parse_tokens(&bytes, "r") {
                Ok((x, dt)) => {
                    // Accepted only when the data is exactly what the header declares.
                    proptest::prop_assert_eq!(x.dim(), (n as usize, d as usize));
                    proptest::prop_assert_eq!(bytes.len() - head, (n * d) as usize * dt.size());
                }
                Err(e) => proptest::prop_assert!(!e.to_string().is_empty()),
            }
        }

        #[test]
        fn random_bytes_in_a_file_are_refused_without_reading_past_it(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120),
            cut in 0usize..200,
        ) {
            // A valid file cut anywhere, or garbage: an error naming the file, never a panic.
            let good = to_npy_bytes(&ndarray::array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], NpyDType::F32);
            let data: Vec<u8> = if cut < good.len() { good[..cut].to_vec() } else { bytes };
            let path = std::env::temp_dir().join(format!(
                "critscale-npy-prop-{}-{:?}.npy",
                std::process::id(),
                std::thread::current().id()
            ));
            std::fs::write(&path, &data).unwrap();
            let got = read_tokens(&path);
            std::fs::remove_file(&path).ok();
            proptest::prop_assert!(got.is_err());
        }
    }
}
