/**
 * gRPC load cells: N HTTP/2 connections, each sending the same ModelInfer request back to back — a discarded warm-up,
 * then the measured run — the counterpart of autocannon's cells in load.ts. Like autocannon, the load generator is
 * lean: the request is serialized and framed once, each call is one node:http2 stream (gRPC's wire format: POST
 * `application/grpc`, a 5-byte length prefix, the status in the trailers) and the answers are not decoded. grpc-js as
 * the load generator costs more than the server it measures on this 2-core machine (a profile of the server under it
 * was 38% idle). checkGrpc() decodes one answer with grpc-js to check it.
 */
import { connect, type ClientHttp2Session } from 'node:http2';
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

/** One gRPC message as it goes on the wire: not compressed (0), its length (big-endian), the message. */
function framed(message: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

/** One unary call on `session`; resolves true when its status trailer is OK. */
function rawCall(session: ClientHttp2Session, body: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const stream = session.request({ ':method': 'POST', ':path': METHOD, 'content-type': 'application/grpc', te: 'trailers' });
    let ok = false;
    stream.on('response', (headers) => {
      // A call refused before any message ends in a "trailers-only" response: its status is in the headers.
      if (headers['grpc-status'] !== undefined) ok = headers['grpc-status'] === '0';
    });
    stream.on('trailers', (trailers) => {
      ok = trailers['grpc-status'] === '0';
    });
    stream.on('data', () => undefined);
    stream.on('close', () => resolve(ok));
    stream.on('error', () => resolve(false));
    stream.end(body);
  });
}

async function run(sessions: readonly ClientHttp2Session[], body: Buffer, durationS: number, samples?: Samples): Promise<{ ok: number; errors: number; seconds: number }> {
  let ok = 0;
  let errors = 0;
  const started = performance.now();
  const end = started + durationS * 1000;
  await Promise.all(
    sessions.map(async (session) => {
      while (performance.now() < end) {
        const at = performance.now();
        if (await rawCall(session, body)) {
          ok++;
          samples?.push(performance.now() - at);
        } else errors++;
      }
    }),
  );
  return { ok, errors, seconds: (performance.now() - started) / 1000 };
}

function openSessions(address: string, count: number): Promise<ClientHttp2Session[]> {
  return Promise.all(
    Array.from({ length: count }, () => {
      const session = connect(`http://${address}`);
      return new Promise<ClientHttp2Session>((resolve, reject) => {
        session.once('connect', () => resolve(session));
        session.once('error', reject);
      });
    }),
  );
}

/** Runs one round of a gRPC cell; the latencies (ms) of the successful calls are added to `latencies`. */
export async function measureGrpcRound(options: GrpcCellOptions, latencies: Samples): Promise<CellRound> {
  const sessions = await openSessions(options.address, options.connections);
  const body = framed(options.request);
  try {
    const warmup = await run(sessions, body, options.warmupS);
    const samples = new Samples();
    const result = await run(sessions, body, options.durationS, samples);
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
    for (const session of sessions) session.close();
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
