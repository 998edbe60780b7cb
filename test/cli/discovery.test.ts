/**
 * Where the CLI finds its config without --config: LONGSHORE_CONFIG, then REST_CONFIG, then longshore.yaml /
 * rest_config.yaml in the working directory.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.ts';
import { fixture, tempDir, writeConfig } from '../helpers/service.ts';

const GOOD_YAML = `models:\n  - class_path: ${fixture('echo.ts', 'EchoModel')}\n`;
const BAD_YAML = 'not_a_key: 1\n';

describe('config discovery', { concurrency: true }, () => {
  it('uses LONGSHORE_CONFIG, resolved against the working directory', async () => {
    const cwd = tempDir();
    writeConfig(GOOD_YAML, { dir: cwd, name: 'custom.yaml' });
    const result = await runCli(['validate'], { cwd, env: { LONGSHORE_CONFIG: 'custom.yaml' } });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^ok: ${join(cwd, 'custom.yaml')} is valid`));
  });

  it('uses REST_CONFIG when LONGSHORE_CONFIG is not set', async () => {
    const cwd = tempDir();
    const file = writeConfig(GOOD_YAML, { name: 'rest.yaml' });
    const result = await runCli(['validate'], { cwd, env: { REST_CONFIG: file } });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^ok: ${file} is valid`));
  });

  it('prefers LONGSHORE_CONFIG over REST_CONFIG and over longshore.yaml in the working directory', async () => {
    const cwd = tempDir();
    writeConfig(BAD_YAML, { dir: cwd, name: 'longshore.yaml' });
    const rest = writeConfig(BAD_YAML, { name: 'rest.yaml' });
    const chosen = writeConfig(GOOD_YAML, { name: 'chosen.yaml' });
    const result = await runCli(['validate'], { cwd, env: { LONGSHORE_CONFIG: chosen, REST_CONFIG: rest } });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^ok: ${chosen} is valid`));
  });

  it('prefers --config over the environment', async () => {
    const explicit = writeConfig(GOOD_YAML, { name: 'explicit.yaml' });
    const env = writeConfig(BAD_YAML, { name: 'env.yaml' });
    const result = await runCli(['validate', '--config', explicit], { env: { LONGSHORE_CONFIG: env } });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^ok: ${explicit} is valid`));
  });

  it('finds longshore.yaml in the working directory', async () => {
    const cwd = tempDir();
    writeConfig(GOOD_YAML, { dir: cwd, name: 'longshore.yaml' });
    writeConfig(BAD_YAML, { dir: cwd, name: 'rest_config.yaml' });
    const result = await runCli(['validate'], { cwd });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^ok: ${join(cwd, 'longshore.yaml')} is valid`));
  });

  it('finds rest_config.yaml in the working directory', async () => {
    const cwd = tempDir();
    writeConfig(GOOD_YAML, { dir: cwd, name: 'rest_config.yaml' });
    const result = await runCli(['validate'], { cwd });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^ok: ${join(cwd, 'rest_config.yaml')} is valid`));
  });

  it('exits 2 explaining how to give a config when none is found', async () => {
    const cwd = tempDir();
    const result = await runCli(['validate'], { cwd });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /no config file: pass --config FILE, set LONGSHORE_CONFIG/);
  });

  it('exits 2 when LONGSHORE_CONFIG names a missing file', async () => {
    const cwd = tempDir();
    writeConfig(GOOD_YAML, { dir: cwd, name: 'longshore.yaml' });
    const result = await runCli(['validate'], { cwd, env: { LONGSHORE_CONFIG: 'gone.yaml' } });
    assert.equal(result.code, 2);
    assert.match(result.stderr, new RegExp(`config file not found: ${join(cwd, 'gone.yaml')}`));
  });
});
