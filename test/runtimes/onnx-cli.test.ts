/**
 * `longshore serve --model name=file.onnx` serves ONNX files with no config file; `validate --model` checks them.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/service.ts';
import { FIXTURES } from './onnx-harness.ts';

const BIN = fileURLToPath(new URL('../../bin/longshore.js', import.meta.url));
// A directory with no longshore.yaml, so only --model entries are served (removed when the test process exits).
const EMPTY_DIR = tempDir();

describe('longshore --model serves ONNX files without a config file', () => {
  it('serves each --model under its given name and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', '--model', `iris=${FIXTURES}iris_logreg.onnx`, '--model', `${FIXTURES}multi_input.onnx`, '--host', '127.0.0.1', '--port', '0'], {
      cwd: EMPTY_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const lines = createInterface({ input: child.stdout });
        lines.on('line', (line) => {
          const entry = JSON.parse(line) as { url?: string };
          if (entry.url) resolve(entry.url);
        });
        child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
      });
      let ready = 503;
      for (let attempt = 0; attempt < 100 && ready !== 200; attempt++) {
        ready = (await fetch(`${url}/api/health/ready`)).status;
        if (ready !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(ready, 200);
      const listing = (await (await fetch(`${url}/api/models`)).json()) as { models: { qualified_name: string }[] };
      assert.deepEqual(listing.models.map((m) => m.qualified_name), ['iris', 'multi_input']);
      const response = await fetch(`${url}/api/models/iris/prediction`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input: [7.0, 3.2, 4.7, 1.4] }),
      });
      assert.equal(((await response.json()) as { label: number }).label, 1);
      const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      assert.equal(await exit, 0);
    } finally {
      clearTimeout(killer);
      child.kill('SIGKILL');
    }
  });

  it('validate --model exits 0 for a good file and 2 naming the flag for a missing one', () => {
    const good = spawnSync(process.execPath, [BIN, 'validate', '--model', `${FIXTURES}iris_logreg.onnx`], { cwd: EMPTY_DIR, encoding: 'utf8', timeout: 20_000 });
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stdout, /iris_logreg \(1\)/);
    const missing = spawnSync(process.execPath, [BIN, 'validate', '--model', 'x=./missing.onnx'], { cwd: EMPTY_DIR, encoding: 'utf8', timeout: 20_000 });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /--model x=\.\/missing\.onnx: file not found: .*missing\.onnx/);
  });

  it('validate --model exits 2 with the locale hint for a model whose session cannot be created', () => {
    const result = spawnSync(process.execPath, [BIN, 'validate', '--model', `${FIXTURES}text_clf_default_locale.onnx`], { cwd: EMPTY_DIR, encoding: 'utf8', timeout: 20_000 });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /model 'text_clf_default_locale' failed to load: .*en_US\.UTF-8.*Hint/s);
  });
});
