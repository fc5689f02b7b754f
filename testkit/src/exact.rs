//! Exact: powers of two built from their bits. `f64::powi`'s precision is
//! unspecified (Miri deliberately perturbs it), so tests whose reference needs
//! an exact `2^e` use [`pow2`] instead.

/// `2^e` exactly, for `e` in `-1074..=1023` (subnormals included).
///
/// ```
/// use scanline_testkit::exact::pow2;
/// assert_eq!(pow2(0), 1.0);
/// assert_eq!(pow2(-1), 0.5);
/// assert_eq!(pow2(31), 2147483648.0);
/// assert_eq!(pow2(-1074), f64::from_bits(1));
/// ```
///
/// # Panics
///
/// Outside that range.
pub fn pow2(e: i32) -> f64 {
    assert!(
        (-1074..=1023).contains(&e),
        "2^{e} is not a finite non-zero f64"
    );
    if e >= -1022 {
        f64::from_bits(((e + 1023) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (e + 1074))
    }
}
