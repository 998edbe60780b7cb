/**
 * Unit tests of how an imported user module is read: exports of ES modules and of CommonJS modules (whose named
 * exports Node cannot always see), and which files need the TypeScript loader.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exportNames, exportOf } from '../../src/runtimes/module-exports.ts';
import { isTypeScriptModule, prepareImport } from '../../src/runtimes/typescript-loader.ts';

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
    for (const url of ['/srv/model.js', 'file:///srv/model.mjs', 'file:///srv/model.cjs', '/srv/types.d.ts', '/srv/model.tsx.js']) {
      assert.equal(isTypeScriptModule(url), false, url);
    }
  });

  it('prepareImport does nothing for a JavaScript module', async () => {
    const before = process.env['TSX_DISABLE_CACHE'];
    await prepareImport('file:///srv/model.mjs');
    assert.equal(process.env['TSX_DISABLE_CACHE'], before);
  });
});
