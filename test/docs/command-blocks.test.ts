/**
 * Every code block of README.md and docs/*.md that shows a command and its output is run against the example config
 * (examples/longshore.yaml, one server in this process on 127.0.0.1, a free port) and its output compared with the
 * doc's, so the docs cannot drift from the code.
 *
 * Which blocks, and how they are compared: test/docs/markdown-blocks.ts (a block with `$ ` command lines is a
 * transcript; `<!-- not-checked: reason -->` before a block exempts it) and test/docs/output-match.ts (JSON compared
 * structurally with a float tolerance; `...` for what the doc leaves out; ids, times and durations masked by name).
 * A failure names the file and line of the command and shows the difference and what the command printed.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunningServer } from '../../src/server.ts';
import { startServerFromFile } from '../helpers/server.ts';
import { EXAMPLE_CONFIG, REPO_ROOT } from '../helpers/service.ts';
import { adjacentBlock, isTranscript, readBlocks, suspectReason, transcriptOf, type FencedBlock, type Transcript } from './markdown-blocks.ts';
import { checkTranscript } from './run-transcript.ts';

/** Fewer checked blocks than this means the discovery broke (or the docs lost their examples): the test fails. */
const MINIMUM_CHECKED_BLOCKS = 12;

const FILES = [join(REPO_ROOT, 'README.md'), ...readdirSync(join(REPO_ROOT, 'docs')).filter((name) => name.endsWith('.md')).sort().map((name) => join(REPO_ROOT, 'docs', name))];

const transcripts: Transcript[] = [];
const illustrative: FencedBlock[] = [];
const problems: string[] = [];
for (const path of FILES) {
  const { blocks, problems: markerProblems, text } = readBlocks(REPO_ROOT, path);
  problems.push(...markerProblems);
  blocks.forEach((block, index) => {
    if (block.notChecked !== undefined) {
      illustrative.push(block);
      return;
    }
    const suspect = suspectReason(block, adjacentBlock(blocks, index, text));
    if (suspect) problems.push(`${block.file}:${block.line}: this block ${suspect}; write it as a transcript ($ command, then its output) or mark it <!-- not-checked: reason -->`);
    if (!isTranscript(block)) return;
    try {
      transcripts.push(transcriptOf(block));
    } catch (error) {
      problems.push((error as Error).message);
    }
  });
}

describe('the docs\' command blocks, run against examples/longshore.yaml', { concurrency: 4 }, () => {
  let server: RunningServer;

  before(async () => {
    server = await startServerFromFile(EXAMPLE_CONFIG);
  });

  after(async () => {
    await server?.close();
  });

  test('every block that shows a command with its output is a transcript or is marked not-checked', () => {
    assert.ok(problems.length === 0, `\n${problems.join('\n')}\n`);
  });

  test(`at least ${MINIMUM_CHECKED_BLOCKS} command blocks are found and checked`, (t) => {
    const files = [...new Set(transcripts.map((transcript) => transcript.block.file))];
    t.diagnostic(`${transcripts.length} blocks checked (${transcripts.reduce((sum, transcript) => sum + transcript.steps.length, 0)} commands) in ${files.join(', ')}; ${illustrative.length} marked not-checked`);
    assert.ok(transcripts.length >= MINIMUM_CHECKED_BLOCKS, `only ${transcripts.length} command blocks found in ${FILES.length} files`);
  });

  for (const transcript of transcripts) {
    const { block, steps } = transcript;
    const first = (steps.find((step) => !step.command.startsWith('#')) ?? steps[0]!).command.split('\n')[0]!;
    test(`${block.file}:${block.line} prints what the doc shows: $ ${first.slice(0, 80)}`, async () => {
      const failures = await checkTranscript(transcript, server.url);
      assert.ok(failures.length === 0, `\n${failures.join('\n\n')}\n`);
    });
  }
});
