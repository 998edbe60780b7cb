/**
 * `tls:` with `server.grpc_port`: the gRPC port speaks TLS with the same certificate as HTTPS. A client that trusts the
 * certificate gets answers; a plaintext client gets none.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { credentials, loadPackageDefinition, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { PROTO_FILE, PROTO_OPTIONS } from '../../src/grpc/server.ts';
import type { RunningServer } from '../../src/server.ts';
import { hasOpenssl, makeCertificate } from '../helpers/certificates.ts';
import { startServerFromFile } from '../helpers/server.ts';
import { configYaml, fixture, tempDir, writeConfig } from '../helpers/service.ts';

type Live = (request: object, callback: (error: ServiceError | null, response: { live: boolean }) => void) => void;
const skip = hasOpenssl() ? false : 'openssl is not installed: the test makes its certificate with it';

describe('gRPC with tls:', { skip }, () => {
  let server: RunningServer;
  let ca: Buffer;
  const clients: Client[] = [];
  before(async () => {
    const dir = tempDir();
    const { cert, key } = makeCertificate(dir);
    ca = readFileSync(cert);
    const config = configYaml([{ class_path: fixture('echo.ts', 'EchoModel') }], { server: { grpc_port: 0 }, tls: { cert_file: cert, key_file: key } });
    server = await startServerFromFile(writeConfig(config, { dir }));
  });
  after(async () => {
    for (const client of clients) client.close();
    await server.close();
  });

  function live(secure: boolean): Promise<boolean> {
    const { inference } = loadPackageDefinition(loadSync(PROTO_FILE, PROTO_OPTIONS)) as unknown as { inference: { GRPCInferenceService: new (address: string, creds: unknown) => Client & { ServerLive: Live } } };
    const client = new inference.GRPCInferenceService(server.grpcUrl as string, secure ? credentials.createSsl(ca) : credentials.createInsecure());
    clients.push(client);
    return new Promise((resolve, reject) => {
      client.waitForReady(Date.now() + 3000, (error) => {
        if (error) return reject(error);
        client.ServerLive({}, (failure, response) => (failure ? reject(failure) : resolve(response.live)));
      });
    });
  }

  it('answers a client that trusts the certificate', async () => {
    assert.equal(server.url.startsWith('https://'), true);
    assert.equal(await live(true), true);
  });

  it('gives a plaintext client no answer', async () => {
    await assert.rejects(live(false));
  });
});
