import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodeMessage, MessageType } from '../../protocol/wire';
import { startAgent, type AgentProcess } from '../helpers/agent-process';
import { listenerHasReadEverything, vmRssMiB } from '../helpers/proc';
import { within } from '../helpers/wait';
import { WireClient } from '../helpers/wire-client';

/**
 * An authenticated peer that floods the agent with messages whose answers it never reads (the
 * review's 6f: +721 MiB for 25 MB of LatencyRequests), or asks it to Pause first (+462 MiB), or
 * floods ReplayRequests. The agent must stay within a small bound and keep serving others.
 */

/** LatencyRequests per flood: 25 MB on the wire, as in the review. */
const REQUESTS = 1_500_000;
const PAYLOAD = Buffer.alloc(4);
/** The most the agent's resident memory may grow during a flood (answers are bounded at 64 KiB queued). */
const FLOOD_RSS_BOUND_MIB = 48;

/** An authenticated Management session on the raw path, reading nothing from now on. */
async function deafSession(agent: AgentProcess): Promise<WireClient> {
	const client = await WireClient.raw(agent.port);
	const { reply } = await client.handshake({
		token: agent.token,
		connectionType: 1,
		args: {},
	});
	assert.deepEqual(reply, { type: 'ok' });
	client.socket.pause();
	return client;
}

/** Writes `count` copies of `message` in batches, waiting for the socket to drain between them. */
async function flood(client: WireClient, message: Uint8Array, count: number): Promise<void> {
	const batch = Buffer.concat(Array.from({ length: 10_000 }, () => message));
	for (let sent = 0; sent < count; sent += 10_000) {
		if (!client.socket.write(batch)) {
			await new Promise<void>((resolve, reject) => {
				client.socket.once('drain', resolve);
				client.socket.once('close', () => reject(new Error('the agent closed the flooding session')));
			});
		}
	}
}

async function goodClientWorks(agent: AgentProcess): Promise<void> {
	const client = await WireClient.raw(agent.port);
	try {
		const { reply } = await within(
			client.handshake({ token: agent.token, connectionType: 1, args: {} }),
			5_000,
			'a good client',
		);
		assert.deepEqual(reply, { type: 'ok' });
	} finally {
		client.destroy();
	}
}

describe('an authenticated peer that floods and never reads', () => {
	let agent: AgentProcess;
	before(async () => {
		agent = await startAgent();
	});
	after(async () => {
		assert.equal(await agent.stop(), 0, 'the agent survived every flood and stopped cleanly');
	});

	const floods: { name: string; pauseFirst: boolean; type: MessageType }[] = [
		{ name: 'LatencyRequests', pauseFirst: false, type: MessageType.LatencyRequest },
		{ name: 'LatencyRequests after a Pause', pauseFirst: true, type: MessageType.LatencyRequest },
		{ name: 'ReplayRequests', pauseFirst: false, type: MessageType.ReplayRequest },
	];
	for (const { name, pauseFirst, type } of floods) {
		it(`grows the agent by less than ${FLOOD_RSS_BOUND_MIB} MiB for 1.5 M ${name}`, async () => {
			const pid = agent.child.pid!;
			await goodClientWorks(agent); // warm: the first session's allocations are not the flood's
			const client = await deafSession(agent);
			try {
				const before = vmRssMiB(pid);
				if (pauseFirst) {
					client.socket.write(encodeMessage(MessageType.Pause, 0, 0));
				}
				const message = encodeMessage(type, 0, 0, type === MessageType.LatencyRequest ? PAYLOAD : undefined);
				await within(flood(client, message, REQUESTS), 60_000, 'the flood');
				await listenerHasReadEverything(agent.port, 60_000); // the kernel may hold the whole flood
				const grown = vmRssMiB(pid) - before;
				assert.ok(grown < FLOOD_RSS_BOUND_MIB, `the agent grew by ${grown.toFixed(0)} MiB`);
				await goodClientWorks(agent);
				assert.equal(agent.child.exitCode, null, 'the agent is still running');
			} finally {
				client.destroy();
			}
		});
	}
});
