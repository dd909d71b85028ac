//! Reading a token matrix (and a token-id vector) from a NumPy `.npy` file; the header is parsed
//! by `npyz`.
//!
//! Accepted as tokens: a two-dimensional array of `float64`, `float32` or `float16` (either byte
//! order, C or Fortran order), n ≥ 2 rows, d ≥ 1 columns, every entry finite; f32 and f16 values
//! are widened exactly to f64. Accepted as token ids ([`read_ids`]): a one-dimensional array of
//! `int32`, `int64`, `uint16` or `uint32` with at least 2 entries. Anything else — a file that is
//! not `.npy`, a truncated one, another dtype, another number of dimensions, a NaN or ∞ — is an
//! [`NpyError`] naming what is wrong. A zero row is accepted here (the kernels reject it).
//!
//! **Bounded reading.** Only regular files are read (a device such as `/dev/zero`, a pipe or a
//! directory is refused before any byte is read). The header is read first (at most
//! [`MAX_HEADER`] bytes) and checked; then the file's length must equal the header's size plus
//! n·d·(4 or 8) bytes, so a file that declares more (or fewer) values than it holds is refused
//! before any data is read and before any buffer of the declared size is allocated; the data
//! buffer itself is allocated fallibly. [`inspect_tokens`] stops after the header, so that a
//! caller can check the memory the whole computation needs before loading anything.

use crate::StoredDtype;
use crate::raw::{GatherError, RawMatrix, bytes_of};
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
    #[error("{path} is not a regular file ({kind}); need a .npy or .safetensors file")]
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
        "{path} declares {dims} {dtype} values ({declared} bytes of data) but the file holds \
         {held} bytes of data; need a complete .npy file"
    )]
    SizeMismatch {
        /// The path.
        path: String,
        /// The declared shape, `n x d` (or `n` for token ids).
        dims: String,
        /// The stored dtype (`float64`, `float32`, `float16`, `int64`, ...).
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
    /// The array's dtype is not one of those accepted (float64, float32 or float16 for tokens;
    /// int32, int64, uint16 or uint32 for ids).
    #[error("{path} holds dtype {dtype}; need {need}")]
    DType {
        /// The path.
        path: String,
        /// The dtype string.
        dtype: String,
        /// The accepted dtypes.
        need: &'static str,
    },
    /// Tokens: not a two-dimensional array with n ≥ 2 rows and d ≥ 1 columns; ids: not a
    /// one-dimensional array of at least 2 entries.
    #[error("{path} has shape {shape:?}; need {need}")]
    Shape {
        /// The path.
        path: String,
        /// The shape in the file.
        shape: Vec<u64>,
        /// The accepted shapes.
        need: &'static str,
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

/// The dtypes accepted for tokens, as named in messages.
pub const TOKEN_DTYPES: &str = "float64, float32 or float16";
/// The shapes accepted for tokens, as named in messages.
const TOKEN_SHAPE: &str = "a 2-d array n x d with n >= 2 and d >= 1";
/// The dtypes accepted for token ids, as named in messages.
pub const ID_DTYPES: &str = "int32, int64, uint16 or uint32";
/// The shapes accepted for token ids, as named in messages.
const ID_SHAPE: &str = "a 1-d array of at least 2 token ids";

/// The element type stored in a `.npy` token file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NpyDType {
    /// float64.
    F64,
    /// float32.
    F32,
    /// float16 (IEEE 754 binary16).
    F16,
}

impl NpyDType {
    /// Bytes per value.
    pub fn size(self) -> usize {
        self.stored().size()
    }

    /// NumPy's name of the dtype (`float64`, `float32`, `float16`).
    pub fn name(self) -> &'static str {
        match self {
            NpyDType::F64 => "float64",
            NpyDType::F32 => "float32",
            NpyDType::F16 => "float16",
        }
    }

    /// The same element type in the crate's common naming.
    pub fn stored(self) -> StoredDtype {
        match self {
            NpyDType::F64 => StoredDtype::F64,
            NpyDType::F32 => StoredDtype::F32,
            NpyDType::F16 => StoredDtype::F16,
        }
    }
}

/// The element type stored in a `.npy` token-id file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdDType {
    /// int32.
    I32,
    /// int64.
    I64,
    /// uint16.
    U16,
    /// uint32.
    U32,
}

impl IdDType {
    /// Bytes per id.
    pub fn size(self) -> usize {
        match self {
            IdDType::I64 => 8,
            IdDType::I32 | IdDType::U32 => 4,
            IdDType::U16 => 2,
        }
    }

