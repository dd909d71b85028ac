//! The one seed policy: a sample is named by a [`SampleKey`] (tag, n, d, ρ, seed) and drawn from
//! the ChaCha stream that [`stream_seed`] derives from the whole key (see the crate docs).

use ndarray::Array2;
use sha2::{Digest, Sha256};

/// Domain prefix of the hashed key; a new version of the policy changes it.
const DOMAIN: &[u8] = b"critscale-sweeps/sample-key/v1\0";

/// The name of one sample: what it is drawn for and with which shape and parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampleKey {
    /// The experiment family (`"T2"`, `"T5"`, `"gaussian-grid"`, …): equal tags share draws only
    /// when every other field is equal too.
    pub tag: &'static str,
    /// Number of tokens.
    pub n: usize,
    /// Dimension of the tokens.
    pub d: usize,
    /// Nominal mean cosine ρ of the Gaussian almost-simplex, in [0, 1).
    pub rho: f64,
    /// The replicate.
    pub seed: u64,
}

impl SampleKey {
    /// The key of replicate `seed` of family `tag` at (n, d, ρ).
    pub fn new(tag: &'static str, n: usize, d: usize, rho: f64, seed: u64) -> SampleKey {
        SampleKey {
            tag,
            n,
            d,
            rho,
            seed,
        }
    }

    /// The seed of this key's stream, [`stream_seed`]`(self)`.
    pub fn stream_seed(&self) -> u64 {
        stream_seed(self)
    }

    /// The Gaussian almost-simplex of this key: x_i = √ρ z₀ + √(1 − ρ) z_i, z ~ N(0, I_d/d)
    /// (`critscale_model::gaussian_almost_simplex`, n × d), drawn from the key's own stream.
    ///
    /// # Errors
    /// [`crate::Error::BadInput`] unless n ≥ 2, d ≥ 1 and 0 ≤ ρ < 1.
    pub fn draw(&self) -> crate::Result<Array2<f64>> {
        if self.n < 2 || self.d < 1 || !(0.0..1.0).contains(&self.rho) {
            return Err(crate::Error::BadInput {
                what: format!("sample {self}"),
                reason: "need n >= 2, d >= 1 and rho in [0, 1)".to_owned(),
            });
        }
        Ok(critscale_model::gaussian_almost_simplex::<f64>(
            &(),
            self.n,
            self.d,
            self.rho,
            self.stream_seed(),
        ))
    }
}

impl std::fmt::Display for SampleKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/n{}/d{}/rho{}/seed{}",
            self.tag, self.n, self.d, self.rho, self.seed
        )
    }
}

/// The seed of the ChaCha8 stream of `key`: the first 8 bytes (little-endian) of
/// SHA-256(DOMAIN ‖ len(tag) ‖ tag ‖ n ‖ d ‖ bits(ρ) ‖ seed), every number a little-endian `u64`.
/// The length prefix keeps the encoding unambiguous, so distinct keys hash distinct inputs.
pub fn stream_seed(key: &SampleKey) -> u64 {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update((key.tag.len() as u64).to_le_bytes());
    h.update(key.tag.as_bytes());
    for word in [key.n as u64, key.d as u64, key.rho.to_bits(), key.seed] {
        h.update(word.to_le_bytes());
    }
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_of_the_key_changes_the_stream() {
        let base = SampleKey::new("T2", 256, 512, 0.3, 0);
        let variants = [
            SampleKey { tag: "T5", ..base },
            SampleKey { n: 512, ..base },
            SampleKey { d: 32, ..base },
            SampleKey {
                rho: 0.3000000000000001,
                ..base
            },
            SampleKey { seed: 1, ..base },
        ];
        for v in variants {
            assert_ne!(stream_seed(&v), stream_seed(&base), "{v}");
        }
        // The length prefix separates ("ab", …) from ("a", …) with shifted bytes.
        assert_ne!(
            stream_seed(&SampleKey { tag: "ab", ..base }),
            stream_seed(&SampleKey { tag: "a", ..base })
        );
        assert_eq!(stream_seed(&base), base.stream_seed());
    }

    #[test]
    fn the_larger_sample_does_not_contain_the_smaller() {
        let small = SampleKey::new("T2", 8, 4, 0.3, 0).draw().unwrap();
        let large = SampleKey::new("T2", 16, 4, 0.3, 0).draw().unwrap();
        // With one shared stream the first 8 rows would agree (up to the shared z₀).
        assert_ne!(small.row(0), large.row(0));
        // The same key gives the same sample.
        assert_eq!(small, SampleKey::new("T2", 8, 4, 0.3, 0).draw().unwrap());
    }

    #[test]
    fn bad_keys_are_refused() {
        for key in [
            SampleKey::new("x", 1, 4, 0.3, 0),
            SampleKey::new("x", 4, 0, 0.3, 0),
            SampleKey::new("x", 4, 4, 1.0, 0),
            SampleKey::new("x", 4, 4, f64::NAN, 0),
        ] {
            assert!(key.draw().is_err(), "{key}");
        }
    }
}
