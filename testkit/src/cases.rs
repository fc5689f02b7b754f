//! Cases: how many random cases a property test runs — its own default, or
//! `PROPTEST_CASES` from the environment for a longer (or shorter) run.

/// The environment variable that overrides every default, as proptest's own.
pub const VAR: &str = "PROPTEST_CASES";

/// `default`, or the number in [`VAR`] when it is set to one (e.g.
/// `PROPTEST_CASES=40000 cargo test` for a stress run).
///
/// ```
/// // With PROPTEST_CASES unset (or not a number), the test's own default.
/// if std::env::var("PROPTEST_CASES").is_err() {
///     assert_eq!(scanline_testkit::cases::count(500), 500);
/// }
/// ```
pub fn count(default: u32) -> u32 {
    parse(std::env::var(VAR).ok().as_deref(), default)
}

/// The number in `value`, else `default`.
fn parse(value: Option<&str>, default: u32) -> u32 {
    value.and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_overrides_the_default() {
        assert_eq!(parse(None, 500), 500);
        assert_eq!(parse(Some("40000"), 500), 40_000);
        assert_eq!(parse(Some(" 7 "), 500), 7);
        assert_eq!(parse(Some("many"), 500), 500);
        assert_eq!(parse(Some(""), 500), 500);
    }
}
