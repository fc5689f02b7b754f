//! Preset: the classic named 3x3 image kernels (edge detectors, blurs, sharpen).

/// A named 3x3 kernel. Taps are integers; the real kernel is `taps / divisor`.
///
/// # Examples
///
/// ```
/// use scanline::preset::Preset;
/// let k = Preset::from_name("laplacian8").unwrap();
/// assert_eq!(k.taps(), [-1, -1, -1, -1, 8, -1, -1, -1, -1]);
/// assert_eq!(Preset::Gaussian.real()[4], 4.0 / 16.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    /// `[[-1,-1,-1],[-1,8,-1],[-1,-1,-1]]`: the classic edge detector.
    Laplacian8,
    /// `[[0,1,0],[1,-4,1],[0,1,0]]`.
    Laplacian4,
    /// Horizontal gradient `[[-1,0,1],[-2,0,2],[-1,0,1]]`.
    SobelX,
    /// Vertical gradient `[[-1,-2,-1],[0,0,0],[1,2,1]]`.
    SobelY,
    /// `[[-3,0,3],[-10,0,10],[-3,0,3]]`.
    ScharrX,
    /// `[[-3,-10,-3],[0,0,0],[3,10,3]]`.
    ScharrY,
    /// `[[-1,0,1],[-1,0,1],[-1,0,1]]`.
    PrewittX,
    /// `[[-1,-1,-1],[0,0,0],[1,1,1]]`.
    PrewittY,
    /// `[[0,-1,0],[-1,5,-1],[0,-1,0]]`.
    Sharpen,
    /// All ones / 9.
    BoxBlur,
    /// `[[1,2,1],[2,4,2],[1,2,1]] / 16`.
    Gaussian,
    /// `[[-2,-1,0],[-1,1,1],[0,1,2]]`.
    Emboss,
    /// `[[-1,-1,-1],[-1,8,-1],[-1,-1,-1]]`: the name image-kernel galleries give
    /// the same kernel as [`Preset::Laplacian8`].
    Outline,
}

impl Preset {
    /// Every preset, in documentation order.
    pub const ALL: [Preset; 13] = [
        Preset::Laplacian8,
        Preset::Laplacian4,
        Preset::SobelX,
        Preset::SobelY,
        Preset::ScharrX,
        Preset::ScharrY,
        Preset::PrewittX,
        Preset::PrewittY,
        Preset::Sharpen,
        Preset::BoxBlur,
        Preset::Gaussian,
        Preset::Emboss,
        Preset::Outline,
    ];

    /// The name used on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Preset::Laplacian8 => "laplacian8",
            Preset::Laplacian4 => "laplacian4",
            Preset::SobelX => "sobel-x",
            Preset::SobelY => "sobel-y",
            Preset::ScharrX => "scharr-x",
            Preset::ScharrY => "scharr-y",
            Preset::PrewittX => "prewitt-x",
            Preset::PrewittY => "prewitt-y",
            Preset::Sharpen => "sharpen",
            Preset::BoxBlur => "box-blur",
            Preset::Gaussian => "gaussian",
            Preset::Emboss => "emboss",
            Preset::Outline => "outline",
        }
    }

    /// The preset called `name` (case-insensitive), if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }

    /// Integer taps, row-major.
    pub const fn taps(self) -> [i8; 9] {
        match self {
            Preset::Laplacian8 | Preset::Outline => [-1, -1, -1, -1, 8, -1, -1, -1, -1],
            Preset::Laplacian4 => [0, 1, 0, 1, -4, 1, 0, 1, 0],
            Preset::SobelX => [-1, 0, 1, -2, 0, 2, -1, 0, 1],
            Preset::SobelY => [-1, -2, -1, 0, 0, 0, 1, 2, 1],
            Preset::ScharrX => [-3, 0, 3, -10, 0, 10, -3, 0, 3],
            Preset::ScharrY => [-3, -10, -3, 0, 0, 0, 3, 10, 3],
            Preset::PrewittX => [-1, 0, 1, -1, 0, 1, -1, 0, 1],
            Preset::PrewittY => [-1, -1, -1, 0, 0, 0, 1, 1, 1],
            Preset::Sharpen => [0, -1, 0, -1, 5, -1, 0, -1, 0],
            Preset::BoxBlur => [1; 9],
            Preset::Gaussian => [1, 2, 1, 2, 4, 2, 1, 2, 1],
            Preset::Emboss => [-2, -1, 0, -1, 1, 1, 0, 1, 2],
        }
    }

    /// What the taps are divided by (1, 9 for the box blur, 16 for the Gaussian).
    pub const fn divisor(self) -> u8 {
        match self {
            Preset::BoxBlur => 9,
            Preset::Gaussian => 16,
            _ => 1,
        }
    }

    /// The real kernel, row-major: `taps / divisor`.
    pub fn real(self) -> [f32; 9] {
        let d = self.divisor() as f32;
        self.taps().map(|t| t as f32 / d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Preset::ALL {
            assert_eq!(Preset::from_name(p.name()), Some(p));
        }
        assert_eq!(Preset::from_name("SOBEL-X"), Some(Preset::SobelX));
        assert_eq!(Preset::from_name("nope"), None);
    }

    #[test]
    fn derivative_kernels_sum_to_zero_and_blurs_to_one() {
        for p in Preset::ALL {
            let sum: i32 = p.taps().iter().map(|&t| t as i32).sum();
            match p {
                Preset::BoxBlur => assert_eq!(sum, 9),
                Preset::Gaussian => assert_eq!(sum, 16),
                Preset::Sharpen | Preset::Emboss => assert_eq!(sum, 1),
                _ => assert_eq!(sum, 0, "{}", p.name()),
            }
        }
    }
}
