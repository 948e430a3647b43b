/**
 * The build's identity. esbuild.mjs defines both values when it bundles; unbundled runs (unit
 * tests under tsx) see the development fallback.
 */

declare const __BERTH_VERSION__: string | undefined;
declare const __BERTH_COMMIT__: string | undefined;

/** package.json's version. */
export const BERTH_VERSION: string = typeof __BERTH_VERSION__ === 'string' ? __BERTH_VERSION__ : '0.0.0-dev';

/** The git commit the build came from, or the version when it was not built from git. */
export const BERTH_COMMIT: string = typeof __BERTH_COMMIT__ === 'string' ? __BERTH_COMMIT__ : BERTH_VERSION;
