import assert from 'node:assert/strict';
import { watch, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AgentProcess } from '../../extension/agent/agent-process';
import { createSinkLogger, type LogLevel } from '../../extension/logger';
import { BerthError } from '../../protocol/errors';
import { AgentConnection, parseAgentUrl } from '../../server/client';
import { createNodeTimers } from '../../server/shared/transport/node-timers';
import { SERVER_JS, tempDir } from '../helpers/agent-process';
import { freePort } from '../helpers/net';

const TOKEN = 'a-very-secret-token';
/** Loopback, on a port the system picks. */
const ANY_PORT = { host: '127.0.0.1', port: 0 };

/** The extension's view of the real dist/server.js: a storage folder, a log that keeps its lines. */
function setup(): {
	storageDir: string;
	lines: [LogLevel, string][];
	log: ReturnType<typeof createSinkLogger>;
} {
	const storageDir = join(tempDir('berth-agent-process-'), 'storage');
	const lines: [LogLevel, string][] = [];
	const log = createSinkLogger(
		(level, text) => lines.push([level, text]),
		() => [TOKEN],
	);
	return { storageDir, lines, log };
}

/** Modes of the token files that appear in `dir` while the watch is on. */
function watchTokenFileModes(dir: string): { modes: string[]; close(): void } {
	mkdirSync(dir, { recursive: true });
	const modes: string[] = [];
	const watcher = watch(dir, (_event, name) => {
		if (name?.startsWith('agent-token')) {
			try {
				modes.push((statSync(join(dir, name)).mode & 0o777).toString(8));
			} catch {
				// already removed (the rename event of the removal)
			}
		}
	});
	return { modes, close: () => watcher.close() };
}

describe('AgentProcess with the real agent', { timeout: 60_000 }, () => {
	it('hands the token over in a mode-0600 file, never on argv, and removes the file once started', async () => {
		const { storageDir, lines, log } = setup();
		const files = watchTokenFileModes(storageDir);
		const timers = createNodeTimers();
		const agent = await AgentProcess.start({
			...ANY_PORT,
			serverJs: SERVER_JS,
			storageDir,
			token: TOKEN,
			log,
			timers,
		});
		try {
			files.close();
			assert.match(agent.url, /^ws:\/\/127\.0\.0\.1:\d+$/);
			assert.ok(files.modes.length > 0, 'the token file was seen');
			assert.deepEqual([...new Set(files.modes)], ['600']);
			assert.deepEqual(
				readdirSync(storageDir).filter((f) => f.startsWith('agent-token')),
				[],
			);
			const argv = readFileSync(`/proc/${agent.pid}/cmdline`, 'utf8').split('\0');
			assert.ok(argv.includes('--connection-token-file'), argv.join(' '));
			assert.ok(!argv.some((arg) => arg.includes(TOKEN)), 'the token is not on argv');
			assert.ok(argv.includes('json'), 'logs as JSON lines');
			const { connection } = await AgentConnection.connect({
				address: parseAgentUrl(agent.url),
				token: TOKEN,
				mode: 'tcp',
				peer: 'berth',
				timers,
			});
			connection.close();
			assert.ok(
				lines.some(([, text]) => /agent started/.test(text)),
				'the agent’s JSON log reaches the extension’s log',
			);
			assert.ok(!lines.some(([, text]) => text.includes(TOKEN)), 'the token never reaches the log');
		} finally {
			files.close();
			await agent.stop();
		}
	});

	it('listens on the host and port it is given (tunnel access keeps its port across restarts)', async () => {
		const { storageDir, log } = setup();
		const port = await freePort();
		const agent = await AgentProcess.start({
			host: '127.0.0.1',
			port,
			serverJs: SERVER_JS,
			storageDir,
			token: TOKEN,
			log,
			timers: createNodeTimers(),
		});
		try {
			assert.equal(agent.url, `ws://127.0.0.1:${port}`);
		} finally {
			await agent.stop();
		}
	});

	it('reports an expected exit after stop()', async () => {
		const { storageDir, log } = setup();
		const agent = await AgentProcess.start({
			...ANY_PORT,
			serverJs: SERVER_JS,
			storageDir,
			token: TOKEN,
			log,
			timers: createNodeTimers(),
		});
		const exits: { expected: boolean; code: number | null }[] = [];
		agent.onDidExit((exit) => exits.push({ expected: exit.expected, code: exit.code }));
		await agent.stop();
		assert.deepEqual(exits, [{ expected: true, code: 0 }]);
	});

	it('fails to start with the agent’s own last words when it exits first', async () => {
		const { storageDir, log } = setup();
		// An empty token breaks the agent's token rule: it says so and exits with the usage code.
		await assert.rejects(
			AgentProcess.start({
				...ANY_PORT,
				serverJs: SERVER_JS,
				storageDir,
				token: '',
				log,
				timers: createNodeTimers(),
			}),
			(error: unknown) =>
				error instanceof BerthError &&
				error.code === 'BERTH_ERR_LISTEN' &&
				/code 2.*not a valid connection token/.test(error.message),
		);
		assert.deepEqual(
			readdirSync(storageDir).filter((f) => f.startsWith('agent-token')),
			[],
			'the token file is removed after a failed start too',
		);
	});
});
