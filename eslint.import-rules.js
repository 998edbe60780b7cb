// The import direction of src/ (docs/import-rules.md) as ESLint config: the layer table, the package rules, the
// known violations still to remove, and the builder that turns them into import-x/no-restricted-paths zones.
// eslint.config.js spreads importRules(); test/lint/import-direction.test.ts proves the rules bite.
import fs from 'node:fs';
import path from 'node:path';

// Top to bottom. A module may import modules of its own layer and of every layer below it, never above.
// Members are paths under src/: 'dir/' is the folder and everything in it, 'name.ts' one module. A module named by
// two layers belongs to the lower one: model/contract.ts and the wire-types modules are in the bottom layer although
// their folders are higher.
export const LAYERS = [
  { name: 'entry', members: ['cli.ts', 'bin.ts', 'cluster/', 'scaffold/', 'loadtest/'] },
  { name: 'server', members: ['server.ts', 'listen-errors.ts', 'service.ts', 'reloads.ts', 'connections.ts'] },
  { name: 'protocol', members: ['http/', 'grpc/'] },
  { name: 'dataplane', members: ['dataplane/'] },
  { name: 'model', members: ['model/', 'graphs/', 'decorators/'] },
  { name: 'serving', members: ['runtimes/', 'batching/', 'monitoring/', 'metrics/'] },
  { name: 'config', members: ['config/', 'logging/'] },
  {
    name: 'base',
    members: [
      'tensors/', 'errors.ts', 'version.ts', 'call-context.ts', 'tracing/', 'tracing.ts',
      'wire.ts', 'model/contract.ts',
    ],
  },
];

// Outside the stack. The public API imports anything, and nothing in src/ imports it. The published client imports
// only its own folder and `mayImport`, and nothing in the server imports the client, except `usedBy`: `longshore
// bench`'s load generator (loadtest/), a client of the server, which sends gRPC requests through it.
export const PUBLIC_API = 'index.ts';
export const CLIENT = { members: ['client/'], mayImport: ['tensors/', 'errors.ts', 'wire.ts'], usedBy: ['loadtest/'] };

// Packages only some members may import (the package or any subpath; static, type-only and dynamic imports alike).
// `typesFrom`: members that may import the package's types only.
export const PACKAGES = [
  {
    packages: ['fastify', '@fastify/*'],
    onlyFrom: ['http/', 'server.ts', 'cli.ts', 'cluster/'],
    typesFrom: [PUBLIC_API],
    why: 'HTTP is the protocol layer; nothing below it knows about fastify',
  },
  {
    packages: ['onnxruntime-node', 'onnxruntime-common'],
    onlyFrom: ['runtimes/'],
    typesFrom: [],
    why: 'onnxruntime is an optional peer, loaded by runtimes/ for an ONNX model only',
  },
  {
    packages: ['autocannon'],
    onlyFrom: ['loadtest/'],
    typesFrom: [],
    why: '`longshore bench` alone makes load; it imports autocannon in its load thread only',
  },
  {
    packages: ['@huggingface/*'],
    onlyFrom: ['runtimes/'],
    typesFrom: [],
    why: 'the tokenizer belongs to the transformers runtime (runtimes/transformers/), imported with a dynamic import() only when a config serves a Hugging Face model',
  },
  {
    packages: ['@grpc/*', 'grpc-health-check'],
    onlyFrom: ['grpc/', 'client/'],
    typesFrom: [],
    why: 'gRPC is the protocol layer beside http/, loaded by server.ts with a dynamic import() only when server.grpc_port is set (and by the client\'s gRPC transport, on first use)',
  },
  {
    packages: ['@opentelemetry/*'],
    onlyFrom: ['tracing/'],
    typesFrom: [],
    why: 'the OpenTelemetry SDK is loaded (dynamically, by tracing/load.ts) only when tracing.enabled is true; other modules use tracing/span.ts',
  },
];

// Known violations, to be removed. Each line allows one import (`imports`, a module under src/) in one file, nothing
// else. Empty since issue 15 moved the types to where the table wants them; a line added here must name the issue
// that removes it (test/lint/import-direction.test.ts fails on a line that no longer matches a violation).
// `LONGSHORE_LINT_STRICT=1 npx eslint src` ignores this list and shows what is left.
export const KNOWN_VIOLATIONS = [];

// Generated code (e.g. from a .proto) is exempt from max-lines by its name. Better still, keep it outside src/.
export const GENERATED = ['src/**/*.generated.ts', 'src/**/*.generated.js'];
export const MAX_LINES = 400;

const isFolder = (member) => member.endsWith('/');
// A member as a flat-config `files` pattern.
const filesGlob = (member) => (isFolder(member) ? `src/${member}**/*.{ts,js}` : `src/${member}`);
// The folders a package name (or '@scope/*') resolves into from src/, symlinks followed as the resolver does.
function packageFolders(root, name) {
  const modules = path.join(root, 'node_modules');
  const real = (folder) => {
    try {
      return fs.realpathSync(folder);
    } catch {
      return folder; // not installed: no import resolves to it (import-x/no-unresolved reports the import)
    }
  };
  if (!name.endsWith('/*')) return [path.join(modules, name), real(path.join(modules, name))];
  const scope = path.join(modules, name.slice(0, -2));
  const names = fs.existsSync(scope) ? fs.readdirSync(scope) : [];
  return [scope, real(scope), ...names.map((n) => real(path.join(scope, n)))];
}
// Whether member (or module) `inner` is in folder member `outer` ('' is src/ itself).
const isIn = (inner, outer) => (outer === '' || isFolder(outer)) && inner !== outer && inner.startsWith(outer);

