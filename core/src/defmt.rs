//! Defmt: `defmt::Format` for the core's types, for firmware logs (only with the
//! `defmt` feature). Plain enums derive it where they are defined.

use crate::stream::PushError;
use crate::{Error, Param, Shape};

impl ::defmt::Format for Param {
    fn format(&self, f: ::defmt::Formatter) {
        ::defmt::write!(f, "{=str}", self.name())
    }
}

impl ::defmt::Format for Error {
    fn format(&self, f: ::defmt::Formatter) {
        match *self {
            Error::Invalid {
                layer,
                param,
                reason,
            } => {
                ::defmt::write!(f, "layer {}: {}: {=str}", layer, param, reason)
            }
            Error::Length {
                layer,
                param,
                expected,
                found,
            } => ::defmt::write!(
                f,
                "layer {}: {}: expected {} elements, found {}",
                layer,
                param,
                expected,
                found
            ),
            Error::Shape {
                layer,
                expected,
                found,
            } => {
                ::defmt::write!(
                    f,
                    "layer {}: input {} != expected {}",
                    layer,
                    found,
                    expected
                )
            }
            Error::EmptyOutput { layer, input } => {
                ::defmt::write!(f, "layer {}: window larger than input {}", layer, input)
            }
            Error::AccumulatorOverflow { layer, channel } => {
                ::defmt::write!(
                    f,
                    "layer {}: channel {} accumulator overflow",
                    layer,
                    channel
                )
            }
            Error::ArenaTooSmall { needed, found } => {
                ::defmt::write!(f, "arena too small: {} needed, {} given", needed, found)
            }
            Error::TooManyRows { height } => {
                ::defmt::write!(f, "too many rows: the frame has {}", height)
            }
            Error::IncompleteFrame { received, height } => {
                ::defmt::write!(f, "frame incomplete: {} of {} rows", received, height)
            }
            Error::FrameAborted => ::defmt::write!(f, "frame aborted by its sink"),
            Error::Malformed { offset, what } => {
                ::defmt::write!(f, "malformed model at byte {}: {=str}", offset, what)
            }
            Error::UnsupportedOp { operator, op } => {
                ::defmt::write!(f, "operator {}: {=str} is not supported", operator, op)
            }
            Error::UnsupportedTensor { tensor, ty, reason } => {
                ::defmt::write!(f, "tensor {} ({=str}): {=str}", tensor, ty, reason)
            }
            Error::Graph { operator, reason } => {
                ::defmt::write!(f, "operator {}: {=str}", operator, reason)
            }
        }
    }
}

impl ::defmt::Format for Shape {
    fn format(&self, f: ::defmt::Formatter) {
        ::defmt::write!(f, "{}x{}x{}", self.height, self.width, self.channels)
    }
}

impl<E: ::defmt::Format> ::defmt::Format for PushError<E> {
    fn format(&self, f: ::defmt::Formatter) {
        match self {
            PushError::Stream(e) => ::defmt::write!(f, "{}", e),
            PushError::Sink(e) => ::defmt::write!(f, "sink failed: {}", e),
        }
    }
}
