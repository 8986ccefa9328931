// Builds ONNX models from readable TypeScript over the onnx-proto schema (the only protobuf import in the project).
// Graphs are small objects of nodes, inputs, outputs and initializers; `encodeModel` turns one into bytes.

import onnxProto, { type onnx as Onnx } from 'onnx-proto';

const { onnx } = onnxProto;

/** ONNX element types used by ToxScope graphs. */
export type ElementType = 'float32' | 'int64' | 'int32' | 'bool';

const elementTypeCodes: Record<ElementType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  bool: onnx.TensorProto.DataType.BOOL,
};

/** A dimension is a fixed size or a named symbolic size (e.g. 'batch', 'pos'). */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  type: ElementType;
  dims: Dim[];
}

export interface NodeSpec {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attributes?: Record<string, AttributeValue>;
}

/**
 * An attribute: integers and integer lists as INT/INTS, strings as STRING, other numbers as FLOAT. A float whose
 * value happens to be whole (an epsilon of 1, a mask value of −10000) must be written `{ float: value }`, or it
 * would be encoded as an INT that the operator rejects or misreads.
 */
export type AttributeValue = number | number[] | string | { float: number };

/** A constant tensor: inline data, or float32 bytes that stay in a file beside the model (external data). */
export type InitializerSpec =
  | { name: string; type: 'float32'; dims: number[]; data: Float32Array }
  | { name: string; type: 'int64'; dims: number[]; data: BigInt64Array }
  | { name: string; type: 'float32'; dims: number[]; external: { location: string; offset: number; length: number } };

export interface GraphSpec {
  name: string;
  nodes: NodeSpec[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers?: InitializerSpec[];
  /** Opset of the default domain; ToxScope graphs use 20 (LayerNormalization, Gelu with approximate). */
  opset?: number;
}

function toValueInfo(info: ValueInfo): Onnx.IValueInfoProto {
  return {
    name: info.name,
    type: {
      tensorType: {
        elemType: elementTypeCodes[info.type],
        shape: { dim: info.dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })) },
      },
    },
  };
}

function toAttribute(name: string, value: AttributeValue): Onnx.IAttributeProto {
  const types = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: types.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'object' && !Array.isArray(value)) return { name, type: types.FLOAT, f: value.float };
  if (Array.isArray(value)) return { name, type: types.INTS, ints: value };
  if (Number.isInteger(value)) return { name, type: types.INT, i: value };
  return { name, type: types.FLOAT, f: value };
}

function toTensorProto(initializer: InitializerSpec): Onnx.ITensorProto {
  const base = { name: initializer.name, dims: initializer.dims, dataType: elementTypeCodes[initializer.type] };
  if ('external' in initializer) {
    const { location, offset, length } = initializer.external;
    return {
      ...base,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: location },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(length) },
      ],
    };
  }
  const data = initializer.data;
  return { ...base, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** Encodes a graph as ONNX model bytes (IR version 8). */
export function encodeModel(graph: GraphSpec): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'toxscope',
    opsetImport: [
      { domain: '', version: graph.opset ?? 20 },
      // onnxruntime's contrib ops, when a node uses them (e.g. com.microsoft.Attention).
      ...(graph.nodes.some((node) => node.domain === 'com.microsoft') ? [{ domain: 'com.microsoft', version: 1 }] : []),
    ],
    graph: {
      name: graph.name,
      node: graph.nodes.map((node, index) => ({
        name: node.name ?? `${node.opType}_${index}`,
        opType: node.opType,
        domain: node.domain ?? '',
        input: node.inputs,
        output: node.outputs,
        attribute: Object.entries(node.attributes ?? {}).map(([name, value]) => toAttribute(name, value)),
      })),
      input: graph.inputs.map(toValueInfo),
      output: graph.outputs.map(toValueInfo),
      initializer: (graph.initializers ?? []).map(toTensorProto),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** A deterministic, reviewable text form of a graph: one line per value and node, in graph order. */
export function dumpGraph(graph: GraphSpec): string {
  const value = (info: ValueInfo) => `${info.name}: ${info.type}[${info.dims.join(', ')}]`;
  const attributes = (node: NodeSpec) =>
    Object.entries(node.attributes ?? {})
      .map(([key, attr]) => `${key}=${JSON.stringify(attr)}`)
      .join(' ');
  const initializer = (spec: InitializerSpec) =>
    `  const  ${spec.name}: ${spec.type}[${spec.dims.join(', ')}]${
      'external' in spec
        ? ` @ ${spec.external.location}+${spec.external.offset}`
        : spec.data.length <= 8
          ? ` = [${Array.from(spec.data as ArrayLike<number | bigint>, String).join(', ')}]`
          : ''
    }`;
  return [
    `graph ${graph.name} (opset ${graph.opset ?? 20})`,
    ...graph.inputs.map((input) => `  input  ${value(input)}`),
    ...(graph.initializers ?? []).map(initializer),
    ...graph.nodes.map(
      (node) =>
        `  ${node.outputs.join(', ')} = ${node.domain ? `${node.domain}.` : ''}${node.opType}(${node.inputs.join(', ')})${
          node.attributes ? ` ${attributes(node)}` : ''
        }`,
    ),
    ...graph.outputs.map((output) => `  output ${value(output)}`),
  ].join('\n');
}
