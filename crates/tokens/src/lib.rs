//! Token matrices from files: the one place where critscale reads token data.
//!
//! A **token matrix** is n × d, row i the token x_i ∈ ℝ^d (n ≥ 2, d ≥ 1, every entry finite),
//! returned as `Array2<f64>`; the stored values (f16, bf16, f32 or f64) are widened exactly.
//! It comes from
//!
//! * a `.npy` file ([`mod@npy`]): a 2-d float64, float32 or float16 array (either byte order,
//!   C or Fortran order);
//! * a `.safetensors` file ([`mod@safetensors_file`]): a 2-d tensor of dtype F16, BF16, F32 or
//!   F64, chosen by name (`tensor`) when the file holds several;
//! * either of those as an **embedding table** plus a `.npy` vector of token ids (int32, int64,
//!   uint16 or uint32): the context is "ids into a table", row k of the result is row ids\[k\] of
//!   the table (n = the number of ids, d = the table's columns). Repeated ids give repeated rows.
//!
//! The format is chosen by extension (`.npy`, `.safetensors`, any case) or, for another
//! extension, by content (the `.npy` magic `\x93NUMPY`, or a `{` after the 8-byte length of a
//! safetensors header); anything else is [`TokenFileError::UnknownFormat`].
//!
//! **Two steps.** [`inspect`] reads headers only (n, d, the stored dtype, the bytes [`load`]
//! will read), so that a caller can check the memory a computation needs before any data is
//! read; [`load`] reads the data. Both open regular files only (a device, a pipe or a
//! directory is refused before a byte is read), check every header against the file's length
//! before reading data, never read more than the header declares and allocate data buffers
//! fallibly.
//!
//! **Errors** are [`TokenFileError`], whose messages are one line naming the file, what is
//! wrong and what would be valid.

#![warn(missing_docs)]

pub mod npy;
mod raw;
pub mod safetensors_file;

pub use npy::{IdDType, IdsInfo, NpyDType, NpyError, NpyInfo, inspect_tokens, read_tokens};
pub use safetensors_file::MAX_HEADER as MAX_SAFETENSORS_HEADER;

use ndarray::Array2;
use raw::{GatherError, RawMatrix};
use std::io::Read;
use std::path::Path;

/// The element type of the stored token values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredDtype {
    /// IEEE 754 binary16 (`float16`, safetensors `F16`): 11 significant bits.
    F16,
    /// bfloat16 (safetensors `BF16`): 8 significant bits, f32's exponent range.
    BF16,
    /// IEEE 754 binary32.
    F32,
    /// IEEE 754 binary64.
    F64,
}

impl StoredDtype {
    /// Bytes per value.
    pub fn size(self) -> usize {
        match self {
            StoredDtype::F16 | StoredDtype::BF16 => 2,
            StoredDtype::F32 => 4,
            StoredDtype::F64 => 8,
        }
    }

    /// Short name: `f16`, `bf16`, `f32`, `f64`.
    pub fn name(self) -> &'static str {
        match self {
            StoredDtype::F16 => "f16",
            StoredDtype::BF16 => "bf16",
            StoredDtype::F32 => "f32",
            StoredDtype::F64 => "f64",
        }
    }
}

