//! How much memory a computation needs, how much the system offers, and fallible allocation.
//!
//! [`Work::bytes`] adds up the large buffers of a `simulate`-style run (the tokens, the
//! prepared and output matrices of the forward pass, the tiles of each thread, and the n × n
//! matrices of exact η or the probe batches of Hutchinson's estimator) from the sizes in the
//! module docs of [`mod@crate::forward`] and [`mod@crate::eta`]. [`limits`] reads what the
//! process may use: `MemAvailable` from `/proc/meminfo` and the address-space limit
//! `RLIMIT_AS` (`ulimit -v`). [`Work::check`] compares the two before any work starts, so
//! that a run that cannot finish is refused at once instead of aborting after its forward pass.
//!
//! The estimate counts what the kernels allocate; the allocator, the binary and the thread
//! stacks add a fixed amount ([`BASELINE`] plus [`PER_THREAD`] per rayon thread, which covers
//! glibc's 64 MiB per-thread malloc arenas, relevant under an address-space limit).

use crate::element::Element;
use crate::error::KernelError;
use crate::prepare::default_block;

/// Fixed address space of the process besides the buffers counted (binary, libraries, the
/// main thread's stack and malloc arena).
pub const BASELINE: u64 = 160 << 20;

/// Address space per worker thread (its stack and malloc arena), counted for up to 16 threads.
pub const PER_THREAD: u64 = 72 << 20;

/// Which η a run computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EtaWork {
    /// No η.
    None,
    /// The exact η (three n × n matrices, or two and an n × d(d+1)/2 one).
    Exact,
    /// Hutchinson's estimate with this many probes.
    Hutchinson(usize),
}

/// The sizes of a run: n tokens of dimension d in an element type of `elem` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Work {
    /// Tokens.
    pub n: usize,
    /// Dimension.
    pub d: usize,
    /// Bytes per element of the working precision (8 for f64, 4 for f32).
    pub elem: usize,
    /// Rows per block (`None`: [`default_block`]).
    pub block: Option<usize>,
    /// The η asked for.
    pub eta: EtaWork,
    /// Worker threads.
    pub threads: usize,
}

/// What the process may use, in bytes (`None`: unknown or unlimited).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    /// `MemAvailable` of `/proc/meminfo`.
    pub available: Option<u64>,
    /// The soft `RLIMIT_AS`.
    pub address_space: Option<u64>,
}

