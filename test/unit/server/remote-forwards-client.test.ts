import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BerthError } from '../../../protocol/errors';
import type { AddForwardParams, ForwardInfo } from '../../../protocol/rpc';
import { RemoteForwardsClient } from '../../../server/client/remote-forwards-client';
import type { StreamSession } from '../../../server/client/stream-session';
import { ensureNoLeaks } from '../../helpers/leaks';
import { ManualTimers } from '../../helpers/manual-timers';

/** A stand-in for a stream session: its RPC lane answers `addForward`, and `removeForward` as told. */
function fakeSession(removeForward: () => Promise<Record<string, never>>): StreamSession {
	const request = (method: string, params: unknown): Promise<unknown> => {
		if (method === 'addForward') {
			const p = params as AddForwardParams & { id: string };
			return Promise.resolve(infoFor(p.id, 'active'));
		}
		return removeForward();
	};
	return { rpc: { request } } as unknown as StreamSession;
}

function infoFor(id: string, state: ForwardInfo['state']): ForwardInfo {
	return {
		id,
		direction: 'remote',
		bindHost: '127.0.0.1',
		bindPort: 9000,
		targetHost: 'localhost',
		targetPort: 3000,
		state,
		counters: { open: 0, total: 0, bytesIn: 0, bytesOut: 0 },
	};
}

const PARAMS: AddForwardParams = { id: 'r1', bindPort: 9000, targetHost: 'localhost', targetPort: 3000 };

describe('RemoteForwardsClient', () => {
	const leaks = ensureNoLeaks();

	it('takes the agent’s forwardChanged for a forward it holds, and ignores malformed ones', async () => {
		const remotes = leaks.track(new RemoteForwardsClient(new ManualTimers()));
		await remotes.add(
			fakeSession(() => Promise.resolve({})),
			PARAMS,
		);
		const seen: ForwardInfo[] = [];
		remotes.onDidChange((info) => seen.push(info));
		const moved = { ...infoFor('r1', 'active'), counters: { open: 1, total: 1, bytesIn: 5, bytesOut: 7 } };
		remotes.receive({ event: 'forwardChanged', data: moved });
		remotes.receive({ event: 'forwardChanged', data: { id: 'r1', counters: 'lots' } as never });
		remotes.receive({ event: 'forwardChanged', data: infoFor('someone-else', 'active') });
		assert.deepEqual(seen, [moved]);
		assert.deepEqual(remotes.list(), [moved]);
		remotes.dispose();
	});

	it('reports a removeForward the agent did not confirm, and forgets the forward anyway', async () => {
		const remotes = leaks.track(new RemoteForwardsClient(new ManualTimers()));
		const session = fakeSession(() => Promise.reject(new BerthError('BERTH_ERR_TIMEOUT', 'no answer')));
		await remotes.add(session, PARAMS);
		await assert.rejects(remotes.remove(session, 'r1'), (error: unknown) => {
			return (
				error instanceof BerthError &&
				error.code === 'BERTH_ERR_TIMEOUT' &&
				/did not confirm/.test(error.message)
			);
		});
		assert.deepEqual(remotes.list(), []);
		remotes.dispose();
	});

	it('does not report a removal when the session ended meanwhile (its listeners ended with it)', async () => {
		const remotes = leaks.track(new RemoteForwardsClient(new ManualTimers()));
		const session = fakeSession(() =>
			Promise.reject(new BerthError('BERTH_ERR_CLOSED', 'the connection closed')),
		);
		await remotes.add(session, PARAMS);
		const seen: ForwardInfo['state'][] = [];
		remotes.onDidChange((info) => seen.push(info.state));
		await remotes.remove(session, 'r1');
		assert.deepEqual(seen, ['closed']);
		remotes.dispose();
	});
});
