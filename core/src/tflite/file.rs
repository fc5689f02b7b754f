//! File: typed, bounds-checked accessors over a `.tflite` flatbuffer — the model's
//! tables, its graph's tensors (type, shape, quantization, constant data) and
//! operator codes — turning what is malformed or unsupported into typed errors.

use super::TensorRef;
use super::flatbuffer::{self, Table, Vector, bytes_at, malformed};
use super::schema::{field, ty, type_name};
use crate::{Error, Param, Quant, Result, Shape, Values};

/// The tables of a model file that the import walks.
pub(super) struct File<'a> {
    bytes: &'a [u8],
    pub(super) root: Table<'a>,
    opcodes: Vector<'a>,
    buffers: Vector<'a>,
    pub(super) tensors: Vector<'a>,
    pub(super) inputs: Vector<'a>,
    pub(super) outputs: Vector<'a>,
    pub(super) operators: Vector<'a>,
}

pub(super) fn required<T>(v: Option<T>, at: usize, what: &'static str) -> Result<T> {
    v.ok_or(malformed(at, what))
}

/// A tensor of the graph.
#[derive(Clone, Copy)]
pub(super) struct Tensor<'a> {
    pub(super) index: usize,
    pub(super) table: Table<'a>,
    pub(super) ty: i8,
}

