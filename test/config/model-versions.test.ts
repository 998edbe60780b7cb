/**
 * `versions:` and `version_policy` in a model entry (issue 16, config side): one effective entry per kept version,
 * each validated like any entry, and every problem pointed at the file's own key and line.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfigFile } from '../../src/config/load.ts';
import { createService } from '../../src/service.ts';
import { silentLogger, thrownConfigError, writeConfig } from '../helpers/service.ts';

const IRIS = join(import.meta.dirname, '../fixtures/onnx/iris_logreg.onnx');
const DIGITS = join(import.meta.dirname, '../fixtures/onnx/digits_mlp.onnx');

function load(yaml: string) {
  return loadConfigFile(writeConfig(yaml)).config.models;
}

/** The problem lines of a config that fails, each without the temp file's directory. */
function problems(yaml: string): string[] {
  const file = writeConfig(yaml);
  return thrownConfigError(() => loadConfigFile(file)).message.split('\n').slice(1).map((line) => line.trim().replace(file, 'longshore.yaml'));
}

const VERSIONED = (policy = '') => `models:
  - qualified_name: iris
    timeout_ms: 800
${policy}    versions:
      - version: "1"
        model_path: ${IRIS}
      - version: "10"
        model_path: ${DIGITS}
        timeout_ms: 400
      - version: "2"
        model_path: ${IRIS}
  - model_path: ${DIGITS}
    qualified_name: digits
`;

describe('versions: in a model entry', () => {
  it('becomes one entry per version, the entry keys under the version keys, in the order listed', () => {
    const models = load(VERSIONED());
    assert.deepEqual(
      models.map((entry) => [entry.qualified_name, entry.version, entry.runtime === 'onnx' ? entry.model_path : '', entry.serving.timeoutMs]),
      [
        ['iris', '1', IRIS, 800],
        ['iris', '10', DIGITS, 400],
        ['iris', '2', IRIS, 800],
        ['digits', undefined, DIGITS, models[3]?.serving.timeoutMs],
      ],
    );
    for (const entry of models) {
      assert.equal('versions' in entry, false);
      assert.equal('version_policy' in entry, false);
    }
  });

  it('lets each version pick its runtime and configuration, and reads a whole-number version as its digits', () => {
    const [one, two] = load(`models:
  - qualified_name: m
    configuration: {shared: true}
    versions:
      - version: 1
        model_path: ${IRIS}
      - version: 2
        class_path: ./model.ts
        configuration: {size: 2}
`);
    assert.equal(one?.runtime, 'onnx');
    assert.equal(one?.version, '1');
    assert.equal(two?.runtime, 'module');
    assert.equal(two?.version, '2');
    assert.deepEqual(two?.configuration, { size: 2 });
  });
});

describe('version_policy', () => {
  const versions = (policy: string) => load(VERSIONED(`    version_policy: ${policy}\n`)).filter((entry) => entry.qualified_name === 'iris').map((entry) => entry.version);

  it('all (the default) serves every version', () => {
    assert.deepEqual(versions('all'), ['1', '10', '2']);
    assert.deepEqual(load(VERSIONED()).filter((entry) => entry.qualified_name === 'iris').length, 3);
  });

  it('latest: N serves the N newest, integers compared as numbers', () => {
    assert.deepEqual(versions('{latest: 1}'), ['10']);
    assert.deepEqual(versions('{latest: 2}'), ['10', '2']);
    assert.deepEqual(versions('{latest: 9}'), ['1', '10', '2']);
  });

  it('specific serves exactly the versions named (strings or whole numbers)', () => {
    assert.deepEqual(versions("{specific: ['1', 2]}"), ['1', '2']);
  });

  it('on an entry without versions: keeps it, and specific must name its version', () => {
    assert.equal(load(`models:\n  - model_path: ${IRIS}\n    version: "3"\n    version_policy: {specific: ["3"]}\n`).length, 1);
    assert.equal(load(`models:\n  - model_path: ${IRIS}\n    version_policy: {latest: 1}\n`).length, 1);
    assert.deepEqual(problems(`models:\n  - model_path: ${IRIS}\n    version: "3"\n    version_policy: {specific: ["4"]}\n`), [
      'longshore.yaml:4 models[0].version_policy.specific: specific names version(s) that do not exist: 4; the versions are: 3',
    ]);
  });

  it('reports a policy that is not one of the three forms, and a specific version that does not exist, naming those that do', () => {
    assert.deepEqual(problems(VERSIONED('    version_policy: newest\n')), [
      'longshore.yaml:4 models[0].version_policy: must be `all`, `{latest: N}` or `{specific: [\'1\', \'3\']}`, got "newest"',
    ]);
    assert.deepEqual(problems(VERSIONED('    version_policy: {latest: 0}\n')), [
      'longshore.yaml:4 models[0].version_policy.latest: must be an integer of at least 1, got 0',
    ]);
    assert.deepEqual(problems(VERSIONED('    version_policy: {latest: 1, specific: ["1"]}\n')), [
      'longshore.yaml:4 models[0].version_policy: must have exactly one key, latest or specific (`all`, `{latest: N}` or `{specific: [\'1\', \'3\']}`); got latest, specific',
    ]);
    assert.deepEqual(problems(VERSIONED('    version_policy:\n      specific: ["1", "3"]\n')), [
      'longshore.yaml:5 models[0].version_policy.specific: specific names version(s) that do not exist: 3; the versions are: 1, 2, 10',
    ]);
  });
});

