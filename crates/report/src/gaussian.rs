//! Figures 1 and 2 of the paper on Gaussian almost-simplices (work in progress).
