// Lint rules: typescript-eslint's recommended set over the sources, tests, examples and benchmarks; over src/, the
// import direction (eslint.import-rules.js, docs/import-rules.md) and at most 400 lines a file.
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';
import { GENERATED, importRules, MAX_LINES } from './eslint.import-rules.js';

const root = import.meta.dirname;

export default tseslint.config(
  { ignores: ['node_modules/**', 'tmp/**', 'dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', performance: 'readonly', URL: 'readonly', structuredClone: 'readonly', fetch: 'readonly', Buffer: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', setImmediate: 'readonly', setInterval: 'readonly', clearInterval: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.{ts,js}'],
    plugins: { 'import-x': importX },
    settings: {
      // `.js` specifiers to the `.ts` files, and tsconfig's paths (`longshore` -> src/index.ts).
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: `${root}/tsconfig.json` })],
    },
  },
  ...importRules({ root }),
  {
    // The same count as `wc -l`: blank lines and comments count.
    files: ['src/**/*.{ts,js}'],
    ignores: GENERATED,
    rules: { 'max-lines': ['error', { max: MAX_LINES, skipBlankLines: false, skipComments: false }] },
  },
);
