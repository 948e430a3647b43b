// An esbuild plugin that puts node-sqlite3-wasm's WebAssembly inside the bundle, so that
// dist/server.js runs alone, with no node_modules and no .wasm beside it.
//
// node-sqlite3-wasm is an Emscripten build: at load it reads `node-sqlite3-wasm.wasm` from its own
// folder, unless `Module.wasmBinary` already holds the bytes. Its first statement is
// `var Module = typeof Module != "undefined" ? Module : {};`, so a `var Module = { wasmBinary }`
// placed before it is what it takes. The bytes are gzipped (1.2 MB → 0.5 MB, then base64) and
// unzipped when the module loads, which the store does on first use only.
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';

const EMSCRIPTEN_PRELUDE = 'var Module=typeof Module!="undefined"?Module:{};';

/** @type {import('esbuild').Plugin} */
export const inlineSqliteWasm = {
	name: 'inline-sqlite-wasm',
	setup(build) {
		build.onLoad({ filter: /[\\/]node-sqlite3-wasm[\\/]dist[\\/]node-sqlite3-wasm\.js$/ }, async (args) => {
			const js = await readFile(args.path, 'utf8');
			if (!js.startsWith(EMSCRIPTEN_PRELUDE)) {
				// A new version loads its .wasm another way: fail the build, not the first `berth token`.
				return { errors: [{ text: `${args.path} does not start as expected: update ${import.meta.url}` }] };
			}
			const wasm = gzipSync(await readFile(args.path.replace(/\.js$/, '.wasm')), { level: 9 });
			const prelude =
				`var Module = { wasmBinary: require('node:zlib').gunzipSync(Buffer.from(` +
				`${JSON.stringify(wasm.toString('base64'))}, 'base64')) };\n`;
			return { contents: prelude + js, loader: 'js' };
		});
	},
};
