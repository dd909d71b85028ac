//! Small vector helpers shared by the modules (naive loops, generic over the scalar).

use critscale_real::Real;
use ndarray::ArrayView1;

/// ⟨u, v⟩, summed in coordinate order.
pub(crate) fn dot<T: Real>(ctx: &T::Ctx, u: ArrayView1<'_, T>, v: ArrayView1<'_, T>) -> T {
    let mut s = T::zero(ctx);
    for (a, b) in u.iter().zip(v.iter()) {
        s += a.clone() * b;
    }
    s
}

/// The Euclidean norm |v|, computed as m·sqrt(Σ (v_a/m)²) with m = max_a |v_a| so that it neither
/// overflows nor underflows for any finite v; exactly 0 only for v = 0.
pub(crate) fn norm<T: Real>(ctx: &T::Ctx, v: ArrayView1<'_, T>) -> T {
    let zero = T::zero(ctx);
    let mut m = zero.clone();
    for a in v.iter() {
        m = m.max(&a.abs());
    }
    if m == zero {
        return zero;
    }
    let mut s = zero;
    for a in v.iter() {
        s += (a.clone() / &m).square();
    }
    m * &s.sqrt()
}

/// |u − v|, with the same scaling as [`norm`].
pub(crate) fn distance<T: Real>(ctx: &T::Ctx, u: ArrayView1<'_, T>, v: ArrayView1<'_, T>) -> T {
    let diff: ndarray::Array1<T> = u.iter().zip(v.iter()).map(|(a, b)| a.clone() - b).collect();
    norm(ctx, diff.view())
}
