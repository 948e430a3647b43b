import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AgentProcess } from '../../../extension/agent/agent-process';
import { createSinkLogger, type LogLevel } from '../../../extension/logger';
import { BerthError } from '../../../protocol/errors';

/**
 * A stand-in for dist/server.js: checks how it was started (token file, mode, argv), then prints
 * the agent's first line and a few JSON log lines, and exits on SIGTERM or when its parent's IPC
 * channel closes, as `berth server` does.
 */
const FAKE_AGENT = `
const { readFileSync, statSync } = require('node:fs');
const args = process.argv.slice(2);
const file = args[args.indexOf('--connection-token-file') + 1];
const token = readFileSync(file, 'utf8').trim();
const log = (fields) => process.stderr.write(JSON.stringify({ time: 'now', level: 'info', ...fields }) + '\\n');
if (process.env.FAKE_FAIL) { log({ level: 'error', message: 'listen EADDRINUSE' }); process.exit(5); }
log({ message: 'started', mode: (statSync(file).mode & 0o777).toString(8), argvHasToken: args.includes(token),
  hasIpc: typeof process.send === 'function', logFormat: args[args.indexOf('--log-format') + 1], tokenLength: token.length });
process.stdout.write('Berth agent listening on ws://127.0.0.1:4321\\nStatus page: http://127.0.0.1:4321/\\n');
log({ message: 'connection', type: 1, outcome: 'accepted', detail: 'session#1' });
log({ message: 'connection', type: 1, outcome: 'accepted', detail: 'session#2' });
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
setInterval(() => undefined, 1000);
`;

function setup(): {
	serverJs: string;
	storageDir: string;
	lines: [LogLevel, string][];
	log: ReturnType<typeof createSinkLogger>;
} {
	const dir = mkdtempSync(join(tmpdir(), 'berth-agent-process-'));
	const serverJs = join(dir, 'server.js');
	writeFileSync(serverJs, FAKE_AGENT);
	const lines: [LogLevel, string][] = [];
	const log = createSinkLogger(
		(level, text) => lines.push([level, text]),
		() => ['a-very-secret-token'],
	);
	return { serverJs, storageDir: join(dir, 'storage'), lines, log };
}

describe('AgentProcess', { timeout: 30_000 }, () => {
	it('hands the token over in a mode-0600 file, never on argv, and removes the file once started', async () => {
		const { serverJs, storageDir, lines, log } = setup();
		const agent = await AgentProcess.start({ serverJs, storageDir, token: 'a-very-secret-token', log });
		try {
			assert.equal(agent.url, 'ws://127.0.0.1:4321');
			const started = lines.find(([, text]) => text.startsWith('started'))?.[1];
			assert.match(started ?? '', /mode=600 argvHasToken=false hasIpc=true logFormat=json tokenLength=19/);
			assert.deepEqual(
				readdirSync(storageDir).filter((f) => f.startsWith('agent-token')),
				[],
			);
		} finally {
			await agent.stop();
		}
	});

	it('reports an expected exit after stop()', async () => {
		const { serverJs, storageDir, log } = setup();
		const agent = await AgentProcess.start({ serverJs, storageDir, token: 'a-very-secret-token', log });
		const exits: boolean[] = [];
		agent.onDidExit((exit) => exits.push(exit.expected));
		await agent.stop();
		assert.deepEqual(exits, [true]);
	});

	it('fails to start with the agent’s own last words when it exits first', async () => {
		const { serverJs, storageDir, log } = setup();
		process.env['FAKE_FAIL'] = '1';
		try {
			await assert.rejects(
				AgentProcess.start({ serverJs, storageDir, token: 'a-very-secret-token', log }),
				(error: unknown) =>
					error instanceof BerthError &&
					error.code === 'BERTH_ERR_LISTEN' &&
					/code 5.*EADDRINUSE/.test(error.message),
			);
		} finally {
			delete process.env['FAKE_FAIL'];
		}
	});
});
