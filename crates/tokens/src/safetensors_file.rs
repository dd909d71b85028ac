//! Reading one 2-d tensor from a `.safetensors` file (header parsed by the `safetensors` crate's
//! `Metadata`).
//!
//! **Format.** 8 bytes: the header's length h (little-endian u64); h bytes of JSON mapping each
//! tensor name to `{dtype, shape, data_offsets: [start, end]}` (offsets relative to the end of
//! the header) and an optional `__metadata__`; then the data, little-endian, C order.
//!
//! **Bounded reading.** Only regular files are opened; h is checked against the file's length
//! and [`MAX_HEADER`] before the header is read; the header is validated as the `safetensors`
//! crate does when it reads a whole file (the tensors tile the data section exactly, each
//! tensor's byte range is its shape times its dtype's size, no overflow) before any data is
//! read; then only the chosen tensor's bytes are read, into a fallibly allocated buffer.

use crate::npy::{open_regular, read_exact_fallible};
use crate::raw::RawMatrix;
use crate::{StoredDtype, TokenFileError};
use safetensors::tensor::{Dtype, Metadata, TensorInfo};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// The largest header accepted, in bytes (the `safetensors` crate's own limit).
pub const MAX_HEADER: u64 = 100_000_000;

/// How many tensor names a message lists at most.
const LISTED: usize = 12;

/// The tensors a file declares, in the order of their data, and where the data starts.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    /// Name and description of every tensor, by increasing offset.
    pub tensors: Vec<(String, TensorInfo)>,
    /// Bytes before the data section (8 + h).
    pub data_start: u64,
}

/// The tensor chosen as a token matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chosen {
    /// Its name.
    pub name: String,
    /// Stored element type.
    pub dtype: StoredDtype,
    /// Rows.
    pub n: usize,
    /// Columns.
    pub d: usize,
    /// Offset of its first byte in the file.
    pub start: u64,
    /// Bytes of its data (n·d·size).
    pub len: usize,
}

fn malformed(name: &str, reason: impl Into<String>) -> TokenFileError {
    TokenFileError::Safetensors {
        path: name.to_owned(),
        reason: reason.into(),
    }
}

/// The bytes of one element of `dtype`, if it is a whole number of bytes.
fn elem_bytes(dtype: Dtype) -> Option<usize> {
    let bits = dtype.bitsize();
    bits.is_multiple_of(8).then_some(bits / 8)
}

/// Parses and validates the JSON header `json`, given `data_len` bytes of data after it.
fn parse_json(
    json: &[u8],
    data_len: u64,
    name: &str,
) -> Result<Vec<(String, TensorInfo)>, TokenFileError> {
    let meta: Metadata = serde_json::from_slice(json)
        .map_err(|e| malformed(name, format!("header is not valid JSON metadata ({e})")))?;
    let mut tensors: Vec<(String, TensorInfo)> = meta
        .tensors()
        .into_iter()
        .map(|(k, v)| (k, v.clone()))
        .collect();
    tensors.sort_by(|(a, l), (b, r)| l.data_offsets.cmp(&r.data_offsets).then(a.cmp(b)));
    let mut at: u64 = 0;
    for (t, info) in &tensors {
        let (s, e) = info.data_offsets;
        if s as u64 != at || e < s {
            return Err(malformed(
                name,
                format!(
                    "tensor '{t}' has data offsets [{s}, {e}], expected to start at {at} \
                     (the tensors must tile the data section)"
                ),
            ));
        }
        let size = elem_bytes(info.dtype);
        let bytes = info
            .shape
            .iter()
            .try_fold(size.unwrap_or(1), |acc, &v| acc.checked_mul(v));
        match (size, bytes) {
            (_, None) => {
                return Err(malformed(
                    name,
                    format!("tensor '{t}' has shape {:?}, too large", info.shape),
                ));
            }
            (Some(_), Some(b)) if b != e - s => {
                return Err(malformed(
                    name,
                    format!(
                        "tensor '{t}' of shape {:?} and dtype {:?} needs {b} bytes but its \
                         offsets span {}",
                        info.shape,
                        info.dtype,
                        e - s
                    ),
                ));
            }
            _ => {}
        }
        at = e as u64;
    }
    if at != data_len {
        return Err(malformed(
            name,
            format!(
                "the header declares {at} bytes of data but the file holds {data_len}; need a \
                 complete .safetensors file"
            ),
        ));
    }
    Ok(tensors)
}

/// The header length h from the first 8 bytes, checked against the file's length `len`.
fn header_len(first: &[u8], len: u64, name: &str) -> Result<u64, TokenFileError> {
    if first.len() < 8 {
        return Err(malformed(
            name,
            format!(
                "{} bytes, shorter than the 8-byte header length",
                first.len()
            ),
        ));
    }
    let h = u64::from_le_bytes(crate::raw::bytes_of::<8>(&first[..8]));
    if h > MAX_HEADER {
        return Err(malformed(
            name,
            format!("header length {h} (at most {MAX_HEADER} bytes are accepted)"),
        ));
    }
    if h + 8 > len {
        return Err(malformed(
            name,
            format!("truncated header ({len} bytes, the header needs {})", h + 8),
        ));
    }
    Ok(h)
}

