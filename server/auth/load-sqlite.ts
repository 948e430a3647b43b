/** node-sqlite3-wasm's exports: Database, Statement, SQLite3Error. */
export type SqliteModule = typeof import('node-sqlite3-wasm');

/**
 * Loads SQLite, on first use only: loading compiles 1.2 MB of WebAssembly (tens of ms), which
 * commands that never open the token database should not pay. In dist/server.js the module and
 * its .wasm are inside the bundle (esbuild.mjs); under tsx it is node_modules' copy.
 */
export async function loadSqlite(): Promise<SqliteModule> {
	// A CommonJS module imported from ESM is its `default`; esbuild's bundle gives the names as well.
	const loaded = (await import('node-sqlite3-wasm')) as SqliteModule & { readonly default?: SqliteModule };
	return loaded.default ?? loaded;
}