/// Reads [`Limits`] of this process (Linux; elsewhere both are `None`).
pub fn limits() -> Limits {
    let available = std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| {
        t.lines()
            .find_map(|l| l.strip_prefix("MemAvailable:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kib| kib.saturating_mul(1024))
    });
    Limits {
        available,
        address_space: address_space_limit(),
    }
}

#[cfg(unix)]
fn address_space_limit() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit` into the struct we own.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut lim) };
    // rlim_t is u64 on 64-bit Linux but not everywhere.
    #[allow(clippy::unnecessary_cast)]
    let cur = lim.rlim_cur as u64;
    (rc == 0 && lim.rlim_cur != libc::RLIM_INFINITY).then_some(cur)
}

#[cfg(not(unix))]
fn address_space_limit() -> Option<u64> {
    None
}

/// The number of worker threads the kernels will use (rayon's current pool).
pub fn worker_threads() -> usize {
    rayon::current_num_threads()
}

/// A number of bytes for messages: "12.8 GB", "640 MB".
pub fn human(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else {
        format!("{:.0} MB", (b / 1e6).max(1.0))
    }
}

impl Work {
    /// The bytes of the large buffers at the peak of the run (saturating).
    pub fn bytes(&self) -> u64 {
        let (n, d, s) = (self.n as u64, self.d as u64, self.elem as u64);
        let b = self
            .block
            .unwrap_or_else(|| default_block(self.n))
            .clamp(1, self.n.max(1)) as u64;
        let t = self.threads.max(1) as u64;
        let nd = n.saturating_mul(d);
        let nn = n.saturating_mul(n);
        let mul = |a: u64, b: u64| a.saturating_mul(b);
        // The tokens in f64 (as read or generated) and their copy in the working precision.
        let tokens = mul(8, nd).saturating_add(if s == 8 { 0 } else { mul(s, nd) });
        // prepare: y (f64, during normalisation), z and the per-row vectors.
        let prepared = mul(8, nd)
            .saturating_add(mul(s, nd))
            .saturating_add(mul(24, n));
        // forward: U, x', y' (f64), z' and two b × b tiles per thread (also observables'), and
        // the δ tiles when they are kept (at most DELTA_CACHE_MAX).
        let cache = crate::forward::delta_cache_bytes(self.n, b as usize, self.elem);
        let forward = prepared
            .saturating_add(mul(3 * s + 8, nd))
            .saturating_add(mul(mul(2 * s, mul(b, b)), t))
            .saturating_add(mul(48, n))
            .saturating_add(if cache <= crate::forward::DELTA_CACHE_MAX {
                cache
            } else {
                0
            });
        let eta = match self.eta {
            EtaWork::None => 0,
            EtaWork::Exact => {
                let dh = d.saturating_mul(d + 1) / 2;
                // G and A, then G∘G (n × n) or vech(z zᵀ) (n × dh); M = A Z; per thread the
                // row-block buffers B_I, W_I (b × n) and the Q tiles.
                let third = if 2 * dh < n { mul(n, dh) } else { nn };
                prepared
                    .saturating_add(mul(s, mul(2, nn).saturating_add(third)))
                    .saturating_add(mul(s, nd))
                    .saturating_add(mul(t, mul(s, mul(2, mul(b.max(512).min(n), n)))))
            }
            EtaWork::Hutchinson(probes) => {
                let batch = probes.clamp(1, crate::eta::PROBE_BATCH) as u64;
                // U and μ, per probe of a batch v (f64), u and ⟨c, u⟩; per thread four b × n
                // blocks; the sample and error of every probe (two f64 each).
                prepared
                    .saturating_add(mul(16, probes as u64))
                    .saturating_add(mul(s + 8, nd))
                    .saturating_add(mul(batch, mul(8 + s, nd).saturating_add(mul(8, n))))
                    .saturating_add(mul(t, mul(4 * s, mul(b, n))))
            }
        };
        // The forward pass is dropped before η starts.
        tokens.saturating_add(forward.max(eta))
    }

    /// Refuses work that does not fit in the available memory or the address-space limit.
    ///
    /// # Errors
    ///
    /// [`KernelError::TooMuchMemory`] with the estimate and the limit it exceeds.
    pub fn check(&self, limits: &Limits) -> Result<u64, KernelError> {
        let need = self.bytes();
        // Threads beyond 16 share malloc arenas (and often never allocate): not counted.
        let overhead =
            BASELINE.saturating_add(PER_THREAD.saturating_mul(self.threads.min(16) as u64));
        let with_overhead = need.saturating_add(overhead);
        // Of the limits exceeded, the smaller one is reported.
        let mut exceeded: Vec<(u64, u64, &'static str)> = Vec::new();
        if let Some(lim) = limits.address_space
            && with_overhead > lim
        {
            exceeded.push((lim, with_overhead, "the address-space limit (ulimit -v)"));
        }
        if let Some(avail) = limits.available
            && need > avail
        {
            exceeded.push((avail, need, "the memory available (MemAvailable)"));
        }
        if let Some(&(limit, need, what)) = exceeded.iter().min_by_key(|e| e.0) {
            return Err(KernelError::TooMuchMemory { need, limit, what });
        }
        Ok(need)
    }
}

/// A vector of `len` zeros, or [`KernelError::OutOfMemory`] instead of an abort when the
/// allocation fails (`what` names the buffer). The memory comes zeroed from the allocator
/// (`alloc_zeroed`, as `vec![0.0; len]` does), so untouched pages cost nothing.
pub fn try_zeros<T: Element>(len: usize, what: &'static str) -> Result<Vec<T>, KernelError> {
    let oom = || KernelError::OutOfMemory {
        what,
        bytes: (len as u64).saturating_mul(std::mem::size_of::<T>() as u64),
    };
    if len == 0 {
        return Ok(Vec::new());
    }
    let layout = std::alloc::Layout::array::<T>(len).map_err(|_| oom())?;
    // SAFETY: the layout has a nonzero size (len > 0, T is f32 or f64).
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<T>();
    if ptr.is_null() {
        return Err(oom());
    }
    // SAFETY: `ptr` was allocated by the global allocator with the layout of `len` values of T
    // (so capacity `len`), and all-zero bits are the value 0.0 of f32 and f64, so all `len`
    // elements are initialised.
    Ok(unsafe { Vec::from_raw_parts(ptr, len, len) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_eta_at_n_40000_needs_three_n_by_n_matrices() {
        let w = Work {
            n: 40_000,
            d: 512,
            elem: 8,
            block: None,
            eta: EtaWork::Exact,
            threads: 2,
        };
        let need = w.bytes();
        assert!(need >= 3 * 8 * 40_000 * 40_000, "{need}");
        assert!(need < 4 * 8 * 40_000 * 40_000, "{need}");
        let err = w
            .check(&Limits {
                available: Some(16 << 30),
                address_space: None,
            })
            .unwrap_err();
        assert!(matches!(err, KernelError::TooMuchMemory { .. }), "{err}");
        let none = Work {
            eta: EtaWork::None,
            ..w
        };
        assert!(none.bytes() < 2 << 30, "{}", none.bytes());
        assert!(
            none.check(&Limits {
                available: Some(16 << 30),
                address_space: Some(4 << 30),
            })
            .is_ok()
        );
        // Sizes that overflow u64 saturate instead of wrapping.
        let huge = Work {
            n: usize::MAX / 2,
            d: usize::MAX / 2,
            ..w
        };
        assert_eq!(huge.bytes(), u64::MAX);
        // Hutchinson keeps a sample and an error per probe: 16 bytes each.
        let probes = |k: usize| {
            Work {
                n: 64,
                d: 8,
                eta: EtaWork::Hutchinson(k),
                ..w
            }
            .bytes()
        };
        assert!(probes(1_000_000_000) >= probes(8) + 16 * (1_000_000_000 - 8));
        assert_eq!(probes(usize::MAX), u64::MAX);
    }

    #[test]
    fn failed_allocations_are_errors() {
        let err = try_zeros::<f64>(usize::MAX / 4, "G").unwrap_err();
        assert!(matches!(err, KernelError::OutOfMemory { what: "G", .. }));
        let err = try_zeros::<f64>(1 << 60, "H").unwrap_err();
        assert!(matches!(err, KernelError::OutOfMemory { what: "H", .. }));
        assert_eq!(try_zeros::<f32>(3, "x").unwrap(), vec![0.0f32; 3]);
        assert!(try_zeros::<f64>(0, "y").unwrap().is_empty());
    }

    #[test]
    fn limits_are_read_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(limits().available.is_some_and(|a| a > 0));
        }
    }
}
