// Lint rules that guard the architecture: each runtime folder may import only what its runtime has
// (the folder is the runtime), no floating promises, and no console in library code.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The agent's own folders under server/ (the globs match import paths). */
const AGENT_FOLDERS = [
	'**/auth/**',
	'**/handshake/**',
	'**/http/**',
	'**/management/**',
	'**/mux/**',
	'**/tunnel/**',
	'**/forward/**',
];

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
	// server/ holds two roles and what they share (chisel's share/): the agent (agent.ts,
	// connection-token.ts and its folders), the client library (client/), and shared/ (Node code
	// both use). Only cli/, which wires both roles into one binary, may import both.
	...[
		{
			files: ['server/shared/**/*.ts'],
			message: 'server/shared/ is imported by both roles: it may use protocol/ and shared/ only.',
			banned: ['**/client/**', '**/cli/**', AGENT_FOLDERS, '**/agent', '**/connection-token'].flat(),
		},
		{
			files: ['server/client/**/*.ts'],
			message: 'The client library may use protocol/ and server/shared/ only, never the agent.',
			banned: ['**/cli/**', AGENT_FOLDERS, '**/agent', '**/connection-token'].flat(),
		},
		{
			files: ['server/*.ts', AGENT_FOLDERS.map((f) => `server/${f.slice(3)}/**/*.ts`)].flat(),
			message: 'The agent may use protocol/ and server/shared/ only, never the client library or the CLI.',
			banned: ['**/client/**', '**/cli/**'],
		},
		{ files: ['server/cli/**/*.ts'], message: '', banned: [] },
	].map(({ files, message, banned }) => ({
		files,
		rules: {
			'no-restricted-imports': [
				'error',
				{
					patterns: [
						{ group: ['vscode'], message: 'Only extension/ imports vscode.' },
						{ group: ['**/extension/**', '**/webview/**'], message: 'server/ may use protocol/ only.' },
						...(banned.length > 0 ? [{ group: banned, message }] : []),
					],
				},
			],
		},
	})),
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
						{
							regex: '(^|/)server/(?!client/index$)',
							message: 'extension/ reaches the server code through server/client/index.ts only.',
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