impl std::fmt::Display for StoredDtype {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a token file (or table plus ids) could not be used. Every message is one line naming
/// the file, what is wrong and what is valid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TokenFileError {
    /// A `.npy` file (tokens, table or ids) is unusable, or a file cannot be opened or read,
    /// or is not a regular file.
    #[error(transparent)]
    Npy(#[from] NpyError),
    /// Neither `.npy` nor `.safetensors`, by extension or content.
    #[error(
        "{path}: unknown token file format (extension '{ext}', and the content is neither .npy \
         nor .safetensors); need a .npy or .safetensors file"
    )]
    UnknownFormat {
        /// The path.
        path: String,
        /// Its extension (empty when it has none).
        ext: String,
    },
    /// A tensor name was given for a `.npy` file, which holds one array.
    #[error(
        "--tensor {tensor} given for {path}, a .npy file (one array); --tensor applies to \
         .safetensors files only"
    )]
    TensorForNpy {
        /// The path.
        path: String,
        /// The name given.
        tensor: String,
    },
    /// Not a well-formed `.safetensors` file (length field, JSON header, offsets, truncation).
    #[error("{path} is not a valid .safetensors file: {reason}")]
    Safetensors {
        /// The path.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Several tensors and no name given.
    #[error("{path} holds {count} tensors ({names}); choose one with --tensor NAME")]
    AmbiguousTensor {
        /// The path.
        path: String,
        /// How many tensors.
        count: usize,
        /// Their names, dtypes and shapes (the first few).
        names: String,
    },
    /// No tensor of the given name.
    #[error("{path} has no tensor named '{tensor}'; its tensors: {names}")]
    NoSuchTensor {
        /// The path.
        path: String,
        /// The name asked for.
        tensor: String,
        /// The names, dtypes and shapes present (the first few).
        names: String,
    },
    /// The chosen tensor's dtype is not a float type this crate reads.
    #[error("{path}[{tensor}] holds dtype {dtype}; need F16, BF16, F32 or F64")]
    TensorDType {
        /// The path.
        path: String,
        /// The tensor.
        tensor: String,
        /// Its dtype.
        dtype: String,
    },
    /// The chosen tensor is not 2-d with n ≥ 2 rows and d ≥ 1 columns.
    #[error("{path}[{tensor}] has shape {shape:?}; need a 2-d tensor n x d with n >= 2 and d >= 1")]
    TensorShape {
        /// The path.
        path: String,
        /// The tensor.
        tensor: String,
        /// Its shape.
        shape: Vec<usize>,
    },
    /// A NaN or ±∞ in a safetensors token matrix.
    #[error("{source_name}: token {row} has a non-finite entry {value} in column {col}")]
    NonFinite {
        /// The file and tensor, `path[name]`.
        source_name: String,
        /// Row.
        row: usize,
        /// Column.
        col: usize,
        /// The entry.
        value: f64,
    },
    /// A NaN or ±∞ in a table row that an id selects.
    #[error(
        "{table}: row {table_row} (selected by id position {position} of {ids}) has a \
         non-finite entry {value} in column {col}"
    )]
    NonFiniteRow {
        /// The table (`path` or `path[name]`).
        table: String,
        /// The ids file.
        ids: String,
        /// Row of the table.
        table_row: usize,
        /// Position in the ids.
        position: usize,
        /// Column.
        col: usize,
        /// The entry.
        value: f64,
    },
    /// An id outside the table's rows.
    #[error(
        "{ids}: id {id} at position {position} is outside the rows of {table}; need \
         0 <= id < {rows}"
    )]
    IdOutOfRange {
        /// The ids file.
        ids: String,
        /// Position of the first bad id.
        position: usize,
        /// The id.
        id: i64,
        /// The table.
        table: String,
        /// Rows of the table.
        rows: usize,
    },
    /// The output matrix could not be allocated.
    #[error("{source_name}: cannot allocate {bytes} bytes for its {n} x {d} values")]
    OutOfMemory {
        /// What was being loaded.
        source_name: String,
        /// Rows.
        n: usize,
        /// Columns.
        d: usize,
        /// Bytes asked for.
        bytes: u64,
    },
}

impl TokenFileError {
    /// Whether a buffer could not be allocated (a failure of the machine, not of the input:
    /// callers exit with 1 for it and 2 for every other error).
    pub fn is_out_of_memory(&self) -> bool {
        matches!(
            self,
            TokenFileError::OutOfMemory { .. } | TokenFileError::Npy(NpyError::OutOfMemory { .. })
        )
    }
}

/// What [`inspect`] finds in the headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// Tokens (rows of the result; with ids, the number of ids).
    pub n: usize,
    /// Dimension (columns).
    pub d: usize,
    /// Stored element type of the values.
    pub dtype: StoredDtype,
    /// One line saying where the tokens come from (as in [`Tokens::source`]).
    pub source: String,
    /// Bytes of stored values [`load`] reads (the whole table when ids are given) and holds
    /// while it builds the n × d f64 result (another 8·n·d bytes).
    pub read_bytes: u64,
}

/// A loaded token matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Tokens {
    /// n × d tokens, one per row, every entry finite.
    pub x: Array2<f64>,
    /// Stored element type of the values (widened exactly to f64).
    pub dtype: StoredDtype,
    /// One line saying where the tokens come from: `path` (.npy), `path[tensor]`
    /// (.safetensors), or `TABLE rows by IDS (n = k of rows)`.
    pub source: String,
}

