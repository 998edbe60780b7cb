/**
 * Zero-downtime change: keep-alive clients call a model back to back while it is replaced three times through the
 * repository API (each new build slow to load). Every answer is a 2xx from a loaded build, and once a client has seen
 * a build it never sees an older one: the switch is one step, after the new build is ready.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server.ts';
import { postJson, startServerFromFile } from '../helpers/server.js';
import { configYaml, fixture, writeConfig } from '../helpers/service.js';

const VERSIONED = fixture('versioned.ts', 'VersionedModel');
const build = (label: string) => ({ class_path: VERSIONED, qualified_name: 'm', configuration: { label, delay_ms: 2, load_ms: 150 } });
const LABELS = ['a', 'b', 'c', 'd'];
const CLIENTS = 8;
/** A bound on the load, whatever happens: the clients stop after this many requests in all. */
const MAX_REQUESTS = 20_000;

describe('replacing a model under load', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServerFromFile(writeConfig(configYaml([build('a')], { server: { repository_api: true } })));
  });
  after(() => server.close());

  it('answers every call with 2xx from a ready build, never an older build after a newer one', async () => {
    let stop = false;
    let sent = 0;
    const statuses = new Map<number, number>();
    const seen: string[][] = [];
    const client = async (index: number) => {
      const labels: string[] = [];
      seen[index] = labels;
      try {
        while (!stop && sent < MAX_REQUESTS) {
          sent++;
          const answer = await postJson<{ label?: string; message?: string }>(`${server.url}/api/models/m/prediction`, { x: index });
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
          assert.equal(answer.status, 200, `client ${index}: ${JSON.stringify(answer.body)}`);
          labels.push(answer.body.label as string);
        }
      } finally {
        stop = true;
      }
    };
    const clients = Promise.all(Array.from({ length: CLIENTS }, (_, index) => client(index)));
    clients.catch(() => undefined);
    for (const label of LABELS.slice(1)) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const load = await fetch(`${server.url}/v2/repository/models/m/load`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ parameters: { config: JSON.stringify(build(label)) } }),
      });
      assert.equal(load.status, 200, await load.text());
      // The load answers once the switch is made: the next call gets the new build.
      assert.equal((await postJson<{ label: string }>(`${server.url}/api/models/m/prediction`, { x: 0 })).body.label, label);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    stop = true;
    await clients;

    assert.deepEqual([...statuses.keys()], [200]);
    for (const [index, labels] of seen.entries()) {
      const order = labels.map((label) => LABELS.indexOf(label));
      assert.ok(!order.includes(-1), `client ${index} saw an unknown build`);
      assert.ok(order.every((at, position) => position === 0 || at >= (order[position - 1] as number)), `client ${index} saw an older build after a newer one`);
    }
    const all = new Set(seen.flat());
    assert.deepEqual([...all].sort(), LABELS, 'every build answered some calls');
    assert.ok(sent > CLIENTS * 20, `the load was real: ${sent} calls`);
  });
});
