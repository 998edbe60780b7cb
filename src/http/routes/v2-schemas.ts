/**
 * JSON Schemas of the Open Inference Protocol bodies, as its specification defines them: they document the V2 routes
 * in the OpenAPI document and serialize the metadata responses.
 */
const parameters = { type: 'object', additionalProperties: true, description: 'Free-form parameters.' } as const;

const tensorData = {
  type: 'array',
  description: 'Elements in row-major order, flat or nested.',
  items: {},
} as const;

const metadataTensor = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    datatype: { type: 'string', description: 'BOOL, UINT8…UINT64, INT8…INT64, FP16, FP32, FP64 or BYTES.' },
    shape: { type: 'array', items: { type: 'integer' }, description: '-1 marks a dimension of any size.' },
  },
  required: ['name', 'datatype', 'shape'],
} as const;

const name = { type: 'string', description: 'The qualified_name of a model.' } as const;

export const V2_SCHEMAS = {
  params: { type: 'object', properties: { name }, required: ['name'] },
  versionedParams: { type: 'object', properties: { name, version: { type: 'string' } }, required: ['name', 'version'] },
  error: { type: 'object', properties: { error: { type: 'string' } }, required: ['error'] },
  live: { type: 'object', properties: { live: { type: 'boolean' } }, required: ['live'] },
  ready: { type: 'object', properties: { ready: { type: 'boolean' } }, required: ['ready'] },
  modelReady: { type: 'object', properties: { name: { type: 'string' }, ready: { type: 'boolean' } }, required: ['name', 'ready'] },
  serverMetadata: {
    type: 'object',
    properties: { name: { type: 'string' }, version: { type: 'string' }, extensions: { type: 'array', items: { type: 'string' } } },
    required: ['name', 'version', 'extensions'],
  },
  modelMetadata: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      versions: { type: 'array', items: { type: 'string' } },
      platform: { type: 'string', description: '`onnx_onnxv1` for ONNX files, `longshore_records` for TypeScript models.' },
      inputs: { type: 'array', items: metadataTensor },
      outputs: { type: 'array', items: metadataTensor },
    },
    required: ['name', 'versions', 'platform', 'inputs', 'outputs'],
  },
  inferRequest: {
    type: 'object',
    description:
      'JSON; or, with the binary tensor extension, this JSON as a header of Inference-Header-Content-Length bytes ' +
      'followed by the raw bytes of the inputs that carry parameters.binary_data_size.',
    properties: {
      id: { type: 'string' },
      parameters: {
        type: 'object',
        properties: { binary_data_output: { type: 'boolean', description: 'Return every output as binary data.' } },
        additionalProperties: true,
      },
      inputs: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            shape: { type: 'array', items: { type: 'integer', minimum: 0 } },
            datatype: { type: 'string' },
            parameters: {
              type: 'object',
              properties: { binary_data_size: { type: 'integer', description: 'Bytes of this input in the binary tail.' } },
              additionalProperties: true,
            },
            data: tensorData,
          },
          required: ['name', 'shape', 'datatype'],
        },
      },
      outputs: {
        type: 'array',
        description: 'The outputs to return, in this order (all when absent).',
        items: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            parameters: { type: 'object', properties: { binary_data: { type: 'boolean' } }, additionalProperties: true },
          },
          required: ['name'],
        },
      },
    },
    required: ['inputs'],
  },
  binaryBody: {
    type: 'string',
    format: 'binary',
    description:
      'The binary tensor data extension: a JSON header (an inference request or response whose binary tensors carry ' +
      'parameters.binary_data_size instead of data) of Inference-Header-Content-Length bytes, then those tensors\' raw ' +
      'little-endian bytes in order; BYTES elements as a 4-byte little-endian length and the bytes.',
  },
  inferResponse: {
    type: 'object',
    properties: {
      model_name: { type: 'string' },
      model_version: { type: 'string' },
      id: { type: 'string' },
      parameters,
      outputs: {
        type: 'array',
        items: {
          type: 'object',
          properties: { name: { type: 'string' }, shape: { type: 'array', items: { type: 'integer' } }, datatype: { type: 'string' }, parameters, data: tensorData },
          required: ['name', 'shape', 'datatype'],
        },
      },
    },
    required: ['model_name', 'outputs'],
  },
} as const;
