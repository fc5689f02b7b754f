//! OV2640: the image sensor of the ArduCAM Mini 2MP Plus — its SCCB (I2C)
//! address, the registers the driver touches, and the register writes that make
//! it send QVGA (320x240) RGB565 or YUV422 frames into the ArduChip's FIFO.
//!
//! Sources for the facts (cited, not copied):
//! - ArduCAM's Arduino library (ArduCAM.h / ArduCAM.cpp, ov2640_regs.h): the
//!   8-bit SCCB addresses 0x60/0x61 (7-bit 0x30), the chip id registers 0x0A
//!   (0x26) and 0x0B (0x41 or 0x42), and the DSP output section of its
//!   `OV2640_QVGA` table (sensor at UXGA, DSP scaling by 4 then zooming to
//!   320x240, PCLK divided by 4, `IMAGE_MODE` 0xDA = 0x08: RGB565, high byte
//!   first).
//! - OpenMV's ov2640.c and ov2640_regs.h: the bank select register 0xFF (0x00
//!   DSP, 0x01 sensor), the soft reset (sensor bank, COM7 0x12 = 0x80), the
//!   `R_BYPASS` / `RESET` bracketing of a format change, `IMAGE_MODE` YUV422 =
//!   0x00, and the frame-size arithmetic (`HSIZE = w / 4`, `ZMOW = out_w / 4`,
//!   bit 8 of each size in `VHYX`).
//!
//! Every value below is computed from those register definitions (see the
//! comments). What is deliberately *not* here: the ~170 analog tuning writes
//! (AEC, AWB, gamma, lens correction) both libraries send before the output
//! setup. They shape image quality, not the frame geometry or the pixel format
//! this firmware depends on; the sensor keeps its reset defaults for them. Add
//! them from those libraries when image quality matters (see the README).

/// The sensor's 7-bit SCCB address (embedded-hal 1.0 takes 7-bit addresses; the
/// 8-bit forms 0x60 / 0x61 that ArduCAM.h uses include the R/W bit).
pub const ADDRESS: u8 = 0x30;

/// Register addresses.
pub mod reg {
    /// Bank select (both banks): 0x00 DSP, 0x01 sensor.
    pub const BANK_SEL: u8 = 0xff;
    /// Sensor bank: COM7 (bit 7 soft reset; bits 6:4 resolution, 0 = UXGA).
    pub const COM7: u8 = 0x12;
    /// Sensor bank: CLKRC (clock divider).
    pub const CLKRC: u8 = 0x11;
    /// Sensor bank: product id, high byte (0x26).
    pub const PIDH: u8 = 0x0a;
    /// Sensor bank: product id, low byte (0x41 or 0x42).
    pub const PIDL: u8 = 0x0b;
    /// DSP bank: bypass (1) or enable (0) the DSP.
    pub const R_BYPASS: u8 = 0x05;
    /// DSP bank: reset of DSP blocks (0x04 DVP).
    pub const RESET: u8 = 0xe0;
    /// DSP bank: image size / 8, horizontal.
    pub const HSIZE8: u8 = 0xc0;
    /// DSP bank: image size / 8, vertical.
    pub const VSIZE8: u8 = 0xc1;
    /// DSP bank: low bits of the image size.
    pub const SIZEL: u8 = 0x8c;
    /// DSP bank: CTRL2 (DCW, SDE, UV average, colour matrix, UV adjust).
    pub const CTRL2: u8 = 0x86;
    /// DSP bank: CTRLI (low-power DP, vertical and horizontal dividers).
    pub const CTRLI: u8 = 0x50;
    /// DSP bank: window width / 4 (low 8 bits).
    pub const HSIZE: u8 = 0x51;
    /// DSP bank: window height / 4 (low 8 bits).
    pub const VSIZE: u8 = 0x52;
    /// DSP bank: window x offset (low 8 bits).
    pub const XOFFL: u8 = 0x53;
    /// DSP bank: window y offset (low 8 bits).
    pub const YOFFL: u8 = 0x54;
    /// DSP bank: high bits of the window size and offsets.
    pub const VHYX: u8 = 0x55;
    /// DSP bank: TEST (bit 7: bit 9 of the window width / 4).
    pub const TEST: u8 = 0x57;
    /// DSP bank: output width / 4 (low 8 bits).
    pub const ZMOW: u8 = 0x5a;
    /// DSP bank: output height / 4 (low 8 bits).
    pub const ZMOH: u8 = 0x5b;
    /// DSP bank: high bits of the output size.
    pub const ZMHH: u8 = 0x5c;
    /// DSP bank: DVP PCLK divider.
    pub const R_DVP_SP: u8 = 0xd3;
    /// DSP bank: output format (0x08 RGB565, 0x00 YUV422; bit 0 swaps bytes).
    pub const IMAGE_MODE: u8 = 0xda;
}

