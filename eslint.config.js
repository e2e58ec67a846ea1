// Lint rules for the whole project: typescript-eslint's recommended set plus a few house rules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The layers, bottom up (docs/architecture.md): each part may import only the parts listed for it.
// cli/ sits on top and may import anything; bench/, test/ and scripts/ are outside the layers.
const PARTS = {
  'src/lib': [],
  'src/recipe': ['lib'],
  'src/userdata': ['lib', 'recipe'],
  'data-sync/src': ['lib', 'recipe'],
  'src/installer': ['lib', 'recipe', 'userdata'],
  'src/serve': ['lib', 'recipe', 'data-sync'],
  'src/ec2': ['lib', 'recipe', 'userdata'],
  'src/release': ['lib'],
  'src/publish': ['lib', 'recipe', 'data-sync'],
  'src/agent': ['lib', 'recipe', 'userdata', 'serve', 'data-sync'],
};
const NAMES = [
  'lib',
  'recipe',
  'userdata',
  'data-sync',
  'installer',
  'serve',
  'ec2',
  'release',
  'publish',
  'agent',
  'cli',
];
const layerRules = Object.entries(PARTS).map(([folder, allowed]) => {
  const own = folder === 'data-sync/src' ? 'data-sync' : folder.slice('src/'.length);
  const forbidden = NAMES.filter((n) => n !== own && !allowed.includes(n));
  return {
    files: [`${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: forbidden.map((name) => ({
            group: [`**/${name}/*`, `**/${name}/**`],
            message: `${folder} may import only ${allowed.join(', ') || 'nothing of gitstrap'} (the layers: eslint.config.js, docs/architecture.md)`,
          })),
        },
      ],
    },
  };
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'demo/**/*.js', 'test/**/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
      eqeqeq: ['error', 'smart'],
      'prefer-const': 'error',
    },
  },
  ...layerRules,
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        exports: 'writable',
        module: 'writable',
        require: 'readonly',
        TextDecoder: 'readonly',
      },
    },
  },
);
