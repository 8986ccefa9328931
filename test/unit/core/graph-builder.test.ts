// Unit tests of the ONNX graph builder: encoding round-trips and the reviewable text dump.

import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { dumpGraph, encodeModel, type GraphSpec } from '../../../src-main/core/onnx/graph-builder.ts';

const graph: GraphSpec = {
  name: 'gelu_mlp',
  nodes: [
    { opType: 'MatMul', inputs: ['x', 'w'], outputs: ['h'] },
    { opType: 'Gelu', inputs: ['h'], outputs: ['y'], attributes: { approximate: 'tanh' } },
  ],
  inputs: [
    { name: 'x', type: 'float32', dims: ['batch', 4] },
    { name: 'w', type: 'float32', dims: [4, 8] },
  ],
  outputs: [{ name: 'y', type: 'float32', dims: ['batch', 8] }],
};

describe('graph builder', () => {
  it('encodes nodes, symbolic dims and attributes that decode back unchanged', () => {
    const decoded = onnxProto.onnx.ModelProto.decode(encodeModel(graph));
    expect(Number(decoded.opsetImport[0]?.version)).toBe(20);
    const nodes = decoded.graph?.node ?? [];
    expect(nodes.map((node) => node.opType)).toEqual(['MatMul', 'Gelu']);
    expect(decoded.graph?.input?.[0]?.type?.tensorType?.shape?.dim?.[0]?.dimParam).toBe('batch');
    const attribute = nodes[1]?.attribute?.[0];
    expect(attribute?.name).toBe('approximate');
    expect(new TextDecoder().decode(attribute?.s ?? new Uint8Array())).toBe('tanh');
  });

  it('writes a whole-valued float attribute as FLOAT when asked, and whole numbers otherwise as INT', () => {
    const withFloats: GraphSpec = {
      ...graph,
      nodes: [
        {
          opType: 'LayerNormalization',
          inputs: ['x', 'w'],
          outputs: ['y'],
          attributes: { epsilon: { float: 1 }, axis: -1 },
        },
      ],
    };
    const [epsilon, axis] = onnxProto.onnx.ModelProto.decode(encodeModel(withFloats)).graph?.node?.[0]?.attribute ?? [];
    const types = onnxProto.onnx.AttributeProto.AttributeType;
    expect([epsilon?.type, epsilon?.f]).toEqual([types.FLOAT, 1]);
    expect([axis?.type, Number(axis?.i)]).toEqual([types.INT, -1]);
  });

  it('dumps the graph as stable text, one line per value and node', () => {
    expect(dumpGraph(graph)).toBe(
      [
        'graph gelu_mlp (opset 20)',
        '  input  x: float32[batch, 4]',
        '  input  w: float32[4, 8]',
        '  h = MatMul(x, w)',
        '  y = Gelu(h) approximate="tanh"',
        '  output y: float32[batch, 8]',
      ].join('\n'),
    );
  });
});
