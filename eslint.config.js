// Type-aware lint: an async runtime dies of forgotten promises, so no-floating-promises is an error.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'bench/peers/',
      '.switchboard/',
      'console/dist/',
      'coverage/',
      'test/.dev-*/',
      'test/.readme-*/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['eslint.config.js', '.dependency-cruiser.cjs', 'bin/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              name: ['describe', 'it', 'test', 'suite', 'before', 'after'],
              package: 'node:test',
            },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/ban-ts-comment': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Configuration is read in one place (src/config.ts); everything else receives its settings.
    files: ['src/**/*.ts'],
    ignores: ['src/config.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'read configuration through src/config.ts' },
      ],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/examples/**', '**/bench/**'], message: 'src/ must not import examples/ or bench/' },
          ],
        },
      ],
    },
  },
  {
    // Files stay small (STYLE.md 9). Every line counts, blank and comment lines too. 599, not 600:
    // ../shared/tools/arch-check.mjs counts split('\n'), one more than ESLint for a file ending in
    // a newline, and its "over 600" is the measure the project holds files to.
    // A function counts whole: a factory with its returned object literal is one function.
    files: ['src/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 599, skipBlankLines: false, skipComments: false }],
      'max-lines-per-function': [
        'error',
        { max: 150, skipBlankLines: false, skipComments: false, IIFEs: true },
      ],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
);