/// A token file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Npy,
    Safetensors,
}

/// The format of `path`: by extension, else by content. Checks first that the file is a
/// regular file (so a missing file or a device gets that message).
fn format_of(path: &Path) -> Result<Format, TokenFileError> {
    let (file, _) = npy::open_regular(path)?;
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "npy" => return Ok(Format::Npy),
        "safetensors" => return Ok(Format::Safetensors),
        _ => {}
    }
    let mut first = Vec::with_capacity(9);
    file.take(9)
        .read_to_end(&mut first)
        .map_err(|e| NpyError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
    if first.starts_with(b"\x93NUMPY") {
        Ok(Format::Npy)
    } else if first.len() == 9 && first[8] == b'{' {
        Ok(Format::Safetensors)
    } else {
        Err(TokenFileError::UnknownFormat {
            path: path.display().to_string(),
            ext,
        })
    }
}

/// The header of a token file or table: rows, columns, dtype, description, data bytes.
struct TableHead {
    rows: usize,
    cols: usize,
    dtype: StoredDtype,
    source: String,
    bytes: u64,
}

fn table_head(path: &Path, tensor: Option<&str>) -> Result<TableHead, TokenFileError> {
    let name = path.display().to_string();
    match format_of(path)? {
        Format::Npy => {
            if let Some(t) = tensor {
                return Err(TokenFileError::TensorForNpy {
                    path: name,
                    tensor: t.to_owned(),
                });
            }
            let info = inspect_tokens(path)?;
            Ok(TableHead {
                rows: info.n,
                cols: info.d,
                dtype: info.dtype.stored(),
                source: name,
                bytes: (info.n * info.d * info.dtype.size()) as u64,
            })
        }
        Format::Safetensors => {
            let (_, header) = safetensors_file::read_header(path)?;
            let c = safetensors_file::choose(&header, tensor, &name)?;
            Ok(TableHead {
                rows: c.n,
                cols: c.d,
                dtype: c.dtype,
                source: format!("{name}[{}]", c.name),
                bytes: c.len as u64,
            })
        }
    }
}

/// Reads headers only: the shape, stored dtype and source of the tokens [`load`] would return,
/// and the bytes it would read. `tensor` chooses a tensor of a `.safetensors` file; `ids` is a
/// `.npy` vector of token ids into the table `path` (its values are not read here, so ids
/// out of range are found by [`load`]).
///
/// # Errors
///
/// [`TokenFileError`]: anything wrong with the headers, the file sizes, the format, the tensor
/// name or the ids' header.
pub fn inspect(
    path: &Path,
    tensor: Option<&str>,
    ids: Option<&Path>,
) -> Result<TokenInfo, TokenFileError> {
    let head = table_head(path, tensor)?;
    match ids {
        None => Ok(TokenInfo {
            n: head.rows,
            d: head.cols,
            dtype: head.dtype,
            source: head.source,
            read_bytes: head.bytes,
        }),
        Some(ids_path) => {
            let info = npy::inspect_ids(ids_path)?;
            Ok(TokenInfo {
                n: info.n,
                d: head.cols,
                dtype: head.dtype,
                source: ids_source(&head.source, ids_path, info.n, head.rows),
                read_bytes: head.bytes + (info.n * info.dtype.size()) as u64,
            })
        }
    }
}

fn ids_source(table: &str, ids: &Path, n: usize, rows: usize) -> String {
    format!("{table} rows by {} (n = {n} of {rows})", ids.display())
}

