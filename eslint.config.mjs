// Lint rules that guard the architecture: each runtime folder may import only what its runtime has
// (the folder is the runtime), no floating promises, and no console in library code.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['node:*', 'fs', 'net', 'http', 'https', 'tls', 'crypto', 'os', 'path', 'child_process'];

export default tseslint.config(
	{
		ignores: [
			'dist/**',
			'node_modules/**',
			'.peer/**',
			'test-results/**',
			'bench/out/**',
			'**/*.mjs',
			'**/*.js',
		],
	},
	js.configs.recommended,
	...tseslint.configs.recommended,
	{
		files: ['**/*.ts'],
		languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
		rules: {
			'@typescript-eslint/no-floating-promises': 'error',
			'@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
			'@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
			eqeqeq: 'error',
			curly: 'error',
			'no-console': 'error',
		},
	},
	{
		files: ['protocol/**/*.ts'],
		rules: {
			'no-restricted-imports': [
				'error',
				{
					patterns: [
						{
							group: nodeBuiltins,
							message: 'protocol/ is neutral: no Node APIs (pass them in from server/).',
						},
						{ group: ['vscode', 'ws'], message: 'protocol/ is neutral: no vscode, no ws.' },
						{
							group: ['**/server/**', '**/extension/**', '**/webview/**'],
							message: 'protocol/ imports nothing outside itself.',
						},
					],
				},
			],
		},
	},
	{
		files: ['server/**/*.ts'],
		rules: {
			'no-restricted-imports': [
				'error',
				{
					patterns: [
						{ group: ['vscode'], message: 'Only extension/ imports vscode.' },
						{ group: ['**/extension/**', '**/webview/**'], message: 'server/ may use protocol/ only.' },
					],
				},
			],
		},
	},
	{
		files: ['extension/**/*.ts'],
		rules: {
			'no-restricted-imports': [
				'error',
				{
					patterns: [
						{
							group: ['**/webview/**'],
							message: 'The webview is its own bundle: share types through protocol/webview.ts.',
						},
					],
				},
			],
		},
	},
	{
		files: ['webview/**/*.ts'],
		rules: {
			'no-restricted-imports': [
				'error',
				{
					patterns: [
						{ group: [...nodeBuiltins, 'vscode', 'ws'], message: 'webview/ runs in the browser: DOM only.' },
						{ group: ['**/server/**', '**/extension/**'], message: 'webview/ may use protocol/ only.' },
					],
				},
			],
		},
	},
	{
		files: ['test/**/*.ts', 'bench/**/*.ts', 'server/cli/**/*.ts'],
		rules: { 'no-console': 'off' },
	},
	{
		files: ['test/**/*.ts'],
		rules: {
			// node:test's describe/it return promises that the runner itself awaits.
			'@typescript-eslint/no-floating-promises': [
				'error',
				{
					allowForKnownSafeCalls: [
						{
							from: 'package',
							package: 'node:test',
							name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
						},
					],
				},
			],
		},
	},
);
