/** The typed client's version option and repository calls, against a real server with the repository API on. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LongshoreClient, LongshoreClientError } from '../../src/client/index.ts';
import type { RunningServer } from '../../src/server.ts';
import { startServerFromFile } from '../helpers/server.js';
import { configYaml, fixture, writeConfig } from '../helpers/service.js';

const VERSIONED = fixture('versioned.ts', 'VersionedModel');
const entry = (version: string, label: string) => ({ class_path: VERSIONED, qualified_name: 'm', version, configuration: { label } });

describe('LongshoreClient with versions and the repository API', () => {
  let server: RunningServer;
  let client: LongshoreClient;
  before(async () => {
    server = await startServerFromFile(writeConfig(configYaml([entry('1', 'one'), entry('2', 'two')], { server: { repository_api: true } })));
    client = new LongshoreClient(server.url);
  });
  after(() => server.close());

  it('calls the newest version by default and one version when asked', async () => {
    assert.deepEqual(await client.predict('m', { x: 1 }), { label: 'two', x: 1 });
    assert.deepEqual(await client.predict('m', { x: 1 }, { version: '1' }), { label: 'one', x: 1 });
    assert.deepEqual(await client.predictBatch('m', [{ x: 2 }], { version: '1' }), [{ label: 'one', x: 2 }]);
    assert.equal((await client.metadata('m', { version: '1' })).version, '1');
  });

  it('lists, unloads and loads models through the repository API', async () => {
    assert.deepEqual((await client.repositoryIndex({ ready: true })).map((row) => row.version), ['1', '2']);
    await client.unloadModel('m');
    assert.deepEqual(await client.repositoryIndex(), [{ name: 'm', version: '', state: 'UNAVAILABLE', reason: 'unloaded' }]);
    await client.loadModel('m', { config: entry('3', 'three') });
    assert.deepEqual(await client.predict('m', { x: 1 }), { label: 'three', x: 1 });
    await assert.rejects(client.loadModel('nope'), (error: unknown) => error instanceof LongshoreClientError && error.status === 404);
  });
});
