// Type-checks each runtime folder against its own tsconfig: the folder is the runtime, so protocol/
// sees neither Node nor the DOM, webview/ sees no Node, and only extension/ sees `vscode`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const projects = ['protocol', 'server', 'extension', 'webview', 'test', 'test/e2e', 'bench'].filter((p) =>
	existsSync(`${p}/tsconfig.json`),
);
let failed = false;
for (const project of projects) {
	const result = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', project], {
		stdio: 'inherit',
	});
	if (result.status !== 0) {
		failed = true;
		console.error(`typecheck: ${project} failed`);
	}
}
process.exit(failed ? 1 : 0);
