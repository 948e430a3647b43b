// esbuild bundles a CSS import into dist/webview.css beside dist/webview.js; it exports nothing.
declare module '*.css';
