//! Rng: one small seeded random generator (splitmix64) for reproducible test data.
//!
//! Not for statistics: [`Rng::range`] reduces by a modulo (a bias of at most
//! `span / 2^64`, nothing a test can see), and floats take the top 53 (or 24)
//! bits. What it promises is that a seed always gives the same sequence, on every
//! platform and in every build, so a failing case is reproduced by its seed.

/// A splitmix64 generator (Steele, Lea and Flood, 2014): a 64-bit counter stepped
/// by the golden ratio, then mixed. Every seed, 0 included, is a good seed.
///
/// # Examples
///
/// ```
/// use scanline_testkit::Rng;
/// let mut rng = Rng::new(42);
/// let k = rng.usize(1, 7); // a kernel size in 1..=7
/// assert!((1..=7).contains(&k));
/// let weights = rng.i8s(k * k);
/// assert_eq!(weights.len(), k * k);
/// let scale = rng.f32(0.005, 0.02);
/// assert!((0.005..0.02).contains(&scale));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator whose sequence is fixed by `seed`.
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits; every other method draws from these.
    ///
    /// ```
    /// use scanline_testkit::Rng;
    /// // The published first output of splitmix64 seeded with 0.
    /// assert_eq!(Rng::new(0).next_u64(), 0xe220_a839_7b1d_cdaf);
    /// ```
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// An integer in `lo..=hi` (one draw: `lo + next_u64() % (hi - lo + 1)`).
    ///
    /// # Panics
    ///
    /// If `hi < lo`.
    ///
    /// ```
    /// use scanline_testkit::Rng;
    /// let mut rng = Rng::new(1);
    /// assert!((0..1000).all(|_| (-128..=127).contains(&rng.range(-128, 127))));
    /// assert_eq!(rng.range(5, 5), 5);
    /// ```
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        assert!(lo <= hi, "Rng::range: empty range {lo}..={hi}");
        let span = (hi as i128 - lo as i128 + 1) as u128;
        (lo as i128 + (self.next_u64() as u128 % span) as i128) as i64
    }

    /// A size in `lo..=hi` (as [`Rng::range`]).
    ///
    /// ```
    /// use scanline_testkit::Rng;
    /// let mut rng = Rng::new(2);
    /// assert!((0..100).all(|_| (1..=3).contains(&rng.usize(1, 3))));
    /// ```
    pub fn usize(&mut self, lo: usize, hi: usize) -> usize {
        self.range(lo as i64, hi as i64) as usize
    }

    /// Any int8, uniform over `-128..=127` (the low byte of one draw).
    ///
    /// ```
    /// use scanline_testkit::Rng;
    /// let mut rng = Rng::new(3);
    /// let v: Vec<i8> = (0..4096).map(|_| rng.i8()).collect();
    /// assert!(v.contains(&-128) && v.contains(&127));
    /// ```
    pub fn i8(&mut self) -> i8 {
        self.next_u64() as i8
    }

    /// `n` int8 values, each as [`Rng::i8`].
    ///
    /// ```
    /// use scanline_testkit::Rng;
    /// assert_eq!(Rng::new(4).i8s(3).len(), 3);
    /// ```
    pub fn i8s(&mut self, n: usize) -> Vec<i8> {
        (0..n).map(|_| self.i8()).collect()
    }

    /// A fair coin (the low bit of one draw).
    ///
    /// ```
    /// use scanline_testkit::Rng;
    /// let mut rng = Rng::new(5);
    /// let heads = (0..1000).filter(|_| rng.bool()).count();
    /// assert!((400..600).contains(&heads));
    /// ```
    pub fn bool(&mut self) -> bool {
        self.next_u64() & 1 == 1
    }

    /// True with probability `1 / n` (one draw divisible by `n`).
    ///
    /// # Panics
    ///
    /// If `n` is 0.
    ///
    /// ```
    /// use scanline_testkit::Rng;
    /// let mut rng = Rng::new(6);
    /// assert!((0..10).all(|_| rng.one_in(1)));
    /// let eighths = (0..8000).filter(|_| rng.one_in(8)).count();
    /// assert!((800..1200).contains(&eighths));
    /// ```
    pub fn one_in(&mut self, n: u64) -> bool {
        self.next_u64().is_multiple_of(n)
    }

    /// A float in `[lo, hi)` from the top 53 bits of one draw.
    ///
    /// ```
    /// use scanline_testkit::Rng;
    /// let mut rng = Rng::new(7);
    /// assert!((0..1000).all(|_| (-2.0..3.0).contains(&rng.f64(-2.0, 3.0))));
    /// ```
    pub fn f64(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A float in `[lo, hi)` from the top 24 bits of one draw (below `hi` for
    /// spans where f32 rounding cannot reach it).
    ///
    /// ```
    /// use scanline_testkit::Rng;
    /// let mut rng = Rng::new(8);
    /// assert!((0..1000).all(|_| (0.5..2.0).contains(&rng.f32(0.5, 2.0))));
    /// ```
    pub fn f32(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32)
    }

    /// One of `items`, uniformly.
    ///
    /// # Panics
    ///
    /// If `items` is empty.
    ///
    /// ```
    /// use scanline_testkit::Rng;
    /// let mut rng = Rng::new(9);
    /// let k = *rng.pick(&[1, 3, 5, 7]);
    /// assert!([1, 3, 5, 7].contains(&k));
    /// ```
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        assert!(!items.is_empty(), "Rng::pick: no items");
        &items[self.usize(0, items.len() - 1)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_reference_sequence() {
        // splitmix64 seeded with 0, as published with the algorithm.
        let mut rng = Rng::new(0);
        assert_eq!(rng.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(rng.next_u64(), 0x6e78_9e6a_a1b9_65f4);
        assert_eq!(rng.next_u64(), 0x06c4_5d18_8009_454f);
    }

    #[test]
    fn helpers_are_one_draw_each_with_the_documented_formulas() {
        let draws: Vec<u64> = {
            let mut r = Rng::new(99);
            (0..8).map(|_| r.next_u64()).collect()
        };
        let mut rng = Rng::new(99);
        assert_eq!(rng.range(-3, 3), -3 + (draws[0] % 7) as i64);
        assert_eq!(rng.i8(), draws[1] as i8);
        assert_eq!(rng.bool(), draws[2] & 1 == 1);
        assert_eq!(rng.one_in(4), draws[3].is_multiple_of(4));
        assert_eq!(
            rng.f64(1.0, 2.0),
            1.0 + (draws[4] >> 11) as f64 / (1u64 << 53) as f64
        );
        assert_eq!(
            rng.f32(0.0, 1.0),
            (draws[5] >> 40) as f32 / (1u64 << 24) as f32
        );
        assert_eq!(
            *rng.pick(&[10, 20, 30]),
            [10, 20, 30][(draws[6] % 3) as usize]
        );
        assert_eq!(rng.usize(2, 9), 2 + (draws[7] % 8) as usize);
    }

    #[test]
    fn the_widest_range_does_not_overflow() {
        let mut rng = Rng::new(11);
        let draw = Rng::new(11).next_u64();
        assert_eq!(rng.range(i64::MIN, i64::MAX), (draw as i64) ^ i64::MIN);
    }

    #[test]
    #[should_panic(expected = "empty range 2..=1")]
    fn an_empty_range_panics() {
        Rng::new(0).range(2, 1);
    }
}