/// Reads the tokens: the whole matrix of a `.npy` file or of the chosen tensor of a
/// `.safetensors` file or, with `ids`, the table rows the ids select (in the ids' order).
/// Headers are checked first (as [`inspect`]), then exactly the declared data is read.
///
/// # Errors
///
/// [`TokenFileError`]: everything [`inspect`] reports, a non-finite entry (in a selected row,
/// with ids), an id outside [0, rows of the table) (the first one, by position), or a buffer
/// that cannot be allocated.
pub fn load(
    path: &Path,
    tensor: Option<&str>,
    ids: Option<&Path>,
) -> Result<Tokens, TokenFileError> {
    let name = path.display().to_string();
    let format = format_of(path)?;
    if let (Format::Npy, Some(t)) = (format, tensor) {
        return Err(TokenFileError::TensorForNpy {
            path: name,
            tensor: t.to_owned(),
        });
    }
    // Headers first, ids included, before any table data is read.
    let ids_info = ids.map(npy::inspect_ids).transpose()?;
    // The stored bytes, and their layout (a view of no data, filled in below).
    let (data, layout, dtype, source);
    match format {
        Format::Npy => {
            let (info, bytes) = npy::read_raw(path)?;
            if ids.is_none() {
                let x = npy::decode_all(&info, &bytes, &name)?;
                return Ok(Tokens {
                    x,
                    dtype: info.dtype.stored(),
                    source: name,
                });
            }
            data = bytes;
            dtype = info.dtype.stored();
            source = name.clone();
            layout = npy::raw_view(&info, &[]);
        }
        Format::Safetensors => {
            let (file, header) = safetensors_file::read_header(path)?;
            let c = safetensors_file::choose(&header, tensor, &name)?;
            data = safetensors_file::read_chosen(file, &c, &name)?;
            dtype = c.dtype;
            source = format!("{name}[{}]", c.name);
            layout = safetensors_file::raw_view(&c, &[]);
        }
    }
    let view = RawMatrix {
        data: &data,
        ..layout
    };
    let Some(ids_path) = ids else {
        let x = view.gather(0..view.rows, view.rows).map_err(|e| match e {
            GatherError::OutOfMemory(bytes) => TokenFileError::OutOfMemory {
                source_name: source.clone(),
                n: view.rows,
                d: view.cols,
                bytes,
            },
            GatherError::NonFinite {
                row, col, value, ..
            } => TokenFileError::NonFinite {
                source_name: source.clone(),
                row,
                col,
                value,
            },
        })?;
        return Ok(Tokens { x, dtype, source });
    };
    let (list, _) = npy::read_ids(ids_path)?;
    let ids_name = ids_path.display().to_string();
    select(&view, &list, &source, &ids_name).map(|x| Tokens {
        x,
        dtype,
        source: ids_source(
            &source,
            ids_path,
            ids_info.map_or(list.len(), |i| i.n),
            view.rows,
        ),
    })
}

/// The rows of `table` that `ids` select, every id checked in range first.
fn select(
    table: &RawMatrix<'_>,
    ids: &[i64],
    table_name: &str,
    ids_name: &str,
) -> Result<Array2<f64>, TokenFileError> {
    let rows = table.rows;
    if let Some((position, &id)) = ids
        .iter()
        .enumerate()
        .find(|&(_, &id)| usize::try_from(id).map_or(true, |i| i >= rows))
    {
        return Err(TokenFileError::IdOutOfRange {
            ids: ids_name.to_owned(),
            position,
            id,
            table: table_name.to_owned(),
            rows,
        });
    }
    table
        .gather(ids.iter().map(|&i| i as usize), ids.len())
        .map_err(|e| match e {
            GatherError::OutOfMemory(bytes) => TokenFileError::OutOfMemory {
                source_name: format!("{table_name} rows by {ids_name}"),
                n: ids.len(),
                d: table.cols,
                bytes,
            },
            GatherError::NonFinite {
                row,
                source_row,
                col,
                value,
            } => TokenFileError::NonFiniteRow {
                table: table_name.to_owned(),
                ids: ids_name.to_owned(),
                table_row: source_row,
                position: row,
                col,
                value,
            },
        })
}

/// Reads the chosen tensor of a whole `.safetensors` file held in memory (`name` is used in
/// messages): the same checks as [`load`] on a file.
///
/// # Errors
///
/// [`TokenFileError`].
pub fn parse_safetensors(
    bytes: &[u8],
    tensor: Option<&str>,
    name: &str,
) -> Result<(Array2<f64>, StoredDtype), TokenFileError> {
    let header = safetensors_file::header_of(bytes, name)?;
    let c = safetensors_file::choose(&header, tensor, name)?;
    let start = c.start as usize;
    let view = safetensors_file::raw_view(&c, &bytes[start..start + c.len]);
    let source = format!("{name}[{}]", c.name);
    let x = view.gather(0..c.n, c.n).map_err(|e| match e {
        GatherError::OutOfMemory(bytes) => TokenFileError::OutOfMemory {
            source_name: source.clone(),
            n: c.n,
            d: c.d,
            bytes,
        },
        GatherError::NonFinite {
            row, col, value, ..
        } => TokenFileError::NonFinite {
            source_name: source.clone(),
            row,
            col,
            value,
        },
    })?;
    Ok((x, c.dtype))
}