/// Reads and validates the header of `path` (a regular file): the file and its header.
pub(crate) fn read_header(path: &Path) -> Result<(std::fs::File, Header), TokenFileError> {
    let name = path.display().to_string();
    let io = |e: std::io::Error| {
        TokenFileError::Npy(crate::NpyError::Io {
            path: name.clone(),
            reason: e.to_string(),
        })
    };
    let (mut file, len) = open_regular(path)?;
    let mut first = Vec::with_capacity(8);
    (&mut file).take(8).read_to_end(&mut first).map_err(io)?;
    let h = header_len(&first, len, &name)?;
    let json = read_exact_fallible(&mut file, h as usize, &name, || {
        crate::NpyError::Malformed {
            path: name.clone(),
            reason: format!("cannot allocate its header of {h} bytes"),
        }
    })?;
    let tensors = parse_json(&json, len - 8 - h, &name)?;
    Ok((
        file,
        Header {
            tensors,
            data_start: 8 + h,
        },
    ))
}

/// The names of `tensors` for a message, in alphabetical order: at most [`LISTED`], then how
/// many more.
fn list(tensors: &[(String, TensorInfo)]) -> String {
    let mut sorted: Vec<&(String, TensorInfo)> = tensors.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut names: Vec<String> = sorted
        .into_iter()
        .take(LISTED)
        .map(|(t, i)| format!("{t} {:?} {:?}", i.dtype, i.shape))
        .collect();
    if tensors.len() > LISTED {
        names.push(format!("and {} more", tensors.len() - LISTED));
    }
    names.join(", ")
}

/// Chooses the tensor named `tensor` (or the only one) and checks it is a 2-d float tensor
/// with n ≥ 2 rows and d ≥ 1 columns.
pub(crate) fn choose(
    header: &Header,
    tensor: Option<&str>,
    name: &str,
) -> Result<Chosen, TokenFileError> {
    let (t, info) = match tensor {
        Some(want) => header
            .tensors
            .iter()
            .find(|(t, _)| t == want)
            .ok_or_else(|| TokenFileError::NoSuchTensor {
                path: name.to_owned(),
                tensor: want.to_owned(),
                names: list(&header.tensors),
            })?,
        None => match header.tensors.as_slice() {
            [one] => one,
            [] => {
                return Err(malformed(name, "it holds no tensor"));
            }
            many => {
                return Err(TokenFileError::AmbiguousTensor {
                    path: name.to_owned(),
                    count: many.len(),
                    names: list(many),
                });
            }
        },
    };
    let dtype = match info.dtype {
        Dtype::F16 => StoredDtype::F16,
        Dtype::BF16 => StoredDtype::BF16,
        Dtype::F32 => StoredDtype::F32,
        Dtype::F64 => StoredDtype::F64,
        other => {
            return Err(TokenFileError::TensorDType {
                path: name.to_owned(),
                tensor: t.clone(),
                dtype: format!("{other:?}"),
            });
        }
    };
    let shape = &info.shape;
    if shape.len() != 2 || shape[0] < 2 || shape[1] < 1 {
        return Err(TokenFileError::TensorShape {
            path: name.to_owned(),
            tensor: t.clone(),
            shape: shape.clone(),
        });
    }
    let (s, e) = info.data_offsets;
    Ok(Chosen {
        name: t.clone(),
        dtype,
        n: shape[0],
        d: shape[1],
        start: header.data_start + s as u64,
        len: e - s,
    })
}

/// Reads the chosen tensor's bytes (exactly `chosen.len` of them, fallibly allocated).
pub(crate) fn read_chosen(
    mut file: std::fs::File,
    chosen: &Chosen,
    name: &str,
) -> Result<Vec<u8>, TokenFileError> {
    file.seek(SeekFrom::Start(chosen.start))
        .map_err(|e| crate::NpyError::Io {
            path: name.to_owned(),
            reason: e.to_string(),
        })?;
    Ok(read_exact_fallible(file, chosen.len, name, || {
        crate::NpyError::OutOfMemory {
            path: name.to_owned(),
            n: chosen.n,
            d: chosen.d,
            bytes: chosen.len as u64,
        }
    })?)
}

/// The header of a whole `.safetensors` file in memory (for tests and tools).
pub(crate) fn header_of(bytes: &[u8], name: &str) -> Result<Header, TokenFileError> {
    let h = header_len(bytes, bytes.len() as u64, name)?;
    let tensors = parse_json(&bytes[8..8 + h as usize], bytes.len() as u64 - 8 - h, name)?;
    Ok(Header {
        tensors,
        data_start: 8 + h,
    })
}

/// The chosen tensor's data as a matrix view.
pub(crate) fn raw_view<'a>(chosen: &Chosen, data: &'a [u8]) -> RawMatrix<'a> {
    RawMatrix {
        data,
        rows: chosen.n,
        cols: chosen.d,
        dtype: chosen.dtype,
        big_endian: false,
        fortran: false,
    }
}