impl<'a> Tensor<'a> {
    pub(super) fn reference(&self) -> Result<TensorRef<'a>> {
        Ok(TensorRef {
            index: self.index,
            name: self.name()?,
        })
    }

    fn name(&self) -> Result<&'a str> {
        Ok(self
            .table
            .string(field::TENSOR_NAME, "Tensor.name")?
            .unwrap_or(""))
    }

    fn unsupported(&self, reason: &'static str) -> Error {
        Error::UnsupportedTensor {
            tensor: self.index,
            ty: type_name(self.ty),
            reason,
        }
    }

    pub(super) fn expect_type(&self, ty: i8, reason: &'static str) -> Result<()> {
        if self.ty == ty {
            Ok(())
        } else {
            Err(self.unsupported(reason))
        }
    }

    /// The shape vector (absent means a scalar: empty).
    fn dims(&self) -> Result<Vector<'a>> {
        match self.table.vector(field::TENSOR_SHAPE, 4, "Tensor.shape")? {
            Some(v) => Ok(v),
            None => Err(self.unsupported("has no shape")),
        }
    }

    /// The dimensions of a rank-4 tensor, each at least 1.
    pub(super) fn dims4(&self) -> Result<[usize; 4]> {
        let v = self.dims()?;
        if v.len() != 4 {
            return Err(self.unsupported("must have rank 4"));
        }
        let mut d = [0usize; 4];
        for (i, x) in d.iter_mut().enumerate() {
            let n = v.i32(i).unwrap_or(0);
            if n < 1 {
                return Err(self.unsupported("has a dimension below 1 (dynamic shape?)"));
            }
            *x = n as usize;
        }
        Ok(d)
    }

    /// An int8 activation with per-tensor quantization: `[1, H, W, C]`, or of a
    /// lower rank read as its trailing dimensions (`[1, N]` and `[N]` are `1x1xN`,
    /// `[1, W, C]` is `1xWxC`).
    pub(super) fn activation(&self) -> Result<(Shape, Quant)> {
        self.expect_type(ty::INT8, "activations must be int8")?;
        let v = self.dims()?;
        let rank = v.len();
        if !(1..=4).contains(&rank) {
            return Err(self.unsupported("must have rank 1 to 4"));
        }
        let mut d = [1usize; 4];
        for i in 0..rank {
            let n = v.i32(i).unwrap_or(0);
            if n < 1 {
                return Err(self.unsupported("has a dimension below 1 (dynamic shape?)"));
            }
            let slot = d
                .get_mut((4 + i).wrapping_sub(rank))
                .ok_or(self.unsupported("has more than 4 dimensions"))?;
            *slot = n as usize;
        }
        // Rank 2 and up lead with the batch: it must be 1.
        if rank >= 2 && v.i32(0) != Some(1) {
            return Err(self.unsupported("batch size must be 1"));
        }
        Ok((Shape::new(d[1], d[2], d[3]), self.quant()?))
    }

    /// The dimensions of a constant of rank 2 (`[rows, columns]`, e.g. a dense
    /// layer's filter).
    pub(super) fn dims2(&self) -> Result<[usize; 2]> {
        let v = self.dims()?;
        match (v.len(), v.i32(0), v.i32(1)) {
            (2, Some(a), Some(b)) if a >= 1 && b >= 1 => Ok([a as usize, b as usize]),
            _ => Err(self.unsupported("must have rank 2 and no dimension below 1")),
        }
    }

    fn quant_table(&self) -> Result<Table<'a>> {
        let q = self
            .table
            .table(field::TENSOR_QUANTIZATION, "Tensor.quantization")?
            .ok_or(self.unsupported("is not quantized"))?;
        if q.u8(
            field::QUANT_DETAILS_TYPE,
            0,
            "QuantizationParameters.details",
        )? != 0
        {
            return Err(self.unsupported("has custom quantization"));
        }
        Ok(q)
    }

    /// Scales (f32, little-endian) and zero points (i64, little-endian).
    fn scales_and_zero_points(&self) -> Result<(Vector<'a>, Vector<'a>)> {
        let q = self.quant_table()?;
        let scale = q.vector(field::QUANT_SCALE, 4, "QuantizationParameters.scale")?;
        let zp = q.vector(
            field::QUANT_ZERO_POINT,
            8,
            "QuantizationParameters.zero_point",
        )?;
        match (scale, zp) {
            (Some(s), Some(z)) if s.len() > 0 && s.len() == z.len() => Ok((s, z)),
            _ => Err(self.unsupported("needs as many scales as zero points, at least one")),
        }
    }

    /// Per-tensor quantization.
    pub(super) fn quant(&self) -> Result<Quant> {
        let (s, z) = self.scales_and_zero_points()?;
        if s.len() != 1 {
            return Err(self.unsupported("needs per-tensor quantization"));
        }
        let scale = Values::<f32>::Le(s.bytes()).get(0).unwrap_or(f32::NAN);
        let zp = Values::<i64>::Le(z.bytes()).get(0).unwrap_or(i64::MAX);
        let q = Quant::new(scale, i32::try_from(zp).unwrap_or(i32::MAX));
        if q.validate(Param::InputQuant).is_err() {
            return Err(self.unsupported(
                "quantization needs a finite scale > 0 and a zero point in -128..=127",
            ));
        }
        Ok(q)
    }

    /// Symmetric weight scales along `dim` (one scale, or one per `channels`).
    pub(super) fn weight_scales(&self, dim: i32, channels: usize) -> Result<Values<'a, f32>> {
        let (s, z) = self.scales_and_zero_points()?;
        if s.len() != 1 {
            if s.len() != channels {
                return Err(self.unsupported("needs one scale or one per output channel"));
            }
            let q = self.quant_table()?;
            let d = q.i32(field::QUANT_DIMENSION, 0, "quantized_dimension")?;
            if d != dim {
                return Err(
                    self.unsupported("per-channel quantization is along the wrong dimension")
                );
            }
        }
        let zps = Values::<i64>::Le(z.bytes());
        if (0..zps.len()).any(|i| zps.get(i) != Some(0)) {
            return Err(self.unsupported("weights must be symmetric (zero point 0)"));
        }
        Ok(Values::Le(s.bytes()))
    }
}

