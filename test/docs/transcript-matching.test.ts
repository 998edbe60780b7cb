/**
 * The pieces of the docs' command-block check (test/docs/command-blocks.test.ts) on small inputs: finding transcripts
 * and markers in Markdown, reading shell words and curl options, and comparing output with its tolerance and masks.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/service.ts';
import { parseCurl } from './curl-command.ts';
import { adjacentBlock, fencedBlocks, isTranscript, suspectReason, transcriptOf } from './markdown-blocks.ts';
import { compareOutput } from './output-match.ts';
import { checkTranscript } from './run-transcript.ts';
import { parseCommand, ShellSyntaxError } from './shell-words.ts';

const FENCE = '```';

/** The transcript of a one-block doc made of `lines`. */
function transcript(...lines: string[]) {
  return transcriptOf(fencedBlocks('doc.md', [`${FENCE}console`, ...lines, FENCE].join('\n')).blocks[0]!);
}

test('a transcript splits into commands (continued lines and open quotes joined) and the output after each', () => {
  const md = ['# Title', '', `${FENCE}console`, "$ curl -s -X POST http://x/api \\", "    -d '{\"a\":", "  1}'", '{"ok":true}', '$ echo $?', '0', FENCE].join('\n');
  const { blocks, problems } = fencedBlocks('doc.md', md);
  assert.deepEqual(problems, []);
  assert.equal(blocks.length, 1);
  const { steps } = transcriptOf(blocks[0]!);
  assert.deepEqual(steps, [
    { line: 4, command: "curl -s -X POST http://x/api \\\n    -d '{\"a\":\n  1}'", expected: ['{"ok":true}'] },
    { line: 8, command: 'echo $?', expected: ['0'] },
  ]);
});

test('a not-checked marker exempts the next block; one without a reason or without a block is a problem', () => {
  const md = ['<!-- not-checked: needs a cluster -->', '', `${FENCE}sh`, '$ kubectl get pods', FENCE, '<!-- not-checked: -->', `${FENCE}`, '$ x', FENCE, '<!-- not-checked: dangling -->', 'text'].join('\n');
  const { blocks, problems } = fencedBlocks('doc.md', md);
  assert.equal(blocks[0]!.notChecked, 'needs a cluster');
  assert.deepEqual(problems, ['doc.md:6: a not-checked marker needs a reason: <!-- not-checked: why -->', 'doc.md:10: this not-checked marker is not followed by a code block']);
});

test('a command shown with its output in a comment or in the next block is suspect; a plain command block is not', () => {
  const md = [`${FENCE}sh`, 'curl -s http://x/api/health   # {"health_status":"HEALTHY"}', FENCE, `${FENCE}sh`, 'curl -s http://x/api', FENCE, '', `${FENCE}json`, '{"a":1}', FENCE, `${FENCE}sh`, 'npm install && npm start', FENCE].join('\n');
  const { blocks } = fencedBlocks('doc.md', md);
  assert.match(suspectReason(blocks[0]!, adjacentBlock(blocks, 0, md)) ?? '', /as a `# \{\.\.\.\}` comment/);
  assert.match(suspectReason(blocks[1]!, adjacentBlock(blocks, 1, md)) ?? '', /output in the next block \(line 8\)/);
  assert.equal(suspectReason(blocks[3]!, adjacentBlock(blocks, 3, md)), undefined);
  assert.equal(isTranscript(blocks[3]!), false);
});

test('shell words: quotes, env prefixes and cd are read; pipes and redirections are refused', () => {
  assert.deepEqual(parseCommand(`cd /tmp && LEVEL=x longshore validate -c "a b.yaml" --x='{"k": 1}' # note`), { cd: '/tmp', env: { LEVEL: 'x' }, argv: ['longshore', 'validate', '-c', 'a b.yaml', '--x={"k": 1}'] });
  assert.deepEqual(parseCommand('# only a comment').argv, []);
  assert.throws(() => parseCommand('curl -s http://x | jq .'), ShellSyntaxError);
  assert.throws(() => parseCommand('longshore openapi > out.json'), ShellSyntaxError);
  assert.throws(() => parseCommand('curl "$HOST/api"'), ShellSyntaxError);
});

