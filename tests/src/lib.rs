//! scanline-tests: the integration tests that need several crates (in `tests/`) and
//! the repository's fixtures, photos and golden files; no code of its own — what
//! the tests share is in `scanline-testkit`.
