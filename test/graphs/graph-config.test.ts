/**
 * Graph entries that cannot work are config errors reported before anything loads, as `file:LINE key.path: message`:
 * a member that is not a model of the file (or a graph below, or the graph itself), member keys that do not fit the
 * graph's kind, and a graph entry with code of its own.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfigFile } from '../../src/config/load.ts';
import { ConfigError } from '../../src/errors.ts';
import { createService } from '../../src/service.ts';
import { silentLogger, writeConfig } from '../helpers/service.ts';
import { member } from './graph-harness.ts';

/** The ConfigError for `yaml`, from loading the file or from createService, with the file's path. */
async function configProblems(yaml: string): Promise<{ error: ConfigError; file: string }> {
  const file = writeConfig(yaml);
  try {
    await createService(loadConfigFile(file), silentLogger());
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return { error, file };
  }
  assert.fail('the config was accepted');
}

const TWO_MODELS = [
  'models:',
  `  - class_path: ${member('FixedClassifier')}`, // line 2
  '    qualified_name: cat',
  '    configuration: {label: cat}',
  `  - class_path: ${member('LinearRegressor')}`, // line 5
  '    qualified_name: line',
];

describe('graph config errors', () => {
  it('reports a member that is not a model of the file at file:line models[i].graph.members[j]', async () => {
    const { error, file } = await configProblems(
      [
        ...TWO_MODELS,
        '  - qualified_name: vote', // line 7
        '    graph:',
        '      kind: ensemble',
        '      members:',
        '        - cat', // line 11
        '        - {model: dgo, weight: 2}', // line 12
        '',
      ].join('\n'),
    );
    assert.equal(error.details.length, 1);
    assert.equal(error.details[0]?.path, 'models[2].graph.members[1]');
    const message = error.details[0]?.message ?? '';
    assert.ok(message.startsWith(`${file}:12 models[2].graph.members[1]: no model 'dgo' for this graph; `), message);
  });

  it('lets a graph use only the graphs above it, never itself', async () => {
    const { error } = await configProblems(
      [
        ...TWO_MODELS,
        '  - qualified_name: first',
        '    graph: {kind: router, members: [cat, second]}',
        '  - qualified_name: second',
        '    graph: {kind: router, members: [cat, second]}',
        '',
      ].join('\n'),
    );
    assert.deepEqual(
      error.details.map((detail) => detail.path),
      ['models[2].graph.members[1]', 'models[3].graph.members[1]'],
    );
    assert.match(error.details[0]?.message ?? '', /no model 'second'/);
  });

  it('accepts a graph over a graph defined above it and over models defined below it', async () => {
    const file = writeConfig(
      [
        'models:',
        '  - qualified_name: early',
        '    graph: {kind: ensemble, members: [cat, cat]}',
        '  - qualified_name: late',
        '    graph: {kind: router, members: [early, cat]}',
        `  - class_path: ${member('FixedClassifier')}`,
        '    qualified_name: cat',
        '    configuration: {label: cat}',
        '',
      ].join('\n'),
    );
    const { registry } = await createService(loadConfigFile(file), silentLogger());
    await registry.loadAll();
    assert.deepEqual(
      registry.list().map((served) => [served.name, served.state]),
      [['early', 'ready'], ['late', 'ready'], ['cat', 'ready']],
    );
    const answer = (await registry.require('late').ready().predict({ x: 1 }, {})) as { label: string; routed_to: string };
    assert.equal(answer.label, 'cat');
    assert.ok(['early', 'cat'].includes(answer.routed_to), answer.routed_to);
    await registry.unloadAll();
  });

  it('reports member keys that the kind does not use', async () => {
    const { error, file } = await configProblems(
      [
        ...TWO_MODELS,
        '  - qualified_name: chain', // line 7
        '    graph: {kind: pipeline, members: [line, {model: cat, weight: 2}]}', // line 8
        '  - qualified_name: first_mapped',
        '    graph: {kind: pipeline, members: [{model: line, map: {y: x}}, cat]}', // line 10
        '  - qualified_name: route',
        '    graph: {kind: router, members: [line, {model: cat, header_value: b}]}', // line 12
        '  - qualified_name: vote',
        '    graph: {kind: ensemble, labels: [a, b], members: [line, cat]}', // line 14
        '',
      ].join('\n'),
    );
    assert.deepEqual(
      error.details.map((detail) => detail.message.slice(file.length)),
      [
        ':8 models[2].graph.members[1].weight: a pipeline member takes no weight',
        ':10 models[3].graph.members[0].map: the first member of a pipeline gets the request as it is; map applies to the members after it',
        ':12 models[4].graph.members[1].header_value: header_value needs graph.header, the header whose value it matches',
        ':14 models[5].graph.labels: graph.labels does not apply to combine: majority',
      ],
    );
  });

  it('reports two router members picked by the same header value', async () => {
    const { error } = await configProblems(
      [...TWO_MODELS, '  - qualified_name: route', '    graph: {kind: router, header: x-v, members: [{model: line, header_value: cat}, cat]}', ''].join('\n'),
    );
    assert.equal(error.details[0]?.path, 'models[2].graph.members[1]');
    assert.match(error.details[0]?.message ?? '', /header value 'cat' already picks member 'line'/);
  });

  it('reports a graph entry that also has a class_path', async () => {
    const { error, file } = await configProblems(
      [...TWO_MODELS, '  - qualified_name: vote', `    class_path: ${member('FixedClassifier')}`, '    graph: {kind: ensemble, members: [cat, line]}', ''].join('\n'),
    );
    assert.equal(error.details.length, 1);
    assert.equal(error.details[0]?.message, `${file}:8 models[2].class_path: a graph (an entry with graph) takes no class_path`);
  });
});
