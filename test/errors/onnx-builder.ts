/**
 * A minimal ONNX writer for the error-path tests, a sibling of test/fixtures/onnx/build-model.ts that takes raw
 * TensorProto.DataType codes (so it can declare types longshore does not serve, such as bfloat16) and any op_type (so
 * it can name an operator onnxruntime does not have). Only the fields onnxruntime reads are written.
 */

/** TensorProto.DataType codes this file's tests use beyond build-model.ts's table. */
export const ELEM = { float32: 1, int64: 7, complex64: 14, bfloat16: 16 } as const;

export interface Decl {
  name: string;
  /** A TensorProto.DataType code. */
  elem: number;
  /** Numbers are fixed dims, strings are symbolic (dynamic) dims; [] is a scalar. */
  shape: (number | string)[];
}

export interface NodeDecl {
  op: string;
  inputs: string[];
  outputs: string[];
  /** Integer attributes, e.g. `{ output_dtype: 22 }`. */
  ints?: Record<string, number>;
}

/** A float32 constant of the graph (an initializer), e.g. a quantization scale. */
export interface FloatInit {
  name: string;
  dims: number[];
  values: number[];
}

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v > 127) {
    out.push((v & 127) | 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

const tag = (field: number, wire: number) => varint(field * 8 + wire);
const int = (field: number, value: number) => [...tag(field, 0), ...varint(value)];
const bytes = (field: number, content: number[]) => [...tag(field, 2), ...varint(content.length), ...content];
const str = (field: number, text: string) => bytes(field, [...Buffer.from(text, 'utf8')]);

function valueInfo(decl: Decl): number[] {
  const dims = decl.shape.flatMap((dim) => bytes(1, typeof dim === 'number' ? int(1, dim) : str(2, dim)));
  // TypeProto.Tensor: elem_type (1), shape (2). A scalar still writes an (empty) shape, so its rank is known to be 0.
  const tensorType = [...int(1, decl.elem), ...bytes(2, dims)];
  return [...str(1, decl.name), ...bytes(2, bytes(1, tensorType))];
}

/** A model of `nodes` over `inputs` and `outputs`, at default-domain opset `opset`. */
export function graphModel(inputs: Decl[], outputs: Decl[], nodes: NodeDecl[], opset = 17, initializers: FloatInit[] = []): Uint8Array {
  const nodeBytes = nodes.flatMap((node, i) =>
    bytes(1, [
      ...node.inputs.flatMap((name) => str(1, name)),
      ...node.outputs.flatMap((name) => str(2, name)),
      ...str(3, `node_${i}`),
      ...str(4, node.op),
      // AttributeProto: name (1), i (3), type (20) = INT (2).
      ...Object.entries(node.ints ?? {}).flatMap(([name, value]) => bytes(5, [...str(1, name), ...int(3, value), ...int(20, 2)])),
    ]),
  );
  const graph = [
    ...nodeBytes,
    ...str(2, 'errors'),
    ...initializers.flatMap((init) => bytes(5, floatTensor(init))),
    ...inputs.flatMap((input) => bytes(11, valueInfo(input))),
    ...outputs.flatMap((output) => bytes(12, valueInfo(output))),
  ];
  const model = [...int(1, 8), ...str(2, 'longshore-error-tests'), ...bytes(7, graph), ...bytes(8, [...str(1, ''), ...int(2, opset)])];
  return Uint8Array.from(model);
}

/** TensorProto: dims (1), data_type (2), float_data (4, packed), name (8). */
function floatTensor(init: FloatInit): number[] {
  const data = Buffer.alloc(4 * init.values.length);
  init.values.forEach((value, i) => data.writeFloatLE(value, 4 * i));
  return [...init.dims.flatMap((dim) => int(1, dim)), ...int(2, 1), ...bytes(4, [...data]), ...str(8, init.name)];
}

/** Output `i` is an Identity copy of input `i`. */
export function identity(inputs: Decl[], outputs: Decl[]): Uint8Array {
  return graphModel(
    inputs,
    outputs,
    inputs.map((input, i) => ({ op: 'Identity', inputs: [input.name], outputs: [outputs[i]?.name ?? `${input.name}_out`] })),
  );
}
