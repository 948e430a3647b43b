// Builds the bundles: dist/extension.js (the VS Code extension, `vscode` external),
// dist/server.js (the `berth` CLI and agent: Node 20, every dependency inside, SQLite's WebAssembly
// too, so it runs alone), dist/askpass.js (ssh's prompts, asked in VS Code) and dist/webview.js
// (the panel, for the browser). `--watch` rebuilds on change; `--production` minifies. Type
// checking is not esbuild's job: `npm run typecheck`.
import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { inlineSqliteWasm } from './scripts/inline-sqlite-wasm.mjs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

/** The build's commit: git's HEAD, or the package version when not built from git. */
function buildCommit() {
	try {
		return execFileSync('git', ['rev-parse', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] })
			.toString()
			.trim();
	} catch {
		return pkg.version;
	}
}

const define = {
	__BERTH_VERSION__: JSON.stringify(pkg.version),
	__BERTH_COMMIT__: JSON.stringify(process.env.BERTH_COMMIT || buildCommit()),
};

/** Prints esbuild's problem-matcher lines ([watch] build started/finished, ✘ [ERROR] file:line:col). */
const problemMatcher = {
	name: 'problem-matcher',
	setup(build) {
		build.onStart(() => {
			if (watch) console.log('[watch] build started');
		});
		build.onEnd((result) => {
			for (const { text, location } of result.errors) {
				console.error(`✘ [ERROR] ${text}`);
				if (location) console.error(`    ${location.file}:${location.line}:${location.column}:`);
			}
			if (result.metafile) {
				for (const [file, info] of Object.entries(result.metafile.outputs)) {
					if (file.endsWith('.js')) console.log(`${file} ${(info.bytes / 1024).toFixed(1)} KiB`);
				}
			}
			if (watch) console.log('[watch] build finished');
		});
	},
};

// ws loads the optional native add-on `bufferutil` for frame masking; this pure JS + wasm SIMD
// module takes its place, so both Node bundles mask at native speed with no native add-on.
const wsMaskAlias = { bufferutil: './server/shared/transport/ws-mask.ts' };

/**
 * The extension bundle may hold the client library and what it shares with the agent, never the
 * agent itself (eslint enforces the imports; this checks what esbuild actually pulled in).
 */
const clientOnly = {
	name: 'client-only',
	setup(build) {
		build.onEnd((result) => {
			const inputs = Object.keys(result.metafile?.inputs ?? {});
			const agentFiles = inputs.filter(
				(file) => file.startsWith('server/') && !/^server\/(client|shared)\//.test(file),
			);
			if (agentFiles.length > 0) {
				result.errors.push({ text: `the extension bundle pulls in agent code: ${agentFiles.join(', ')}` });
				console.error(`✘ [ERROR] the extension bundle pulls in agent code: ${agentFiles.join(', ')}`);
				if (!watch) process.exitCode = 1;
			}
		});
	},
};

const common = {
	bundle: true,
	minify: production,
	sourcemap: production ? false : 'linked',
	sourcesContent: false,
	metafile: true,
	logLevel: 'warning',
	define,
	plugins: [problemMatcher],
};

/**
 * Node bundles stay pure ASCII, comments included (esbuild escapes strings itself, but keeps some
 * comments as written). Node reads a CommonJS file into one V8 string, kept for as long as the
 * code runs, and a single character past Latin-1 makes that whole string two bytes per character:
 * one '…' in a comment put 3.2 MB instead of 1.6 into every agent's and forward's heap, over V8's
 * 8 MB threshold for incremental marking, and under load V8 then ran a mark-compact every
 * 100-250 ms (80 per 2 GB through -L, ~1.5x the CPU per GB; bench/README.md "CPU per GB").
 */
const asciiOutput = {
	name: 'ascii-output',
	setup(build) {
		build.onEnd((result) => {
			const file = build.initialOptions.outfile;
			if (result.errors.length > 0 || !existsSync(file)) {
				return;
			}
			// Without the u flag the pattern matches UTF-16 code units, so a character past the BMP
			// becomes its two escaped surrogates, which is the same text in a string or a comment.
			const text = readFileSync(file, 'utf8');
			const ascii = text.replace(
				/[^\x00-\x7f]/g,
				(c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
			);
			if (ascii !== text) {
				writeFileSync(file, ascii);
			}
		});
	},
};

/** `berth` is dist/server.js run as a program (`npx berth`, the package's bin): it must be executable. */
const executable = {
	name: 'executable',
	setup(build) {
		build.onEnd((result) => {
			if (result.errors.length === 0) {
				chmodSync(build.initialOptions.outfile, 0o755);
			}
		});
	},
};

const contexts = await Promise.all([
	esbuild.context({
		...common,
		entryPoints: ['extension/extension.ts'],
		outfile: 'dist/extension.js',
		platform: 'node',
		format: 'cjs',
		target: 'node20',
		external: ['vscode', 'utf-8-validate'],
		alias: wsMaskAlias,
		plugins: [problemMatcher, clientOnly, asciiOutput],
	}),
	esbuild.context({
		...common,
		entryPoints: ['server/cli/bin.ts'],
		outfile: 'dist/server.js',
		platform: 'node',
		format: 'cjs',
		target: 'node20',
		banner: { js: '#!/usr/bin/env node' },
		// ws's other optional add-on; ws falls back to Node's own UTF-8 check without it.
		external: ['utf-8-validate'],
		alias: wsMaskAlias,
		// The token database's SQLite is WebAssembly, carried inside the bundle.
		plugins: [problemMatcher, inlineSqliteWasm, asciiOutput, executable],
	}),
	// ssh's askpass helper (extension/askpass/askpass-main.ts): ssh runs it, not VS Code, so it is a
	// program of its own, with no vscode in it (a `vscode` import fails this build).
	esbuild.context({
		...common,
		entryPoints: ['extension/askpass/askpass-main.ts'],
		outfile: 'dist/askpass.js',
		platform: 'node',
		format: 'cjs',
		target: 'node20',
		plugins: [problemMatcher, asciiOutput],
	}),
	esbuild.context({
		...common,
		entryPoints: ['webview/main.ts'],
		outfile: 'dist/webview.js',
		platform: 'browser',
		format: 'iife',
		target: 'es2022',
	}),
]);

if (watch) {
	await Promise.all(contexts.map((c) => c.watch()));
} else {
	await Promise.all(contexts.map((c) => c.rebuild()));
	await Promise.all(contexts.map((c) => c.dispose()));
}
