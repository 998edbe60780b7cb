/**
 * Request bodies for the Open Inference Protocol cells: the same rows of mlp_heavy as V2 JSON or as the binary tensor
 * extension (a JSON header followed by the raw FP32 bytes), with the headers each needs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './environment.ts';

/** mlp_heavy's reference inputs, test/fixtures/onnx/mlp_heavy.json. */
export const MLP_HEAVY_FIXTURE = 'test/fixtures/onnx/mlp_heavy.json';

/** The first row of mlp_heavy's reference inputs (512 floats): what every mlp_heavy cell sends. */
export function mlpHeavyRow(): number[] {
  const fixture = JSON.parse(readFileSync(join(ROOT, MLP_HEAVY_FIXTURE), 'utf8')) as { inputs: { x: { data: number[] } } };
  return fixture.inputs.x.data.slice(0, 512);
}

export interface V2Body {
  readonly body: string | Buffer;
  readonly headers: Record<string, string>;
}

/** `batch` copies of `row` (512 floats) as one FP32 [batch, 512] input named `x`. */
export function v2Body(row: readonly number[], batch: number, binary: boolean): V2Body {
  const data = new Float32Array(row.length * batch);
  for (let i = 0; i < batch; i++) data.set(row, i * row.length);
  const shape = [batch, row.length];
  if (!binary) {
    const json = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape, data: Array.from(data) }] });
    return { body: json, headers: { 'content-type': 'application/json' } };
  }
  const header = Buffer.from(
    JSON.stringify({
      inputs: [{ name: 'x', datatype: 'FP32', shape, parameters: { binary_data_size: data.byteLength } }],
      parameters: { binary_data_output: true },
    }),
  );
  return {
    body: Buffer.concat([header, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
  };
}
