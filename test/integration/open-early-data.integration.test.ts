import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startAgent, startForward, type AgentProcess } from '../helpers/agent-process';
import { freePort, readAll, serve, sha256 } from '../helpers/net';
import { within } from '../helpers/wait';

/** Connections tried per case: a refusal races the client's bytes, so one try proves little. */
const ATTEMPTS = 10;

/** How one connection through a forward ended, as its client saw it. */
interface Outcome {
	readonly received: number;
	/** The peer's FIN arrived (a clean end). */
	readonly ended: boolean;
	readonly errorCode: string | undefined;
}

/**
 * Connects to `port` and writes `payload` at once, before the connection is even up (Node sends
 * it the moment it is), then half-closes if asked; resolves when the socket closes.
 */
function attempt(port: number, payload: Buffer, halfClose: boolean): Promise<Outcome> {
	return new Promise((resolve) => {
		let received = 0;
		let ended = false;
		let errorCode: string | undefined;
		const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
		socket.on('data', (chunk: Buffer) => (received += chunk.length));
		socket.on('end', () => (ended = true));
		socket.on('error', (error: NodeJS.ErrnoException) => (errorCode ??= error.code));
		socket.on('close', () => resolve({ received, ended, errorCode }));
		if (halfClose) {
			socket.end(payload);
		} else {
			socket.write(payload);
		}
	});
}

/** Every outcome must be a reset: ECONNRESET, nothing received, no clean end. */
async function assertEveryAttemptReset(port: number): Promise<void> {
	for (let i = 0; i < ATTEMPTS; i++) {
		const halfClose = i % 2 === 0;
		const outcome = await within(
			attempt(port, Buffer.from('GET / HTTP/1.0\r\n\r\n'), halfClose),
			5_000,
			'the reset',
		);
		assert.deepEqual(
			outcome,
			{ received: 0, ended: false, errorCode: 'ECONNRESET' },
			`attempt ${i + 1} (${halfClose ? 'bytes and FIN' : 'bytes'}) must end in a reset, not an empty success`,
		);
	}
}

describe('opening a forwarded connection: the first bytes ride behind the Open', () => {
	let agent: AgentProcess;
	before(async () => {
		agent = await startAgent();
	});
	after(async () => {
		await agent.stop();
	});

	it('-L: bytes and FIN sent before the agent reached the target arrive whole and in order', async () => {
		// Answers with the digest of everything it read, once the client's FIN came.
		const target = await serve((socket) => {
			void readAll(socket).then((bytes) => socket.end(sha256(bytes)));
		});
		const { cli, ports } = await startForward(agent, ['-L', `0:127.0.0.1:${target.port}`]);
		try {
			for (const size of [1, 1_500, 60 * 1024]) {
				const payload = randomBytes(size);
				const socket = connect({ port: ports[0]!, host: '127.0.0.1', allowHalfOpen: true });
				const reply = readAll(socket);
				socket.end(payload);
				assert.equal((await within(reply, 5_000, 'the digest')).toString(), sha256(payload), `${size} bytes`);
			}
		} finally {
			await cli.stop();
			await target.close();
		}
	});

	it('-L: a refused target resets the local connection that already wrote: ECONNRESET, never an empty success', async () => {
		const closed = await freePort();
		const { cli, ports } = await startForward(agent, ['-L', `0:127.0.0.1:${closed}`]);
		try {
			await assertEveryAttemptReset(ports[0]!);
			await cli.waitForStderr(new RegExp(`connect ECONNREFUSED 127\\.0\\.0\\.1:${closed}`));
		} finally {
			await cli.stop();
		}
	});

	it('-L: a target the agent’s policy denies resets it the same way', async () => {
		const target = await serve((socket) => socket.end('must not be reached'));
		const strict = await startAgent({ args: ['--deny', `127.0.0.1:${target.port}`] });
		const { cli, ports } = await startForward(strict, ['-L', `0:127.0.0.1:${target.port}`]);
		try {
			await assertEveryAttemptReset(ports[0]!);
		} finally {
			await cli.stop();
			await strict.stop();
			await target.close();
		}
	});

	it('-R: a refused target on the client’s side resets the connection to the agent’s port', async () => {
		const closed = await freePort();
		const { cli, ports } = await startForward(agent, ['-R', `0:127.0.0.1:${closed}`]);
		try {
			await assertEveryAttemptReset(ports[0]!);
		} finally {
			await cli.stop();
		}
	});
});
