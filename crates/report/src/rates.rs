//! Rate plots and γ*(n) against 1/log n (work in progress).