/// Bank select values.
pub mod bank {
    /// The DSP register bank.
    pub const DSP: u8 = 0x00;
    /// The sensor register bank.
    pub const SENSOR: u8 = 0x01;
}

/// The chip id: PIDH must read 0x26, PIDL 0x41 or 0x42.
pub const PIDH: u8 = 0x26;
/// The PIDL values of the OV2640 revisions.
pub const PIDL: [u8; 2] = [0x41, 0x42];

/// Milliseconds to wait after the soft reset (ArduCAM waits 100 ms).
pub const RESET_MS: u32 = 100;

/// The pixel format the sensor sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Output {
    /// RGB565, high byte (`RRRRRGGG`) first: the core's `Rgb565(ByteOrder::Big)`.
    #[default]
    Rgb565,
    /// YUV 4:2:2 as `Y0 U Y1 V`: the core's `Yuyv`.
    Yuv422,
}

impl Output {
    /// The `IMAGE_MODE` value.
    pub const fn image_mode(self) -> u8 {
        match self {
            Output::Rgb565 => 0x08,
            Output::Yuv422 => 0x00,
        }
    }
}

/// QVGA output width.
pub const WIDTH: usize = 320;
/// QVGA output height.
pub const HEIGHT: usize = 240;

/// Sensor at UXGA: the window the DSP reads.
const SENSOR_W: u16 = 1600;
const SENSOR_H: u16 = 1200;
/// The DSP divides the window by 4 each way (CTRLI dividers 2 = /4) before zooming.
const DIV_LOG2: u8 = 2;

/// The register writes, in order, that set QVGA `output` after a soft reset:
/// `(register, value)` pairs, bank selects included.
pub fn qvga(output: Output) -> [(u8, u8); 25] {
    use reg::*;
    let (w, h) = (WIDTH as u16, HEIGHT as u16);
    let (win_w, win_h) = (SENSOR_W / 4, SENSOR_H / 4); // HSIZE / VSIZE count 4-pixel units
    [
        (BANK_SEL, bank::SENSOR),
        (CLKRC, 0x00),
        (COM7, 0x00), // UXGA
        (BANK_SEL, bank::DSP),
        (R_BYPASS, 0x01), // DSP bypassed while it is set up
        (RESET, 0x04),    // DVP in reset
        (HSIZE8, (SENSOR_W / 8) as u8),
        (VSIZE8, (SENSOR_H / 8) as u8),
        (SIZEL, 0x00), // 1600 and 1200 are multiples of 8
        (CTRL2, 0x3d),
        (CTRLI, 0x80 | (DIV_LOG2 << 3) | DIV_LOG2), // LP_DP, V_DIV, H_DIV
        (HSIZE, win_w as u8),
        (VSIZE, win_h as u8),
        (XOFFL, 0x00),
        (YOFFL, 0x00),
        // Bit 8 of HSIZE at bit 3, bit 8 of VSIZE at bit 7 (offsets 0).
        (
            VHYX,
            (((win_w >> 8) & 1) << 3) as u8 | (((win_h >> 8) & 1) << 7) as u8,
        ),
        (TEST, (((win_w >> 9) & 1) << 7) as u8),
        (ZMOW, (w / 4) as u8),
        (ZMOH, (h / 4) as u8),
        (
            ZMHH,
            (((w / 4) >> 8) & 3) as u8 | ((((h / 4) >> 8) & 1) << 2) as u8,
        ),
        (R_DVP_SP, 0x04), // PCLK / 4: the FIFO's write clock keeps up
        (IMAGE_MODE, output.image_mode()),
        (0xd7, 0x03), // as both libraries write with a format change
        (RESET, 0x00),
        (R_BYPASS, 0x00), // DSP on
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qvga_output_section_has_the_known_values() {
        // The values ArduCAM's OV2640_QVGA table ends with (its DSP output
        // section), computed here from the register definitions.
        let regs = qvga(Output::Rgb565);
        let get = |r: u8| regs.iter().rev().find(|(a, _)| *a == r).map(|(_, v)| *v);
        assert_eq!(get(reg::HSIZE8), Some(0xc8));
        assert_eq!(get(reg::VSIZE8), Some(0x96));
        assert_eq!(get(reg::HSIZE), Some(0x90));
        assert_eq!(get(reg::VSIZE), Some(0x2c));
        assert_eq!(get(reg::VHYX), Some(0x88));
        assert_eq!(get(reg::CTRLI), Some(0x92));
        assert_eq!(get(reg::ZMOW), Some(0x50));
        assert_eq!(get(reg::ZMOH), Some(0x3c));
        assert_eq!(get(reg::ZMHH), Some(0x00));
        assert_eq!(get(reg::IMAGE_MODE), Some(0x08));
        assert_eq!(get(reg::R_BYPASS), Some(0x00));
        assert_eq!(qvga(Output::Yuv422)[21], (reg::IMAGE_MODE, 0x00));
    }
}