impl<'a> File<'a> {
    pub(super) fn open(bytes: &'a [u8]) -> Result<Self> {
        let root = flatbuffer::root(bytes, b"TFL3")?;
        let at = root.pos();
        let version = root.u32(field::MODEL_VERSION, 0, "Model.version")?;
        if version != 3 {
            return Err(malformed(at, "schema version is not 3"));
        }
        let opcodes = root.vector(field::MODEL_OPERATOR_CODES, 4, "Model.operator_codes")?;
        let opcodes = required(opcodes, at, "Model.operator_codes missing")?;
        let subgraphs = root.vector(field::MODEL_SUBGRAPHS, 4, "Model.subgraphs")?;
        let subgraphs = required(subgraphs, at, "Model.subgraphs missing")?;
        let buffers = root.vector(field::MODEL_BUFFERS, 4, "Model.buffers")?;
        let buffers = required(buffers, at, "Model.buffers missing")?;
        if subgraphs.len() == 0 {
            return Err(malformed(subgraphs.pos(), "Model.subgraphs is empty"));
        }
        let graph = subgraphs.table(0)?;
        let at = graph.pos();
        let vec =
            |id, what| -> Result<Vector<'a>> { required(graph.vector(id, 4, what)?, at, what) };
        Ok(Self {
            bytes,
            root,
            opcodes,
            buffers,
            tensors: vec(field::SUBGRAPH_TENSORS, "SubGraph.tensors")?,
            inputs: vec(field::SUBGRAPH_INPUTS, "SubGraph.inputs")?,
            outputs: vec(field::SUBGRAPH_OUTPUTS, "SubGraph.outputs")?,
            operators: vec(field::SUBGRAPH_OPERATORS, "SubGraph.operators")?,
        })
    }

    /// The builtin code of an operator: the larger of `deprecated_builtin_code` (an
    /// int8, all that old files have) and `builtin_code` (int32, added for codes
    /// beyond 127).
    pub(super) fn opcode(&self, op: &Table<'a>) -> Result<i32> {
        let i = op.u32(field::OPERATOR_OPCODE_INDEX, 0, "Operator.opcode_index")? as usize;
        if i >= self.opcodes.len() {
            return Err(malformed(op.pos(), "Operator.opcode_index out of range"));
        }
        let oc = self.opcodes.table(i)?;
        let old = oc.i8(
            field::OPCODE_DEPRECATED_BUILTIN_CODE,
            0,
            "OperatorCode.deprecated_builtin_code",
        )?;
        let new = oc.i32(field::OPCODE_BUILTIN_CODE, 0, "OperatorCode.builtin_code")?;
        Ok(new.max(old as i32))
    }

    pub(super) fn tensor(&self, index: i32, at: usize) -> Result<Tensor<'a>> {
        let index = usize::try_from(index)
            .ok()
            .filter(|&i| i < self.tensors.len())
            .ok_or(malformed(at, "tensor index out of range"))?;
        let table = self.tensors.table(index)?;
        let ty = table.i8(field::TENSOR_TYPE, 0, "Tensor.type")?;
        Ok(Tensor { index, table, ty })
    }

    /// The constant data of a tensor: its buffer's `data`, or the bytes at
    /// `offset..offset + size` of the file (large models store buffers after the
    /// flatbuffer). Empty if the tensor has no data.
    fn data(&self, t: &Tensor<'a>) -> Result<&'a [u8]> {
        if t.table
            .table(field::TENSOR_SPARSITY, "Tensor.sparsity")?
            .is_some()
        {
            return Err(t.unsupported("sparse tensors are not supported"));
        }
        let b = t.table.u32(field::TENSOR_BUFFER, 0, "Tensor.buffer")? as usize;
        if b >= self.buffers.len() {
            return Err(malformed(t.table.pos(), "Tensor.buffer out of range"));
        }
        let buf = self.buffers.table(b)?;
        let offset = buf.u64(field::BUFFER_OFFSET, 0, "Buffer.offset")?;
        if offset > 1 {
            let size = buf.u64(field::BUFFER_SIZE, 0, "Buffer.size")?;
            let (Ok(offset), Ok(size)) = (usize::try_from(offset), usize::try_from(size)) else {
                return Err(malformed(buf.pos(), "Buffer.offset or size out of range"));
            };
            return bytes_at(self.bytes, offset, size, "Buffer.offset/size out of range");
        }
        Ok(buf
            .vector(field::BUFFER_DATA, 1, "Buffer.data")?
            .map_or(&[][..], |v| v.bytes()))
    }

    /// Constant data of exactly `len` bytes.
    pub(super) fn constant(
        &self,
        t: &Tensor<'a>,
        len: usize,
        empty: &'static str,
    ) -> Result<&'a [u8]> {
        let d = self.data(t)?;
        if d.is_empty() {
            return Err(t.unsupported(empty));
        }
        if d.len() != len {
            return Err(malformed(
                t.table.pos(),
                "tensor data size does not match its shape",
            ));
        }
        Ok(d)
    }
}
