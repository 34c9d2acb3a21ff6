import tseslint from 'typescript-eslint';

const ioModules = [
  'node:*',
  'fs',
  'fs/*',
  'path',
  'http',
  'https',
  'net',
  'crypto',
  'child_process',
  'os',
  'postgres',
  'pg',
  'drizzle-orm',
  'drizzle-orm/*',
  '@electric-sql/*',
  'hono',
  'hono/*',
  '@hono/*',
  'date-holidays',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
  '@temporalio/testing',
  // Not I/O, but loading it costs ~25 ms and ~1 MB in every workflow sandbox: validation belongs to the API.
  'zod',
];

export default tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', '.data/**', 'bench/results/**', 'db/migrations/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code is replayed: it must stay deterministic and free of I/O. Types may still be imported.
    // domain/ is pure too: workflows call it. holidays.ts is the exception, resolved outside workflows.
    files: ['workflows/**/*.ts', 'domain/**/*.ts'],
    // policy.ts holds the zod schema; workflows import it by type only, and the rule keeps it that way.
    ignores: ['domain/holidays.ts', 'domain/policy.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ioModules, allowTypeImports: true, message: 'Workflow code must not do I/O: call an activity instead.' },
            { group: ['../activities/*', '../../activities/*', '../worker/*', '../api/*', '../db/*'], allowTypeImports: true, message: 'Workflows import activities by type only (proxyActivities).' },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'Workflow code must not read the environment.' }],
    },
  },
);
