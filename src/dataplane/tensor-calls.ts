/**
 * The Open Inference Protocol's tensors over a ready model: checked against the tensor view callers see, then run as
 * they are (the model's own tensor call, batched with other callers' rows) or, for a record model, turned into records,
 * predicted as one batch with the usual validation both ways, and turned back into columns. explain over tensors:
 * one record of the model's own input schema per row, the explanations as JSON text in a BYTES output `explanation`.
 */
import type { CallContext } from '../call-context.js';
import { SchemaValidationError } from '../errors.js';
import type { CallPath } from '../model/call-path.js';
import { RECORD_PLATFORM } from '../model/model-schemas.js';
import { columnsToRecords, recordsToColumns, type ColumnSpec } from '../tensors/record-columns.js';
import { checkInputs, checkOutputs } from '../tensors/signature-check.js';
import type { Tensor } from '../tensors/tensor.js';

/** Runs request tensors (`requested`: the outputs asked for, in order; all when absent); counted as an `infer` call. */
export function inferTensors(calls: CallPath, inputs: readonly Tensor[], requested: readonly string[] | undefined, context: CallContext): Promise<Tensor[]> {
  return calls.observe('infer', inputs, context, async () => {
    const signature = calls.signature;
    if (!signature) {
      throw new SchemaValidationError(`model '${calls.name}' has no tensor view: its input and output schemas must be objects with properties`);
    }
    const byName = checkInputs(calls.name, signature, inputs);
    const outputs = checkOutputs(calls.name, signature, requested);
    if (calls.runsTensors) return calls.runTensors(signature, byName, outputs, inputs[0]?.shape[0] ?? 1, context);
    const records = await calls.predictRecords(columnsToRecords(calls.inputColumns, byName), context);
    const columns = outputs.map((name) => calls.outputColumns.find((column) => column.name === name) as ColumnSpec);
    return recordsToColumns(columns, records as Record<string, unknown>[]);
  });
}

/** explain for tensors (the caller has checked the model explains): one JSON explanation per row. */
export async function explainTensors(calls: CallPath, inputs: readonly Tensor[], context: CallContext): Promise<Tensor[]> {
  const columns = [...calls.modelInputColumns];
  const byName = checkInputs(calls.name, { platform: RECORD_PLATFORM, inputs: columns, outputs: [] }, inputs);
  const records = columnsToRecords(columns, byName);
  const explanations = await Promise.all(records.map((record) => calls.explain(record, context)));
  return [{ name: 'explanation', datatype: 'BYTES', shape: [records.length], data: explanations.map((explanation) => JSON.stringify(explanation ?? null)) }];
}