describe('problems of versions:', () => {
  it('point at the key of the version, or of the entry, that holds the mistake', () => {
    const yaml = `models:
  - qualified_name: iris
    timeout_ms: zero
    versions:
      - version: "1"
        model_path: ${IRIS}
      - version: "2"
        model_path: ""
        intra_op_threads: -1
`;
    assert.deepEqual(problems(yaml), [
      'longshore.yaml:3 models[0].timeout_ms: must be integer',
      'longshore.yaml:8 models[0].versions[1].model_path: must NOT have fewer than 1 characters',
      'longshore.yaml:9 models[0].versions[1].intra_op_threads: must be >= 0',
    ]);
  });

  it('needs qualified_name, no version of its own, a non-empty list, and a unique safe version in each item', () => {
    assert.deepEqual(problems(`models:\n  - version: "1"\n    versions:\n      - version: "1"\n        model_path: ${IRIS}\n`), [
      'longshore.yaml:2 models[0].version: an entry with versions: has no version of its own: give each version under versions:',
      "longshore.yaml:2 models[0]: missing required key 'qualified_name': an entry with versions: needs the name its versions are served under",
    ]);
    assert.deepEqual(problems('models:\n  - qualified_name: m\n    versions: []\n'), [
      "longshore.yaml:3 models[0].versions: must be a non-empty list of versions, each a mapping with 'version' and the keys that differ in that version (model_path, class_path, ...)",
    ]);
    const items = `models:
  - qualified_name: m
    versions:
      - model_path: ${IRIS}
      - version: "a b"
        model_path: ${IRIS}
      - version: "1"
        model_path: ${IRIS}
      - version: 1
        model_path: ${IRIS}
        qualified_name: other
      - version: 1.5
        model_path: ${IRIS}
      - just a string
`;
    assert.deepEqual(problems(items), [
      "longshore.yaml:4 models[0].versions[0]: missing required key 'version'",
      'longshore.yaml:5 models[0].versions[1].version: "a b" is not a usable version: use letters, digits, \'_\', \'.\' and \'-\', starting with a letter or digit',
      'longshore.yaml:9 models[0].versions[3].version: duplicate version \'1\' (also versions[2])',
      'longshore.yaml:11 models[0].versions[3].qualified_name: belongs to the whole entry, not to one version: move it next to versions:',
      'longshore.yaml:12 models[0].versions[4].version: must be a string (or a whole number), got 1.5 (write it quoted: "1.5")',
      "longshore.yaml:14 models[0].versions[5]: must be a mapping with 'version' and the keys that differ in this version (model_path, class_path, configuration, ...)",
    ]);
  });

  it('reports a later entry at its own index, and the other entries still validated', () => {
    const yaml = `models:
  - qualified_name: iris
    versions:
      - version: "1"
        model_path: ${IRIS}
      - version: "2"
        model_path: ${IRIS}
  - model_path: ${IRIS}
    unknown_key: 1
`;
    assert.deepEqual(problems(yaml).map((line) => line.replace(/; allowed keys: .*/, '')), ["longshore.yaml:9 models[1].unknown_key: unknown key 'unknown_key'"]);
  });

  it('a model that fails to load is reported at its version (the assembly names the expanded entry)', async () => {
    const file = writeConfig(`models:\n  - qualified_name: m\n    versions:\n      - version: "1"\n        class_path: ./missing.ts\n`);
    const error = await createService(loadConfigFile(file), silentLogger()).then(
      () => assert.fail('expected a ConfigError'),
      (thrown: unknown) => thrown as Error,
    );
    assert.match(error.message, /longshore\.yaml:5 models\[0\]\.versions\[0\]\.class_path: file not found/);
  });
});