/// Writes n × d matrices as one `.safetensors` file in memory (for tests and tools): each
/// `(name, matrix, dtype)` becomes a 2-d tensor, values rounded to the dtype (to nearest, ties
/// to even).
///
/// # Panics
///
/// On two tensors of one name (the `safetensors` crate refuses them).
pub fn to_safetensors_bytes(tensors: &[(&str, &Array2<f64>, StoredDtype)]) -> Vec<u8> {
    let data: Vec<(String, Vec<u8>, Vec<usize>, StoredDtype)> = tensors
        .iter()
        .map(|(name, x, dt)| {
            let bytes: Vec<u8> = match dt {
                StoredDtype::F64 => x.iter().flat_map(|v| v.to_le_bytes()).collect(),
                StoredDtype::F32 => x.iter().flat_map(|v| (*v as f32).to_le_bytes()).collect(),
                StoredDtype::F16 => x
                    .iter()
                    .flat_map(|v| half::f16::from_f64(*v).to_le_bytes())
                    .collect(),
                StoredDtype::BF16 => x
                    .iter()
                    .flat_map(|v| half::bf16::from_f64(*v).to_le_bytes())
                    .collect(),
            };
            ((*name).to_owned(), bytes, x.shape().to_vec(), *dt)
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = data
        .iter()
        .map(|(name, bytes, shape, dt)| {
            let dtype = match dt {
                StoredDtype::F64 => safetensors::Dtype::F64,
                StoredDtype::F32 => safetensors::Dtype::F32,
                StoredDtype::F16 => safetensors::Dtype::F16,
                StoredDtype::BF16 => safetensors::Dtype::BF16,
            };
            let view = safetensors::tensor::TensorView::new(dtype, shape.clone(), bytes)
                .expect("the data matches its shape");
            (name.clone(), view)
        })
        .collect();
    safetensors::serialize(views, None).expect("serialising to memory")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::npy::{ids_to_npy_bytes, to_npy_bytes};
    use proptest::prelude::*;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh file named `*.{ext}` in the temp directory holding `bytes`; removed on drop.
    struct Temp(PathBuf);

    impl Temp {
        fn new(bytes: &[u8], ext: &str) -> Temp {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let k = COUNTER.fetch_add(1, Ordering::SeqCst);
            let path = std::env::temp_dir()
                .join(format!("critscale-tokens-{}-{k}.{ext}", std::process::id()));
            std::fs::write(&path, bytes).expect("temp dir is writable");
            Temp(path)
        }
    }

    impl Drop for Temp {
        fn drop(&mut self) {
            std::fs::remove_file(&self.0).ok();
        }
    }

    fn m(rows: &[&[f64]]) -> Array2<f64> {
        let d = rows[0].len();
        Array2::from_shape_vec((rows.len(), d), rows.concat()).unwrap()
    }

    /// n × d matrices of multiples of 1/8 in [-32, 32]: exact in f16, bf16, f32 and f64.
    fn representable() -> impl Strategy<Value = Array2<f64>> {
        (2usize..7, 1usize..5).prop_flat_map(|(n, d)| {
            proptest::collection::vec(-256i32..=256, n * d).prop_map(move |v| {
                Array2::from_shape_vec((n, d), v.iter().map(|&k| f64::from(k) / 8.0).collect())
                    .unwrap()
            })
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn every_format_gives_the_same_matrix(
            x in representable(),
            extra in 0usize..4,
            shift in 0usize..7,
        ) {
            let (n, d) = x.dim();
            let mut files = Vec::new();
            for dt in [NpyDType::F16, NpyDType::F32, NpyDType::F64] {
                files.push((Temp::new(&to_npy_bytes(&x, dt), "npy"), None, dt.stored()));
            }
            for dt in [StoredDtype::F16, StoredDtype::BF16, StoredDtype::F32, StoredDtype::F64] {
                let other = Array2::<f64>::ones((2, 3));
                let bytes = to_safetensors_bytes(&[("other", &other, dt), ("embed", &x, dt)]);
                files.push((Temp::new(&bytes, "safetensors"), Some("embed"), dt));
                let alone = to_safetensors_bytes(&[("w", &x, dt)]);
                files.push((Temp::new(&alone, "safetensors"), None, dt));
            }
            for (file, tensor, dt) in &files {
                let info = inspect(&file.0, *tensor, None).unwrap();
                prop_assert_eq!((info.n, info.d, info.dtype), (n, d, *dt));
                prop_assert_eq!(info.read_bytes, (n * d * dt.size()) as u64);
                let got = load(&file.0, *tensor, None).unwrap();
                prop_assert_eq!(&got.x, &x);
                prop_assert_eq!(got.dtype, *dt);
                prop_assert_eq!(got.source, info.source);
            }
            // The same rows selected from a larger table (extra rows, rows rotated), by ids.
            let rows = n + extra;
            let mut table = Array2::<f64>::from_elem((rows, d), 0.5);
            let mut ids = Vec::new();
            for i in 0..n {
                let r = (i + shift) % rows;
                table.row_mut(r).assign(&x.row(i));
                ids.push(r as i64);
            }
            // Repeat a row: copies are allowed here.
            let mut xr = x.clone();
            if n > 2 {
                ids[n - 1] = ids[0];
                let first = x.row(0).to_owned();
                xr.row_mut(n - 1).assign(&first);
            }
            let ids_file = Temp::new(&ids_to_npy_bytes(&ids, IdDType::I64), "npy");
            for (bytes, tensor, ext) in [
                (to_npy_bytes(&table, NpyDType::F16), None, "npy"),
                (to_safetensors_bytes(&[("e", &table, StoredDtype::BF16)]), None, "safetensors"),
                (
                    to_safetensors_bytes(&[
                        ("e", &table, StoredDtype::F32),
                        ("f", &table, StoredDtype::F64),
                    ]),
                    Some("f"),
                    "safetensors",
                ),
            ] {
                let t = Temp::new(&bytes, ext);
                let info = inspect(&t.0, tensor, Some(&ids_file.0)).unwrap();
                prop_assert_eq!((info.n, info.d), (n, d));
                let got = load(&t.0, tensor, Some(&ids_file.0)).unwrap();
                prop_assert_eq!(&got.x, &xr);
                prop_assert_eq!(&got.source, &info.source);
                let want = format!("rows by {} (n = {n} of {rows})", ids_file.0.display());
                prop_assert!(got.source.ends_with(&want), "{}", got.source);
            }
        }

        #[test]
        fn safetensors_bytes_cut_or_changed_anywhere_are_refused_without_panic(
            cut in 0usize..400,
            flip in 0usize..400,
            byte in any::<u8>(),
        ) {
            let x = m(&[&[1.0, 2.0], &[3.0, 4.0], &[5.0, 6.0]]);
            let good = to_safetensors_bytes(&[("a", &x, StoredDtype::F32), ("b", &x, StoredDtype::BF16)]);
            if cut < good.len() {
                prop_assert!(parse_safetensors(&good[..cut], Some("a"), "t").is_err());
                let t = Temp::new(&good[..cut], "safetensors");
                prop_assert!(load(&t.0, Some("a"), None).is_err());
                prop_assert!(inspect(&t.0, Some("a"), None).is_err());
            }
            let mut bad = good.clone();
            let k = flip % bad.len();
            bad[k] = byte;
            // Accepted only as a well-formed file whose chosen tensor is a 3 x 2 matrix.
            if let Ok((y, _)) = parse_safetensors(&bad, Some("a"), "t") {
                prop_assert_eq!(y.dim(), (3, 2));
            }
            let t = Temp::new(&bad, "safetensors");
            if let Ok(tokens) = load(&t.0, Some("a"), None) {
                prop_assert_eq!(tokens.x.dim(), (3, 2));
            }
        }
    }

    #[test]
    fn the_tensor_is_chosen_by_name_and_wrong_choices_are_named() {
        let x = m(&[&[1.0, 2.0], &[3.0, 4.0]]);
        let v = Array2::<f64>::ones((1, 4));
        let both = to_safetensors_bytes(&[
            ("embed", &x, StoredDtype::F16),
            ("norm", &v, StoredDtype::F32),
        ]);
        let t = Temp::new(&both, "safetensors");
        let name = t.0.display().to_string();
        let err = load(&t.0, None, None).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{name} holds 2 tensors (embed F16 [2, 2], norm F32 [1, 4]); choose one with \
                 --tensor NAME"
            )
        );
        let err = inspect(&t.0, Some("emb"), None).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{name} has no tensor named 'emb'; its tensors: embed F16 [2, 2], norm F32 [1, 4]"
            )
        );
        assert_eq!(load(&t.0, Some("embed"), None).unwrap().x, x);
        let err = load(&t.0, Some("norm"), None).unwrap_err().to_string();
        assert!(
            err.contains("[norm] has shape [1, 4]; need a 2-d tensor"),
            "{err}"
        );
        assert!(!err.contains('\n'));
    }

    /// A safetensors file of one tensor with the given dtype name, shape and data bytes.
    fn raw_safetensors(dtype: &str, shape: &[usize], data: &[u8]) -> Vec<u8> {
        let json = format!(
            "{{\"t\":{{\"dtype\":\"{dtype}\",\"shape\":{shape:?},\"data_offsets\":[0,{}]}}}}",
            data.len()
        );
        let mut out = (json.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(json.as_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn one_d_three_d_and_integer_tensors_are_refused_with_their_shape_or_dtype() {
        let one_d = raw_safetensors("F32", &[4], &[0u8; 16]);
        let err = parse_safetensors(&one_d, None, "v.safetensors").unwrap_err();
        assert_eq!(
            err.to_string(),
            "v.safetensors[t] has shape [4]; need a 2-d tensor n x d with n >= 2 and d >= 1"
        );
        let three_d = raw_safetensors("F64", &[2, 2, 2], &[0u8; 64]);
        let err = parse_safetensors(&three_d, None, "c.safetensors").unwrap_err();
        assert!(err.to_string().contains("has shape [2, 2, 2]"), "{err}");
        let ints = raw_safetensors("I32", &[2, 2], &[0u8; 16]);
        let err = parse_safetensors(&ints, None, "i.safetensors").unwrap_err();
        assert_eq!(
            err.to_string(),
            "i.safetensors[t] holds dtype I32; need F16, BF16, F32 or F64"
        );
        // A NaN is named with its row and column.
        let mut data = Vec::new();
        for v in [1.0f32, 2.0, f32::NAN, 4.0] {
            data.extend_from_slice(&v.to_le_bytes());
        }
        let nan = raw_safetensors("F32", &[2, 2], &data);
        let err = parse_safetensors(&nan, None, "n.safetensors").unwrap_err();
        assert_eq!(
            err.to_string(),
            "n.safetensors[t]: token 1 has a non-finite entry NaN in column 0"
        );
    }

    #[test]
    fn malformed_safetensors_headers_are_refused_before_any_data_is_read() {
        // A header length beyond the file, beyond the limit, or absurd.
        for h in [64u64, MAX_SAFETENSORS_HEADER + 1, u64::MAX] {
            let mut bytes = h.to_le_bytes().to_vec();
            bytes.extend_from_slice(b"{}");
            let t = Temp::new(&bytes, "safetensors");
            let err = inspect(&t.0, None, None).unwrap_err().to_string();
            assert!(
                err.contains("not a valid .safetensors file")
                    && (err.contains("truncated header") || err.contains("header length")),
                "{h}: {err}"
            );
        }
        // Offsets that declare more data than the file holds (a huge tensor in a small file).
        let json = "{\"t\":{\"dtype\":\"F64\",\"shape\":[1000000000000,5],\
                    \"data_offsets\":[0,40000000000000]}}";
        let mut bytes = (json.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(json.as_bytes());
        bytes.extend_from_slice(&[0u8; 40]);
        let t = Temp::new(&bytes, "safetensors");
        let err = load(&t.0, None, None).unwrap_err().to_string();
        assert!(
            err.contains("declares 40000000000000 bytes of data but the file holds 40"),
            "{err}"
        );
        // Offsets inconsistent with the shape; JSON that is not a header; no tensor at all.
        let wrong = raw_safetensors("F32", &[2, 3], &[0u8; 16]);
        assert!(parse_safetensors(&wrong, None, "w").is_err());
        let mut text = 5u64.to_le_bytes().to_vec();
        text.extend_from_slice(b"[1,2]");
        assert!(parse_safetensors(&text, None, "j").is_err());
        let mut empty = 2u64.to_le_bytes().to_vec();
        empty.extend_from_slice(b"{}");
        let err = parse_safetensors(&empty, None, "e")
            .unwrap_err()
            .to_string();
        assert!(err.contains("holds no tensor"), "{err}");
    }

    #[test]
    fn ids_outside_the_table_name_the_first_bad_position_the_id_and_the_range() {
        let table = m(&[&[1.0, 0.0], &[0.0, 1.0], &[1.0, 1.0]]);
        let t = Temp::new(&to_npy_bytes(&table, NpyDType::F32), "npy");
        for (ids, pos, id) in [(vec![0i64, 2, 3, 7], 2, 3), (vec![1, -1, 0], 1, -1)] {
            let f = Temp::new(&ids_to_npy_bytes(&ids, IdDType::I32), "npy");
            let err = load(&t.0, None, Some(&f.0)).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "{}: id {id} at position {pos} is outside the rows of {}; need 0 <= id < 3",
                    f.0.display(),
                    t.0.display()
                )
            );
            // The header alone does not show it.
            assert_eq!(inspect(&t.0, None, Some(&f.0)).unwrap().n, ids.len());
        }
        let f = Temp::new(&ids_to_npy_bytes(&[2, 0, 2], IdDType::U16), "npy");
        let got = load(&t.0, None, Some(&f.0)).unwrap();
        assert_eq!(got.x, m(&[&[1.0, 1.0], &[1.0, 0.0], &[1.0, 1.0]]));
        assert_eq!(got.dtype, StoredDtype::F32);
        // A non-finite entry in a selected row names the table row and the id position;
        // one in a row that no id selects is never read as a token.
        let mut bad = table.clone();
        bad[[1, 1]] = f64::INFINITY;
        let t = Temp::new(&to_npy_bytes(&bad, NpyDType::F64), "npy");
        assert!(load(&t.0, None, Some(&f.0)).is_ok());
        let f = Temp::new(&ids_to_npy_bytes(&[0, 1], IdDType::I64), "npy");
        let err = load(&t.0, None, Some(&f.0)).unwrap_err().to_string();
        assert!(
            err.contains("row 1 (selected by id position 1 of")
                && err.contains("non-finite entry inf in column 1"),
            "{err}"
        );
    }

    #[test]
    fn the_format_comes_from_the_extension_or_the_content() {
        let x = m(&[&[1.0, 2.0], &[3.0, 4.0]]);
        let npy_bin = Temp::new(&to_npy_bytes(&x, NpyDType::F64), "bin");
        assert_eq!(load(&npy_bin.0, None, None).unwrap().x, x);
        let st_bin = Temp::new(&to_safetensors_bytes(&[("e", &x, StoredDtype::F16)]), "dat");
        assert_eq!(load(&st_bin.0, None, None).unwrap().x, x);
        let text = Temp::new(b"1 2\n3 4\n", "txt");
        let err = load(&text.0, None, None).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}: unknown token file format (extension 'txt', and the content is neither \
                 .npy nor .safetensors); need a .npy or .safetensors file",
                text.0.display()
            )
        );
        // A .npy holds one array: a tensor name is an error, not ignored.
        let npy = Temp::new(&to_npy_bytes(&x, NpyDType::F32), "npy");
        let err = inspect(&npy.0, Some("embed"), None).unwrap_err();
        assert!(matches!(err, TokenFileError::TensorForNpy { .. }), "{err}");
        // The extension wins: safetensors bytes named .npy are a malformed .npy.
        let wrong = Temp::new(&to_safetensors_bytes(&[("e", &x, StoredDtype::F16)]), "npy");
        let err = load(&wrong.0, None, None).unwrap_err().to_string();
        assert!(err.contains("is not a valid .npy file"), "{err}");
        // Devices and directories are refused before the format is looked at.
        for path in ["/dev/zero", "."] {
            let p = Path::new(path);
            if p.exists() {
                let err = load(p, None, None).unwrap_err().to_string();
                assert!(err.contains("is not a regular file"), "{path}: {err}");
            }
        }
    }

    #[test]
    fn out_of_memory_is_told_apart_from_bad_input() {
        let oom = TokenFileError::OutOfMemory {
            source_name: "x".into(),
            n: 2,
            d: 2,
            bytes: 32,
        };
        assert!(oom.is_out_of_memory());
        let bad = TokenFileError::UnknownFormat {
            path: "x".into(),
            ext: String::new(),
        };
        assert!(!bad.is_out_of_memory());
    }
}
