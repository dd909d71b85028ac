//! Decoding stored values (f16, bf16, f32, f64 in either byte order, row- or column-major) to an
//! f64 matrix, row by row, with the finiteness check.
//!
//! Every stored value is widened **exactly**: f16 and bf16 through `half` (binary16 and bfloat16
//! are subsets of f64), f32 by `f64::from`.

use crate::StoredDtype;
use ndarray::Array2;

/// `N` bytes from a slice of exactly `N` bytes.
pub(crate) fn bytes_of<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(b);
    a
}

/// A stored rows × cols matrix, not yet decoded. `data` holds exactly rows·cols values.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawMatrix<'a> {
    /// The values' bytes.
    pub data: &'a [u8],
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Element type.
    pub dtype: StoredDtype,
    /// Big-endian values.
    pub big_endian: bool,
    /// Column-major order.
    pub fortran: bool,
}

/// Why [`RawMatrix::gather`] failed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum GatherError {
    /// The output of this many bytes could not be allocated.
    OutOfMemory(u64),
    /// A NaN or ±∞: the row of the output, the row of the source, the column, the value.
    NonFinite {
        /// Row of the output.
        row: usize,
        /// Row of the stored matrix.
        source_row: usize,
        /// Column.
        col: usize,
        /// The value.
        value: f64,
    },
}

impl RawMatrix<'_> {
    /// The value at flat index `k` of the stored order.
    fn value(&self, k: usize) -> f64 {
        let s = self.dtype.size();
        let b = &self.data[k * s..(k + 1) * s];
        let be = self.big_endian;
        match self.dtype {
            StoredDtype::F64 => {
                let a = bytes_of::<8>(b);
                if be {
                    f64::from_be_bytes(a)
                } else {
                    f64::from_le_bytes(a)
                }
            }
            StoredDtype::F32 => {
                let a = bytes_of::<4>(b);
                f64::from(if be {
                    f32::from_be_bytes(a)
                } else {
                    f32::from_le_bytes(a)
                })
            }
            StoredDtype::F16 => {
                let a = bytes_of::<2>(b);
                let bits = if be {
                    u16::from_be_bytes(a)
                } else {
                    u16::from_le_bytes(a)
                };
                half::f16::from_bits(bits).to_f64()
            }
            StoredDtype::BF16 => {
                let a = bytes_of::<2>(b);
                let bits = if be {
                    u16::from_be_bytes(a)
                } else {
                    u16::from_le_bytes(a)
                };
                half::bf16::from_bits(bits).to_f64()
            }
        }
    }

    /// The `count` rows listed by `rows` (each < self.rows), in that order, as an f64 matrix
    /// count × cols; the output is allocated fallibly and every value checked finite.
    pub(crate) fn gather(
        &self,
        rows: impl Iterator<Item = usize>,
        count: usize,
    ) -> Result<Array2<f64>, GatherError> {
        let len = count.saturating_mul(self.cols);
        let mut out: Vec<f64> = Vec::new();
        out.try_reserve_exact(len)
            .map_err(|_| GatherError::OutOfMemory((len as u64).saturating_mul(8)))?;
        for (row, src) in rows.enumerate() {
            for col in 0..self.cols {
                let k = if self.fortran {
                    col * self.rows + src
                } else {
                    src * self.cols + col
                };
                let value = self.value(k);
                if !value.is_finite() {
                    return Err(GatherError::NonFinite {
                        row,
                        source_row: src,
                        col,
                        value,
                    });
                }
                out.push(value);
            }
        }
        // `out` has count·cols values by construction.
        Ok(
            Array2::from_shape_vec((out.len() / self.cols.max(1), self.cols), out)
                .unwrap_or_else(|_| Array2::zeros((0, self.cols))),
        )
    }
}
