import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'src/generated/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        URLSearchParams: 'readonly',
        fetch: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // The core library stays usable without a runner: @actions/core is touched only by
    // the plumbing modules named in CONVENTIONS.md; entries read inputs only through specs.
    files: ['src/**/*.ts'],
    ignores: ['src/lib/inputs.ts', 'src/lib/log.ts', 'src/lib/run.ts', 'src/generated/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: '@actions/core', message: 'only inputs.ts, log.ts and run.ts talk to @actions/core' }] }],
    },
  },
  {
    files: ['src/lib/**/*.ts'],
    ignores: ['src/lib/inputs.ts', 'src/lib/log.ts', 'src/lib/run.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: '@actions/core', message: 'only inputs.ts, log.ts and run.ts talk to @actions/core' }],
          patterns: [{ group: ['**/actions/**', '**/cli/**'], message: 'src/lib never imports from src/actions or src/cli' }],
        },
      ],
    },
  },
);
