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

/// The direction v/|v| of a nonzero finite v, exact also where |v| itself overflows or is
/// subnormal: v is divided by m = max_a |v_a| first (so its largest entry is ±1 and its norm lies
/// in [1, √d]), then by that norm. (Dividing by |v| = m·|v/m| instead gives 0 when |v|
/// overflows, and a vector whose length is not 1 when |v| carries the few bits of a
/// subnormal.)
pub(crate) fn direction<T: Real>(ctx: &T::Ctx, v: ArrayView1<'_, T>) -> ndarray::Array1<T> {
    let mut m = T::zero(ctx);
    for a in v.iter() {
        m = m.max(&a.abs());
    }
    let w: ndarray::Array1<T> = v.iter().map(|a| a.clone() / &m).collect();
    let r = norm(ctx, w.view());
    w.mapv(|a| a / &r)
}

/// |u − v|, with the same scaling as [`norm`].
pub(crate) fn distance<T: Real>(ctx: &T::Ctx, u: ArrayView1<'_, T>, v: ArrayView1<'_, T>) -> T {
    let diff: ndarray::Array1<T> = u.iter().zip(v.iter()).map(|(a, b)| a.clone() - b).collect();
    norm(ctx, diff.view())
}
