/**
 * Unit tests of how an imported user module is read: exports of ES modules and of CommonJS modules (whose named
 * exports Node cannot always see), and which files need the TypeScript loader.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/cli.ts';
import { writeConfig } from '../helpers/service.ts';
import { exportNames, exportOf } from '../../src/runtimes/module-exports.ts';
import { importModelClass } from '../../src/runtimes/module.ts';
import { isTypeScriptModule } from '../../src/runtimes/typescript-loader.ts';

class Alpha {}
class Beta {}

describe('exportOf', () => {
  it('returns a named export of an ES module namespace', () => {
    assert.equal(exportOf({ Alpha, default: Beta }, 'Alpha'), Alpha);
    assert.equal(exportOf({ Alpha, default: Beta }, 'default'), Beta);
  });

  it("finds a CommonJS module's named export on its module.exports (the namespace's default)", () => {
    assert.equal(exportOf({ default: { Alpha, Beta } }, 'Beta'), Beta);
    assert.equal(exportOf({ 'module.exports': { Alpha }, default: { Alpha } }, 'Alpha'), Alpha);
  });

  it('is undefined for a name the module does not export, in either form', () => {
    assert.equal(exportOf({ default: { Alpha } }, 'Gamma'), undefined);
    assert.equal(exportOf({ Alpha }, 'Gamma'), undefined);
    assert.equal(exportOf({ default: Alpha }, 'Gamma'), undefined);
  });

  it('lists every name it can find, for the "its exports are" message', () => {
    assert.deepEqual(exportNames({ default: { Alpha, Beta } }), ['default', 'Alpha', 'Beta']);
    assert.deepEqual(exportNames({ 'module.exports': { Alpha }, default: { Alpha } }), ['default', 'Alpha']);
    assert.deepEqual(exportNames({ Alpha, default: Beta }), ['Alpha', 'default']);
  });
});

describe('isTypeScriptModule', () => {
  it('is true for .ts, .mts and .cts files, as paths or file: URLs, with or without a query', () => {
    for (const url of ['/srv/model.ts', 'file:///srv/model.mts', 'file:///srv/model.CTS', 'file:///srv/model.ts?v=2']) {
      assert.equal(isTypeScriptModule(url), true, url);
    }
  });

  it('is false for JavaScript files and declaration files', () => {
    for (const url of ['/srv/model.js', 'file:///srv/model.mjs', 'file:///srv/model.cjs', '/srv/types.d.ts', '/srv/types.d.mts', '/srv/model.tsx.js']) {
      assert.equal(isTypeScriptModule(url), false, url);
    }
  });
});

describe('importing model classes from CommonJS modules', () => {
  const dir = fileURLToPath(new URL('../fixtures/code-models/commonjs/', import.meta.url));

  it('finds a named export of a .ts file in a CommonJS package, with import.meta.dirname working', async () => {
    const modelClass = await importModelClass('./named.ts#NamedModel', dir);
    assert.deepEqual(new modelClass({}).predict({ x: 1 }), { dir: dir.replace(/\/$/, '') });
  });

  it("takes `export default` compiled to CommonJS as the default export, not the module's exports object", async () => {
    const modelClass = await importModelClass('./default.ts', dir);
    assert.equal(modelClass.name, 'DefaultModel');
  });

  it('takes a class assigned to module.exports as the default export and its static members as named exports', async () => {
    assert.equal((await importModelClass('./legacy.cjs', dir)).name, 'LegacyModel');
    assert.equal((await importModelClass('./legacy.cjs#OtherModel', dir)).name, 'OtherModel');
  });

  it('finds a named export of a .cts file', async () => {
    assert.equal((await importModelClass('./typed.cts#CtsModel', dir)).name, 'CtsModel');
  });

  it('does not take inherited or function properties for exports, and lists only real exports', async () => {
    await assert.rejects(importModelClass('./legacy.cjs#constructor', dir), /has no export 'constructor'; its exports are: OtherModel, default$/);
    await assert.rejects(importModelClass('./legacy.cjs#prototype', dir), /has no export 'prototype'/);
  });
});

describe('longshore validate with CommonJS model files', () => {
  it('loads a .ts file in a CommonJS package, a .cts file and a .cjs class through the command', async () => {
    const dir = fileURLToPath(new URL('../fixtures/code-models/commonjs/', import.meta.url));
    const entries = ['named.ts#NamedModel', 'default.ts', 'typed.cts#CtsModel', 'legacy.cjs#OtherModel'].map((path) => `  - class_path: ${dir}${path}\n`);
    const file = writeConfig(`models:\n${entries.join('')}`);
    const result = await runCli(['validate', '--config', file]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /4 model\(s\) loaded: cjs_named \(1\), cjs_default \(1\), cts_model \(1\), cjs_other \(1\)/);
  });
});

describe('a class_path without its file extension', () => {
  it("says which file was meant: 'file not found' with did you mean './named.ts'", async () => {
    const dir = fileURLToPath(new URL('../fixtures/code-models/commonjs/', import.meta.url));
    await assert.rejects(importModelClass('./named#NamedModel', dir), /file not found: .*named \(did you mean '\.\/named\.ts'\? class_path names the file with its extension\)$/);
  });
});
