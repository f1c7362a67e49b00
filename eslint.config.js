// ESLint with typescript-eslint's recommended rules on the product code (the layer order is dependency-cruiser's
// job: .dependency-cruiser.cjs). No formatting rules: a formatter is a separate tool.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'test/fixtures/**', '**/*.cjs'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    rules: {
      // `_name` marks a binding kept on purpose (destructuring a field away)
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    // walks graphql-js AST nodes whose TypeScript types do not narrow by `kind` (h3/h2 own this file)
    files: ['engine/rego/builtins/graphql.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
