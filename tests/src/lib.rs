//! scanline-tests: cross-crate integration tests (in `tests/`) and their fixtures.