    /// NumPy's name of the dtype (`int32`, ...).
    pub fn name(self) -> &'static str {
        match self {
            IdDType::I32 => "int32",
            IdDType::I64 => "int64",
            IdDType::U16 => "uint16",
            IdDType::U32 => "uint32",
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
    /// Column-major (`fortran_order: True`) data.
    pub fortran: bool,
    /// Big-endian values (`>` in the dtype).
    pub big_endian: bool,
}

/// What the header of a token-id file declares (checked against the file's length).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdsInfo {
    /// Number of ids.
    pub n: usize,
    /// Stored element type.
    pub dtype: IdDType,
    /// Bytes of the header.
    pub header_bytes: usize,
    /// Big-endian values.
    pub big_endian: bool,
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

/// The parts of a header that matter here.
struct Header {
    shape: Vec<u64>,
    /// The dtype string, e.g. `<f8`.
    descr: String,
    fortran: bool,
    total: usize,
}

impl Header {
    /// Whether the values are big-endian (`>`; `=` is the machine's order).
    fn big_endian(&self) -> bool {
        match self.descr.as_bytes().first() {
            Some(b'>') => true,
            Some(b'=') => cfg!(target_endian = "big"),
            _ => false,
        }
    }
}

/// Parses the header in `head` (at least the header's bytes).
fn parse_header(head: &[u8], name: &str) -> Result<Header, NpyError> {
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
    Ok(Header {
        shape,
        descr,
        fortran: file.order() == npyz::Order::Fortran,
        total,
    })
}

/// Checks that `data_len` bytes are exactly the product of `shape` values of `size` bytes.
fn check_size(
    shape: &[u64],
    size: usize,
    dtype: &'static str,
    data_len: u64,
    name: &str,
) -> Result<(), NpyError> {
    let declared = shape
        .iter()
        .try_fold(size as u64, |acc, &v| acc.checked_mul(v));
    if declared != Some(data_len) {
        let dims = shape
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(" x ");
        return Err(NpyError::SizeMismatch {
            path: name.to_owned(),
            dims,
            dtype,
            declared: declared.unwrap_or(u64::MAX),
            held: data_len,
        });
    }
    Ok(())
}

/// A dimension as `usize` (it fits once the data is known to fit in the file).
fn dim(v: u64, name: &str) -> Result<usize, NpyError> {
    usize::try_from(v).map_err(|_| NpyError::Malformed {
        path: name.to_owned(),
        reason: "shape too large".to_owned(),
    })
}

/// Parses and checks the header of a token file in `head` (exactly the header's bytes), given
/// `data_len`, the number of bytes that follow it.
fn check_header(head: &[u8], data_len: u64, name: &str) -> Result<NpyInfo, NpyError> {
    let h = parse_header(head, name)?;
    let dtype = match h.descr.get(1..) {
        Some("f8") => NpyDType::F64,
        Some("f4") => NpyDType::F32,
        Some("f2") => NpyDType::F16,
        _ => {
            return Err(NpyError::DType {
                path: name.to_owned(),
                dtype: h.descr,
                need: TOKEN_DTYPES,
            });
        }
    };
    let shape = &h.shape;
    if shape.len() != 2 || shape[0] < 2 || shape[1] < 1 {
        return Err(NpyError::Shape {
            path: name.to_owned(),
            shape: h.shape,
            need: TOKEN_SHAPE,
        });
    }
    check_size(shape, dtype.size(), dtype.name(), data_len, name)?;
    Ok(NpyInfo {
        n: dim(shape[0], name)?,
        d: dim(shape[1], name)?,
        dtype,
        header_bytes: h.total,
        fortran: h.fortran,
        big_endian: h.big_endian(),
    })
}

/// Parses and checks the header of a token-id file, like [`check_header`].
fn check_ids_header(head: &[u8], data_len: u64, name: &str) -> Result<IdsInfo, NpyError> {
    let h = parse_header(head, name)?;
    let dtype = match h.descr.get(1..) {
        Some("i4") => IdDType::I32,
        Some("i8") => IdDType::I64,
        Some("u2") => IdDType::U16,
        Some("u4") => IdDType::U32,
        _ => {
            return Err(NpyError::DType {
                path: name.to_owned(),
                dtype: h.descr,
                need: ID_DTYPES,
            });
        }
    };
    if h.shape.len() != 1 || h.shape[0] < 2 {
        return Err(NpyError::Shape {
            path: name.to_owned(),
            shape: h.shape,
            need: ID_SHAPE,
        });
    }
    check_size(&h.shape, dtype.size(), dtype.name(), data_len, name)?;
    Ok(IdsInfo {
        n: dim(h.shape[0], name)?,
        dtype,
        header_bytes: h.total,
        big_endian: h.big_endian(),
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

/// Opens `path` if it is a regular file: the file and its length. Nothing is read.
pub(crate) fn open_regular(path: &Path) -> Result<(std::fs::File, u64), NpyError> {
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
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    Ok((file, len))
}

/// Opens `path` as a regular file and reads exactly its header: the file, the header's bytes
/// and the number of bytes after the header.
fn open_head(path: &Path) -> Result<(std::fs::File, Vec<u8>, u64), NpyError> {
    let p = path.display().to_string();
    let io = |e: std::io::Error| NpyError::Io {
        path: p.clone(),
        reason: e.to_string(),
    };
    let (mut file, len) = open_regular(path)?;
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
    Ok((file, head, len - total as u64))
}

/// Reads exactly `data_len` bytes from `file` into a fallibly allocated buffer.
pub(crate) fn read_exact_fallible(
    file: impl Read,
    data_len: usize,
    p: &str,
    what: impl FnOnce() -> NpyError,
) -> Result<Vec<u8>, NpyError> {
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(data_len).map_err(|_| what())?;
    let got = file
        .take(data_len as u64)
        .read_to_end(&mut bytes)
        .map_err(|e| NpyError::Io {
            path: p.to_owned(),
            reason: e.to_string(),
        })?;
    if got != data_len {
        return Err(NpyError::Malformed {
            path: p.to_owned(),
            reason: format!("the file shrank while being read ({got} of {data_len} data bytes)"),
        });
    }
    Ok(bytes)
}

/// Reads and checks only the header of a token file: what it declares, consistent with the
/// file's length. Reads at most [`MAX_HEADER`] bytes.
///
/// # Errors
///
/// See [`NpyError`] (everything but the entries' values, which are not read).
pub fn inspect_tokens(path: &Path) -> Result<NpyInfo, NpyError> {
    let (_, head, data_len) = open_head(path)?;
    check_header(&head, data_len, &path.display().to_string())
}

/// The header and the raw data bytes of a token file (exactly what the header declares).
pub(crate) fn read_raw(path: &Path) -> Result<(NpyInfo, Vec<u8>), NpyError> {
    let p = path.display().to_string();
    let (file, head, data_len) = open_head(path)?;
    let info = check_header(&head, data_len, &p)?;
    let len = info.n * info.d * info.dtype.size();
    let bytes = read_exact_fallible(file, len, &p, || NpyError::OutOfMemory {
        path: p.clone(),
        n: info.n,
        d: info.d,
        bytes: len as u64,
    })?;
    Ok((info, bytes))
}

/// The raw data of a token file as a matrix view.
pub(crate) fn raw_view<'a>(info: &NpyInfo, data: &'a [u8]) -> RawMatrix<'a> {
    RawMatrix {
        data,
        rows: info.n,
        cols: info.d,
        dtype: info.dtype.stored(),
        big_endian: info.big_endian,
        fortran: info.fortran,
    }
}

/// Every row of a raw token matrix, checked finite.
pub(crate) fn decode_all(info: &NpyInfo, data: &[u8], name: &str) -> Result<Array2<f64>, NpyError> {
    let n = info.n;
    raw_view(info, data).gather(0..n, n).map_err(|e| match e {
        GatherError::OutOfMemory(bytes) => NpyError::OutOfMemory {
            path: name.to_owned(),
            n: info.n,
            d: info.d,
            bytes,
        },
        GatherError::NonFinite {
            row, col, value, ..
        } => NpyError::NonFinite {
            path: name.to_owned(),
            row,
            col,
            value,
        },
    })
}

/// Reads an n × d token matrix (f32 and f16 entries are widened exactly) and reports the
/// stored dtype. Reads the header, then exactly the n·d values it declares (see the module
/// docs).
///
/// # Errors
///
/// See [`NpyError`].
pub fn read_tokens(path: &Path) -> Result<(Array2<f64>, NpyDType), NpyError> {
    let (info, data) = read_raw(path)?;
    let x = decode_all(&info, &data, &path.display().to_string())?;
    Ok((x, info.dtype))
}

/// [`read_tokens`] on bytes in memory; `name` is used in messages. The bytes must be exactly a
/// header and the data it declares.
///
/// # Errors
///
/// See [`NpyError`].
pub fn parse_tokens(bytes: &[u8], name: &str) -> Result<(Array2<f64>, NpyDType), NpyError> {
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
    let x = decode_all(&info, &bytes[total..], name)?;
    Ok((x, info.dtype))
}

/// Reads and checks only the header of a token-id file (at most [`MAX_HEADER`] bytes).
///
/// # Errors
///
/// See [`NpyError`].
pub fn inspect_ids(path: &Path) -> Result<IdsInfo, NpyError> {
    let (_, head, data_len) = open_head(path)?;
    check_ids_header(&head, data_len, &path.display().to_string())
}

/// Decodes ids (any of [`IdDType`]) to `i64` (every accepted dtype fits).
fn decode_ids(info: &IdsInfo, data: &[u8]) -> Vec<i64> {
    let size = info.dtype.size();
    data.chunks_exact(size)
        .map(|b| {
            let be = info.big_endian;
            match info.dtype {
                IdDType::I64 => {
                    let a = bytes_of::<8>(b);
                    if be {
                        i64::from_be_bytes(a)
                    } else {
                        i64::from_le_bytes(a)
                    }
                }
                IdDType::I32 => {
                    let a = bytes_of::<4>(b);
                    i64::from(if be {
                        i32::from_be_bytes(a)
                    } else {
                        i32::from_le_bytes(a)
                    })
                }
                IdDType::U32 => {
                    let a = bytes_of::<4>(b);
                    i64::from(if be {
                        u32::from_be_bytes(a)
                    } else {
                        u32::from_le_bytes(a)
                    })
                }
                IdDType::U16 => {
                    let a = bytes_of::<2>(b);
                    i64::from(if be {
                        u16::from_be_bytes(a)
                    } else {
                        u16::from_le_bytes(a)
                    })
                }
            }
        })
        .collect()
}

/// Reads a vector of token ids (a 1-d integer `.npy`, header first, exactly the declared
/// values). The ids are not checked against any table here ([`crate::load`] does).
///
/// # Errors
///
/// See [`NpyError`].
pub fn read_ids(path: &Path) -> Result<(Vec<i64>, IdDType), NpyError> {
    let p = path.display().to_string();
    let (file, head, data_len) = open_head(path)?;
    let info = check_ids_header(&head, data_len, &p)?;
    let len = info.n * info.dtype.size();
    let bytes = read_exact_fallible(file, len, &p, || NpyError::OutOfMemory {
        path: p.clone(),
        n: info.n,
        d: 1,
        bytes: len as u64,
    })?;
    Ok((decode_ids(&info, &bytes), info.dtype))
}

/// [`read_ids`] on bytes in memory; `name` is used in messages.
///
/// # Errors
///
/// See [`NpyError`].
pub fn parse_ids(bytes: &[u8], name: &str) -> Result<(Vec<i64>, IdDType), NpyError> {
    let total = header_len(bytes).map_err(|reason| NpyError::Malformed {
        path: name.to_owned(),
        reason,
    })?;
    if bytes.len() < total {
        return Err(NpyError::Malformed {
            path: name.to_owned(),
            reason: "truncated header".to_owned(),
        });
    }
    let info = check_ids_header(&bytes[..total], (bytes.len() - total) as u64, name)?;
    Ok((decode_ids(&info, &bytes[total..]), info.dtype))
}

/// Writes an n × d array as `.npy` bytes of the given dtype in C order (for tests and tools);
/// values are rounded to the dtype (to nearest, ties to even).
pub fn to_npy_bytes(x: &Array2<f64>, dtype: NpyDType) -> Vec<u8> {
    let (n, d) = x.dim();
    let shape = [n as u64, d as u64];
    match dtype {
        NpyDType::F64 => write_npy(&shape, x.iter().copied()),
        NpyDType::F32 => write_npy(&shape, x.iter().map(|v| *v as f32)),
        NpyDType::F16 => write_npy(&shape, x.iter().map(|v| half::f16::from_f64(*v))),
    }
}

/// Writes token ids as a 1-d `.npy` of the given dtype (for tests and tools); each id is
/// converted with `as` (so a value that does not fit the dtype wraps).
pub fn ids_to_npy_bytes(ids: &[i64], dtype: IdDType) -> Vec<u8> {
    let shape = [ids.len() as u64];
    match dtype {
        IdDType::I64 => write_npy(&shape, ids.iter().copied()),
        IdDType::I32 => write_npy(&shape, ids.iter().map(|&v| v as i32)),
        IdDType::U32 => write_npy(&shape, ids.iter().map(|&v| v as u32)),
        IdDType::U16 => write_npy(&shape, ids.iter().map(|&v| v as u16)),
    }
}

/// An `.npy` file of `shape` holding `values` (C order, little-endian), in memory.
fn write_npy<T: npyz::Serialize + npyz::AutoSerialize>(
    shape: &[u64],
    values: impl Iterator<Item = T>,
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(shape)
        .writer(&mut out)
        .begin_nd()
        .expect("writing to memory");
    w.extend(values).expect("writing to memory");
    w.finish().expect("writing to memory");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_f64_f32_and_f16() {
        let x = ndarray::array![[1.0, 2.0, 3.0], [4.0, 5.5, -6.0]];
        for dt in [NpyDType::F64, NpyDType::F32, NpyDType::F16] {
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
    fn float16_in_either_byte_order_and_fortran_order_widens_exactly() {
        // 0.1 is not a binary16 value: its nearest one, widened, is exact in f64.
        let values = [1.0f64, -2.5, 0.1, 65504.0, 6.0e-8, 3.0];
        let halves: Vec<half::f16> = values.iter().map(|&v| half::f16::from_f64(v)).collect();
        let want: Vec<f64> = halves.iter().map(|h| h.to_f64()).collect();
        assert_eq!(want[2], f64::from(half::f16::from_f64(0.1)));
        for (descr, fortran) in [("<f2", false), (">f2", false), ("<f2", true)] {
            let shape = "(3, 2)";
            let mut bytes = if fortran {
                let mut dict =
                    format!("{{'descr': '{descr}', 'fortran_order': True, 'shape': {shape}, }}");
                while !(10 + dict.len() + 1).is_multiple_of(64) {
                    dict.push(' ');
                }
                dict.push('\n');
                let mut out = b"\x93NUMPY\x01\x00".to_vec();
                out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
                out.extend_from_slice(dict.as_bytes());
                out
            } else {
                header(descr, shape)
            };
            // Row-major (3 x 2) or column-major order of the same matrix.
            let order: Vec<usize> = if fortran {
                vec![0, 2, 4, 1, 3, 5]
            } else {
                (0..6).collect()
            };
            for k in order {
                let b = halves[k].to_bits();
                bytes.extend_from_slice(&if descr.starts_with('>') {
                    b.to_be_bytes()
                } else {
                    b.to_le_bytes()
                });
            }
            let (x, dt) = parse_tokens(&bytes, "h.npy").unwrap();
            assert_eq!(dt, NpyDType::F16);
            let want = Array2::from_shape_vec((3, 2), want.clone()).unwrap();
            assert_eq!(x, want, "{descr} fortran={fortran}");
        }
        // A binary16 infinity is refused like any non-finite entry.
        let mut bytes = header("<f2", "(2, 1)");
        bytes.extend_from_slice(&half::f16::ONE.to_le_bytes());
        bytes.extend_from_slice(&half::f16::INFINITY.to_le_bytes());
        assert!(matches!(
            parse_tokens(&bytes, "t"),
            Err(NpyError::NonFinite { row: 1, col: 0, .. })
        ));
    }

    #[test]
    fn ids_round_trip_in_every_accepted_dtype_and_bad_ids_files_are_refused() {
        let ids = [0i64, 5, 3, 5, 65535];
        for dt in [IdDType::I32, IdDType::I64, IdDType::U16, IdDType::U32] {
            let (got, got_dt) = parse_ids(&ids_to_npy_bytes(&ids, dt), "ids.npy").unwrap();
            assert_eq!(got, ids);
            assert_eq!(got_dt, dt);
        }
        let mut big = header(">i8", "(2,)");
        big.extend_from_slice(&7i64.to_be_bytes());
        big.extend_from_slice(&(-1i64).to_be_bytes());
        assert_eq!(parse_ids(&big, "b").unwrap().0, [7, -1]);
        // Floats, a 2-d array, a single id, a truncated file.
        let floats = to_npy_bytes(&ndarray::array![[1.0], [2.0]], NpyDType::F64);
        let err = parse_ids(&floats, "f.npy").unwrap_err().to_string();
        assert_eq!(
            err,
            "f.npy holds dtype <f8; need int32, int64, uint16 or uint32"
        );
        let mut two_d = header("<i4", "(2, 2)");
        two_d.extend_from_slice(&[0u8; 16]);
        let err = parse_ids(&two_d, "m.npy").unwrap_err().to_string();
        assert!(err.contains("shape [2, 2]") && err.contains("1-d"), "{err}");
        let one = ids_to_npy_bytes(&[3], IdDType::I64);
        assert!(matches!(parse_ids(&one, "o"), Err(NpyError::Shape { .. })));
        let good = ids_to_npy_bytes(&ids, IdDType::I64);
        let err = parse_ids(&good[..good.len() - 1], "t.npy")
            .unwrap_err()
            .to_string();
        assert!(err.contains("declares 5 int64 values"), "{err}");
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
                proptest::strategy::Just("<f2"), proptest::strategy::Just(">f2"),
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
