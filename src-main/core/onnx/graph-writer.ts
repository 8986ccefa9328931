// A small writer for building graphs op by op: each call adds a node and returns its output's name, so model code
// reads like the forward pass it encodes (`const h = g.op('MatMul', [x, w])`).

import type { Dim, ElementType, GraphSpec, InitializerSpec, NodeSpec, ValueInfo } from './graph-builder.ts';

export class GraphWriter {
  readonly nodes: NodeSpec[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  readonly initializers: InitializerSpec[] = [];
  #counter = 0;
  readonly #constants = new Map<string, string>();

  input(name: string, type: ElementType, dims: Dim[]): string {
    this.inputs.push({ name, type, dims });
    return name;
  }

  /** Marks `value` as a graph output under `name` (an Identity node renames it when needed). */
  output(value: string, name: string, type: ElementType, dims: Dim[]): void {
    if (value !== name) this.nodes.push({ opType: 'Identity', inputs: [value], outputs: [name] });
    this.outputs.push({ name, type, dims });
  }

  initializer(spec: InitializerSpec): string {
    this.initializers.push(spec);
    return spec.name;
  }

  /**
   * A second initializer named `name` over the same data as the initializer `of` (same external bytes: nothing is
   * copied). Tied unembeddings at every position use it: onnxruntime then repacks the output projection's own
   * initializer and maps the embedding lookup's, so a session opened from saved prepacked weights reads only the
   * looked-up rows of the table instead of all of it (measured in docs/benchmarks.md). Where nothing repacks the
   * unembedding, a graph should read the one initializer twice instead: two mappings of the same bytes count their
   * pages twice in RSS.
   */
  alias(name: string, of: string): string {
    const spec = this.initializers.find((initializer) => initializer.name === of);
    if (!spec) throw new RangeError(`graph has no initializer ${of} to alias as ${name}`);
    return this.initializer({ ...spec, name });
  }

  /** A shared int64 constant (shapes, axes, indices), created once per distinct value. */
  ints(values: number[], dims: number[] = [values.length]): string {
    const key = `${dims.join('x')}:${values.join(',')}`;
    let name = this.#constants.get(key);
    if (!name) {
      name = `const_i64_${this.#constants.size}`;
      this.initializers.push({ name, type: 'int64', dims, data: BigInt64Array.from(values, (value) => BigInt(value)) });
      this.#constants.set(key, name);
    }
    return name;
  }

  /** A shared float32 scalar constant. */
  float(value: number): string {
    const key = `f32:${value}`;
    let name = this.#constants.get(key);
    if (!name) {
      name = `const_f32_${this.#constants.size}`;
      this.initializers.push({ name, type: 'float32', dims: [], data: Float32Array.of(value) });
      this.#constants.set(key, name);
    }
    return name;
  }

  /** Adds a node with one output and returns that output's name. */
  op(opType: string, inputs: string[], attributes?: NodeSpec['attributes'], outputName?: string): string {
    const output = outputName ?? `${opType.toLowerCase()}_${this.#counter++}`;
    this.nodes.push({ opType, inputs, outputs: [output], ...(attributes ? { attributes } : {}) });
    return output;
  }

  /** Adds a node with several outputs (`domain` for contrib ops such as com.microsoft.Attention). */
  opMulti(
    opType: string,
    inputs: string[],
    outputCount: number,
    attributes?: NodeSpec['attributes'],
    domain?: string,
  ): string[] {
    const outputs = Array.from({ length: outputCount }, () => `${opType.toLowerCase()}_${this.#counter++}`);
    this.nodes.push({ opType, inputs, outputs, ...(attributes ? { attributes } : {}), ...(domain ? { domain } : {}) });
    return outputs;
  }

  graph(name: string): GraphSpec {
    return {
      name,
      nodes: this.nodes,
      inputs: this.inputs,
      outputs: this.outputs,
      initializers: this.initializers,
      opset: 20,
    };
  }
}
