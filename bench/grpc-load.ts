/**
 * gRPC load cells: N channels (one HTTP/2 connection each), each sending the same ModelInfer request back to back — a
 * discarded warm-up, then the measured run — the counterpart of autocannon's cells in load.ts. The request is
 * serialized once and the answers are not decoded (identity serializers), so the client costs about what autocannon's
 * fixed body does; checkGrpc() decodes one answer to check it.
 */
import type { Client } from '@grpc/grpc-js';
import type { CellRound } from './load.ts';
import { percentile, Samples } from './stats.ts';

const PROTO = new URL('../proto/open_inference_grpc.proto', import.meta.url).pathname;
const METHOD = '/inference.GRPCInferenceService/ModelInfer';

export interface GrpcCellOptions {
  /** `host:port` of the server's gRPC listener. */
  readonly address: string;
  /** A serialized ModelInferRequest (see encodeInferRequest). */
  readonly request: Buffer;
  readonly connections: number;
  readonly warmupS: number;
  readonly durationS: number;
}

/** The proto's ModelInfer serializers (request encode, response decode), loaded once. */
export async function inferCodec(): Promise<{ encode: (request: object) => Buffer; decode: (bytes: Buffer) => Record<string, unknown> }> {
  const loader = await import('@grpc/proto-loader');
  const definition = await loader.load(PROTO, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const method = (definition['inference.GRPCInferenceService'] as unknown as Record<string, { requestSerialize: (value: object) => Buffer; responseDeserialize: (bytes: Buffer) => Record<string, unknown> }>).ModelInfer;
  if (!method) throw new Error('the proto has no GRPCInferenceService.ModelInfer');
  return { encode: (request) => method.requestSerialize(request), decode: (bytes) => method.responseDeserialize(bytes) };
}

async function channels(address: string, count: number): Promise<Client[]> {
  const grpc = await import('@grpc/grpc-js');
  const limit = 256 * 1024 * 1024;
  return Array.from(
    { length: count },
    () =>
      new grpc.Client(address, grpc.credentials.createInsecure(), {
        // A channel of its own per connection: without it grpc-js shares one subchannel (one TCP connection) between clients.
        'grpc.use_local_subchannel_pool': 1,
        'grpc.max_receive_message_length': limit,
        'grpc.max_send_message_length': limit,
      }),
  );
}

function call(client: Client, request: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      METHOD,
      (value: Buffer) => value,
      (value: Buffer) => value,
      request,
      (error, response) => (error ? reject(error) : resolve(response as Buffer)),
    );
  });
}

/** One answer of the server to `request`, decoded (to check it before measuring). */
export async function grpcAnswer(address: string, request: Buffer): Promise<Record<string, unknown>> {
  const [client] = await channels(address, 1);
  try {
    return (await inferCodec()).decode(await call(client as Client, request));
  } finally {
    client?.close();
  }
}

async function run(clients: readonly Client[], request: Buffer, durationS: number, samples?: Samples): Promise<{ ok: number; errors: number; seconds: number }> {
  let ok = 0;
  let errors = 0;
  const started = performance.now();
  const end = started + durationS * 1000;
  await Promise.all(
    clients.map(async (client) => {
      while (performance.now() < end) {
        const at = performance.now();
        try {
          await call(client, request);
          ok++;
          samples?.push(performance.now() - at);
        } catch {
          errors++;
        }
      }
    }),
  );
  return { ok, errors, seconds: (performance.now() - started) / 1000 };
}

/** Runs one round of a gRPC cell; the latencies (ms) of the successful calls are added to `latencies`. */
export async function measureGrpcRound(options: GrpcCellOptions, latencies: Samples): Promise<CellRound> {
  const clients = await channels(options.address, options.connections);
  try {
    const warmup = await run(clients, options.request, options.warmupS);
    const samples = new Samples();
    const result = await run(clients, options.request, options.durationS, samples);
    for (const value of samples.values()) latencies.push(value);
    return {
      requestsPerSecond: result.ok / result.seconds,
      totalRequests: result.ok + result.errors,
      durationS: result.seconds,
      p50Ms: percentile(samples.values(), 0.5),
      p99Ms: percentile(samples.values(), 0.99),
      autocannonP50Ms: Number.NaN,
      autocannonP99Ms: Number.NaN,
      non2xx: result.errors,
      errors: 0,
      timeouts: 0,
      statusCodes: { OK: result.ok, error: result.errors },
      warmup: { non2xx: warmup.errors, errors: 0 },
    };
  } finally {
    for (const client of clients) client.close();
  }
}

/** The ModelInferRequest of mlp_heavy with `batch` copies of `row`: typed fp32_contents, or raw_input_contents. */
export function grpcInferBody(row: readonly number[], batch: number, raw: boolean): object {
  const data = new Float32Array(row.length * batch);
  for (let i = 0; i < batch; i++) data.set(row, i * row.length);
  const input = { name: 'x', datatype: 'FP32', shape: [batch, row.length] };
  if (raw) return { model_name: 'mlp_heavy', inputs: [input], raw_input_contents: [Buffer.from(data.buffer)] };
  return { model_name: 'mlp_heavy', inputs: [{ ...input, contents: { fp32_contents: Array.from(data) } }] };
}

/**
 * Before the gRPC cells: each request's answer must give, in its first row, the probabilities the V2 JSON answer gave
 * (`probs`, one row), typed or raw, so the load measures correct answers.
 */
export async function checkGrpc(address: string, requests: ReadonlyMap<string, Buffer>, probs: readonly number[]): Promise<void> {
  for (const [key, request] of requests) {
    const answer = await grpcAnswer(address, request);
    const output = (answer.outputs as { name: string; contents?: { fp32_contents?: number[] } }[] | undefined)?.find((tensor) => tensor.name === 'probs');
    const index = (answer.outputs as { name: string }[]).indexOf(output as { name: string });
    const raw = (answer.raw_output_contents as Buffer[] | undefined)?.[index];
    const values = raw && raw.length > 0 ? Array.from(new Float32Array(new Uint8Array(raw).buffer)) : (output?.contents?.fp32_contents ?? []);
    const first = values.slice(0, probs.length);
    if (first.length !== probs.length || first.some((value, i) => Math.abs(value - (probs[i] as number)) > 1e-6)) {
      throw new Error(`${key}: the gRPC answer's probs ${JSON.stringify(first)} differ from V2 JSON's ${JSON.stringify(probs)}`);
    }
  }
}
