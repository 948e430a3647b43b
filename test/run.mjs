// `npm test`: every tier, in CI order, stopping at the first failure:
//   prettier --check → eslint → tsc --noEmit → unit → build → vsce package → integration → e2e
// `node test/run.mjs unit|integration|e2e|static` runs one tier. Integration and e2e tests need
// the real VS Code server: it is installed into .peer/ on first use (.ci/install-vscode-server.sh).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const tiers = process.argv.slice(2);
const want = (tier) => tiers.length === 0 || tiers.includes(tier);

function run(title, command, args, env = {}) {
	const started = Date.now();
	console.log(`\n▶ ${title}`);
	const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
	const seconds = ((Date.now() - started) / 1000).toFixed(1);
	if (result.status !== 0) {
		console.error(`✘ ${title} failed after ${seconds} s`);
		process.exit(result.status ?? 1);
	}
	console.log(`✔ ${title} (${seconds} s)`);
}

function findTests(dir, suffix) {
	const out = [];
	if (!existsSync(dir)) return out;
	for (const name of readdirSync(dir)) {
		const path = join(dir, name);
		if (statSync(path).isDirectory()) out.push(...findTests(path, suffix));
		else if (name.endsWith(suffix)) out.push(path);
	}
	return out.sort();
}

function nodeTest(title, files, concurrency) {
	if (files.length === 0) {
		console.error(`✘ ${title}: no test files found`);
		process.exit(1);
	}
	run(title, process.execPath, [
		'--import',
		'tsx',
		'--test',
		`--test-concurrency=${concurrency}`,
		'--test-reporter=spec',
		...files,
	]);
}

const npmBin = (name) => join(root, 'node_modules', '.bin', name);

if (want('static')) {
	run('prettier --check', npmBin('prettier'), ['--check', '.']);
	run('eslint', npmBin('eslint'), ['.']);
	run('tsc --noEmit (each runtime folder)', process.execPath, ['scripts/typecheck.mjs']);
}
if (want('unit')) {
	nodeTest('unit tests', findTests(join(root, 'test/unit'), '.test.ts'), 2);
}
if (want('integration') || want('e2e')) {
	run('build', process.execPath, ['esbuild.mjs']);
	run('real VS Code server (.peer/)', 'bash', ['.ci/install-vscode-server.sh'], {
		BERTH_PEER_NATIVE: process.env.BERTH_PEER_NATIVE ?? 'skip',
	});
}
if (want('integration')) {
	nodeTest('integration tests', findTests(join(root, 'test/integration'), '.test.ts'), 4);
}
if (want('e2e') && existsSync(join(root, 'test/e2e'))) {
	const e2e = findTests(join(root, 'test/e2e'), '.test.ts');
	if (e2e.length > 0) {
		// npm run package: the extension page's README (scripts/extension-readme.mjs), then vsce
		// (it also runs vscode:prepublish, a production build).
		run('vsce package', 'npm', ['run', '--silent', 'package']);
		nodeTest('e2e tests (real VS Code in Chromium)', e2e, 1);
	}
}
console.log('\nall tiers passed');
