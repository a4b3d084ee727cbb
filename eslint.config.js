import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['node_modules/**', 'cdk.out/**', 'bench/results/**', 'coverage/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // The domain is pure: no AWS SDK, no HTTP, no Powertools.
    files: ['shared/domain/**/*.ts'],
    rules: {
      // Type-only imports of port types are fine; values from SDKs, HTTP or adapters are not.
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@aws-sdk/*',
                '@aws-lambda-powertools/*',
                'node:http',
                'node:https',
                'undici',
                '../director/*',
                '../store/*',
              ],
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
);