/**
 * The flat-config objects of the import direction of src/.
 * @param {{ root: string, strict?: boolean }} options root: the repository, which src/ is in;
 *   strict: leave KNOWN_VIOLATIONS out (default: true when the environment has LONGSHORE_LINT_STRICT=1).
 * @returns {import('eslint').Linter.Config[]}
 */
export function importRules({ root, strict = process.env.LONGSHORE_LINT_STRICT === '1' }) {
  // Paths, not globs: import-x compiles every glob again for every file it lints; plain paths cost next to nothing.
  const src = (member) => path.join(root, 'src', member);
  const membersOf = (layers) => layers.flatMap((layer) => layer.members);
  const everyMember = [...membersOf(LAYERS), ...CLIENT.members, PUBLIC_API];
  const outside = [PUBLIC_API, ...CLIENT.members];

  /**
   * The zones over `target` forbidding `forbidden` except `allowed` (members or modules). import-x wants every
   * exception inside each `from` of its zone, so a forbidden folder with exceptions gets a zone of its own.
   */
  const zonesOf = (target, forbidden, allowed, message) => {
    forbidden = forbidden.filter((f) => !allowed.includes(f));
    const plain = forbidden.filter((f) => !allowed.some((a) => isIn(a, f)));
    const zones = plain.length ? [{ target: target.map(src), from: plain.map(src), message }] : [];
    for (const f of forbidden.filter((f) => !plain.includes(f))) {
      const except = allowed.filter((a) => isIn(a, f)).map((a) => a.slice(f.length).replace(/\/$/, ''));
      zones.push({ target: target.map(src), from: [src(f)], except, message });
    }
    return zones;
  };

  /** Every zone; `known`: the imports of KNOWN_VIOLATIONS to let through (only in that file's config). */
  const zonesWith = (known = []) => {
    const zones = LAYERS.flatMap((layer, i) => {
      const higher = LAYERS.slice(0, i);
      const lower = LAYERS.slice(i + 1);
      const message =
        `Layer '${layer.name}' (src/${layer.members.join(', src/')}) imports its own layer and ` +
        `${lower.length ? lower.map((l) => l.name).join(', ') : 'nothing else in src/'}, never ` +
        `${[...higher.map((l) => l.name), PUBLIC_API, ...CLIENT.members].join(', ')}. See docs/import-rules.md.`;
      const forbidden = [...membersOf(higher), ...outside];
      const allowed = [...membersOf(LAYERS.slice(i)), ...known];
      const users = layer.members.filter((member) => CLIENT.usedBy.includes(member));
      const others = layer.members.filter((member) => !users.includes(member));
      return [
        ...(others.length > 0 ? zonesOf(others, forbidden, allowed, message) : []),
        ...(users.length > 0 ? zonesOf(users, forbidden, [...allowed, ...CLIENT.members], message) : []),
      ];
    });
    zones.push(
      ...zonesOf(
        CLIENT.members,
        [''],
        [...CLIENT.members, ...CLIENT.mayImport, ...known],
        `The published client (src/client/) imports only src/${CLIENT.mayImport.join(', src/')} of the server. See docs/import-rules.md.`,
      ),
    );
    for (const rule of PACKAGES) {
      const allowed = new Set([...rule.onlyFrom, ...rule.typesFrom]);
      zones.push({
        target: everyMember.filter((m) => !allowed.has(m)).map(src),
        from: [...new Set(rule.packages.flatMap((name) => packageFolders(root, name)))],
        message: `${rule.packages.join(' and ')} only from src/${rule.onlyFrom.join(', src/')}: ${rule.why}. See docs/import-rules.md.`,
      });
    }
    return zones;
  };
  const restrictedPaths = (known) => ['error', { basePath: root, zones: zonesWith(known) }];

  const configs = [
    {
      name: 'longshore/import-direction',
      files: ['src/**/*.{ts,js}'],
      rules: {
        'import-x/no-restricted-paths': restrictedPaths(),
        // An import the resolver cannot follow would be skipped by no-restricted-paths: every one must resolve.
        'import-x/no-unresolved': 'error',
      },
    },
  ];
  for (const rule of PACKAGES.filter((p) => p.typesFrom.length > 0)) {
    configs.push({
      name: `longshore/import-direction/types-only/${rule.packages[0]}`,
      files: rule.typesFrom.map(filesGlob),
      rules: {
        '@typescript-eslint/no-restricted-imports': [
          'error',
          {
            patterns: [
              {
                group: rule.packages.flatMap((name) => [name, `${name}/*`]),
                allowTypeImports: true,
                message: `${rule.packages.join(' and ')}: types only here (import type).`,
              },
            ],
          },
        ],
      },
    });
  }
  if (!strict) {
    const byFile = new Map();
    for (const { file, imports } of KNOWN_VIOLATIONS) byFile.set(file, [...(byFile.get(file) ?? []), imports]);
    for (const [file, imports] of byFile) {
      configs.push({
        name: `longshore/import-direction/known-violations/${file}`,
        files: [`src/${file}`],
        rules: { 'import-x/no-restricted-paths': restrictedPaths(imports) },
      });
    }
  }
  // A module outside every member of the table would be in no zone: it fails until it is placed.
  configs.push({
    name: 'longshore/import-direction/unplaced',
    files: ['src/**/*.{ts,js}'],
    ignores: everyMember.map(filesGlob),
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'Program',
          message: 'This module is in no layer of the import table: add it to LAYERS in eslint.import-rules.js (see docs/import-rules.md).',
        },
      ],
    },
  });
  return configs;
}
