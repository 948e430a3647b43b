import type { Plugin } from 'esbuild';

/** Puts node-sqlite3-wasm's WebAssembly inside the bundle (see inline-sqlite-wasm.mjs). */
export declare const inlineSqliteWasm: Plugin;