test('curl options become the request curl would send, and an unknown option is refused', () => {
  const dir = tempDir();
  const file = join(dir, 'body.json');
  writeFileSync(file, '{"a":\n1}\n');
  try {
    const form = parseCurl(['curl', '-s', '-d', '{"a":1}', 'localhost:8080/api/x?y=1'], dir);
    assert.equal(form.method, 'POST');
    assert.equal(form.path, '/api/x?y=1');
    assert.equal(form.origin, 'http://localhost:8080');
    assert.deepEqual(form.headers, [['Content-Type', 'application/x-www-form-urlencoded']]);
    const fromFile = parseCurl(['curl', '-sS', '-X', 'PUT', '-H', 'content-type: application/json', '-d', '@body.json', 'http://127.0.0.1:8000/v2'], dir);
    assert.equal(fromFile.method, 'PUT');
    assert.equal(fromFile.body?.toString(), '{"a":1}');
    assert.deepEqual(fromFile.headers, [['content-type', 'application/json']]);
    assert.equal(parseCurl(['curl', '--data-binary', '@body.json', 'http://h/'], dir).body?.toString(), '{"a":\n1}\n');
    assert.equal(parseCurl(['curl', '-i', 'http://h/'], dir).include, true);
    assert.throws(() => parseCurl(['curl', '--compressed', 'http://h/'], dir), /--compressed is not supported/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a float32 row run in a batch does not pass for the same row run alone (README iris_onnx, issue 14)', () => {
  const single = '{"label":0,"probabilities":[0.9815794229507446,0.018420562148094177,1.459569620720913e-8]}';
  const batched = '{"label":0,"probabilities":[0.9815794229507446,0.018420549109578133,1.459569620720913e-8]}';
  assert.deepEqual(compareOutput(single, single), []);
  const problems = compareOutput(batched, single);
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /^\/probabilities\/1: the doc says 0\.018420549109578133, got 0\.018420562148094177 \(tolerance ±3\.7e-9\)$/);
});

test('numbers match to the digits the doc writes; integers must be equal', () => {
  assert.deepEqual(compareOutput('{"p":0.98,"n":3}', '{"p":0.9815794,"n":3}'), []);
  assert.equal(compareOutput('{"p":0.98}', '{"p":0.9861}').length, 1);
  assert.deepEqual(compareOutput('{"p":1.46e-8}', '{"p":1.459569620720913e-8}'), []);
  assert.equal(compareOutput('{"n":252000}', '{"n":252000.01}').length, 1);
});

test('... and "..." stand for what the doc leaves out; volatile fields match any value of their type', () => {
  const actual = '{"models":[{"name":"a","status":"ready","version":"1"},{"name":"b"}],"message":"long text","prediction_id":"9c1e"}';
  assert.deepEqual(compareOutput('{"models":[{"name":"a",...}, ...],"message":"...","prediction_id":"e93389fe"}', actual), []);
  assert.match(compareOutput('{"models":[...],"message":"..."}', actual).join('\n'), /^\/prediction_id: in the output \("9c1e"\), not in the doc/);
  assert.match(compareOutput('{"models":[{"name":"a",...}],...}', actual).join('\n'), /^\/models: the doc shows 1 elements, got 2$/);
  assert.match(compareOutput('{"prediction_id":1,...}', actual).join('\n'), /the doc shows a number, got "9c1e"/);
  assert.match(compareOutput('{"a":1,}', '{"a":1}').join('\n'), /the doc's JSON output, line 1 of it: expected a string/);
});

test('text output is compared line by line with ... wildcards, and a mismatch is shown as a line diff', () => {
  const actual = 'ok: /work/main/examples/longshore.yaml is valid\nline 2\nline 3\n';
  assert.deepEqual(compareOutput('ok: .../examples/longshore.yaml is valid\n...', actual), []);
  assert.deepEqual(compareOutput('ok: ... is valid\nline 2\nline 3', actual), []);
  assert.deepEqual(compareOutput('ok: ... is valid\nline 3', actual), ['the output differs (- the doc, + the output):', '  ok: /work/main/examples/longshore.yaml is valid', '+ line 2', '  line 3']);
  assert.deepEqual(compareOutput('', 'something'), ['the output differs (- the doc, + the output):', '+ something']);
});

test('curl -i output: the status line and each header the doc lists are checked, then the body', () => {
  const actual = 'HTTP/1.1 503 Service Unavailable\nretry-after: 1\ncontent-type: application/json; charset=utf-8\n\n{"type":"QueueFullError","message":"full","details":[]}';
  assert.deepEqual(compareOutput('HTTP/1.1 503 Service Unavailable\nRetry-After: 1\n\n{"type":"QueueFullError",...}', actual), []);
  assert.deepEqual(compareOutput('HTTP/1.1 503 ...\nretry-after: 2\n\n{"type":"QueueFullError",...}', actual), [
    'header "retry-after: 2" is not in the response (headers: retry-after: 1; content-type: application/json; charset=utf-8)',
  ]);
});

test('a transcript whose output differs from the doc fails, naming the line and showing what the command printed', async () => {
  assert.deepEqual(await checkTranscript(transcript('$ echo $?', '0'), 'http://127.0.0.1:1'), []);
  const failures = await checkTranscript(transcript('$ echo $?', '1'), 'http://127.0.0.1:1');
  assert.deepEqual(failures, ['doc.md:2: $ echo $?\n  the output differs (- the doc, + the output):\n  + 0\n  - 1\n  the command printed:\n    0']);
});

test('a command the checker cannot run fails with what to do about it, and stops its transcript', async () => {
  const cases: [string, RegExp][] = [
    ['$ ls', /'ls' is not a command the doc checker runs \(curl, longshore, echo \$\?\)/],
    ['$ cd no-such-dir && longshore validate', /cd no-such-dir: no such directory here .*mark the block/],
    ['$ longshore init my-service', /'longshore init' writes files; mark the block <!-- not-checked: reason -->/],
    ['$ curl --compressed http://127.0.0.1:8000/api/health', /curl option --compressed is not supported by the doc checker/],
    ['$ curl -s http://x/ | jq .', /shell syntax the doc checker does not run/],
  ];
  for (const [command, message] of cases) {
    const failures = await checkTranscript(transcript(command, 'output', '$ echo $?', '0'), 'http://127.0.0.1:1');
    assert.equal(failures.length, 1, `${command}: only the first step fails, the rest is not run: ${failures.join('\n')}`);
    assert.match(failures[0]!, /^doc\.md:2: \$ .*\n {2}cannot be run: /);
    assert.match(failures[0]!, message);
  }
});
