import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { BerthError } from '../../../protocol/errors';
import { toDisposable } from '../../../protocol/lifecycle';
import type { Timers } from '../../../protocol/timers';
import { parseAgentUrl } from '../../../server/client/agent-url';
import {
	parseDeviceCompletion,
	runDeviceLogin,
	type DeviceCode,
	type DeviceLoginEnd,
} from '../../../server/client/device-login';

/**
 * How the device flow's client ends: the token (and the agent key to pin) once approved, or an
 * error whose reason says why there is none, so a UI can word it without reading messages. The
 * agent is a loopback HTTP server with scripted answers; waits between polls are skipped.
 */

const FINGERPRINT = `SHA256:${'A'.repeat(43)}`;
const CODE_ANSWER = {
	device_code: 'd'.repeat(43),
	user_code: 'ABC-234',
	verification_uri: 'http://agent.example/auth/device',
	verification_uri_complete: 'http://agent.example/auth/device?code=ABC-234',
	expires_in: 600,
	interval: 1,
};

/** Timers whose waits end at once (the poll loop's pacing is not under test here). */
const immediate: Timers = {
	now: () => performance.now(),
	timeout: (fn) => {
		const handle = setImmediate(fn);
		return toDisposable(() => clearImmediate(handle));
	},
	interval: () => assert.fail('the poll loop uses no interval'),
};

type Answer = readonly [status: number, body: unknown];

/** An agent that answers the code request with `code` and each poll with the next of `polls`. */
async function startAgent(t: TestContext, code: Answer, polls: readonly Answer[] = []): Promise<string> {
	const queue = [...polls];
	const send = (res: ServerResponse, [status, body]: Answer) =>
		res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
	const server = createServer((req: IncomingMessage, res) => {
		req.resume();
		req.on('end', () => {
			if (req.url === '/auth/device/code') {
				send(res, code);
			} else {
				send(res, queue.shift() ?? [500, { error: 'no more answers scripted' }]);
			}
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
	return `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function login(url: string, options: { signal?: AbortSignal; shown?: DeviceCode[] } = {}) {
	return runDeviceLogin({
		address: parseAgentUrl(url),
		sessionName: 'VS Code on laptop',
		timers: immediate,
		show: (code) => options.shown?.push(code),
		...(options.signal ? { signal: options.signal } : {}),
	});
}

async function endOf(promise: Promise<unknown>): Promise<{ code: string; reason: string | undefined }> {
	try {
		await promise;
	} catch (error) {
		assert.ok(error instanceof BerthError, String(error));
		return { code: error.code, reason: error.reason };
	}
	return assert.fail('the sign-in gave a token');
}

describe('runDeviceLogin: how it ends', () => {
	it('returns the token, the email and the agent key once the person approved', async (t) => {
		const url = await startAgent(
			t,
			[200, CODE_ANSWER],
			[
				[200, { status: 'pending' }],
				[200, { status: 'slow_down' }],
				[
					200,
					{
						status: 'complete',
						access_token: 'a.b.c',
						user_email: 'alice@example.com',
						agent_key: FINGERPRINT,
					},
				],
			],
		);
		const shown: DeviceCode[] = [];
		assert.deepEqual(await login(url, { shown }), {
			token: 'a.b.c',
			email: 'alice@example.com',
			agentKey: FINGERPRINT,
		});
		assert.deepEqual(
			shown.map((c) => [c.userCode, c.verificationUriComplete]),
			[['ABC-234', CODE_ANSWER.verification_uri_complete]],
		);
	});

	const ends: [string, Answer, readonly Answer[], string, DeviceLoginEnd][] = [
		[
			'denied in the browser',
			[200, CODE_ANSWER],
			[[200, { status: 'denied' }]],
			'BERTH_ERR_HANDSHAKE_REFUSED',
			'denied',
		],
		['expired', [200, CODE_ANSWER], [[200, { status: 'expired' }]], 'BERTH_ERR_TIMEOUT', 'expired'],
		[
			'a used or unknown code',
			[200, CODE_ANSWER],
			[[400, { status: 'invalid' }]],
			'BERTH_ERR_CONNECT',
			'invalid',
		],
		['no device flow (404)', [404, { error: 'not found' }], [], 'BERTH_ERR_CONNECT', 'unsupported'],
		['a code answer that is not one', [200, { user_code: 'X' }], [], 'BERTH_ERR_CONNECT', 'unsupported'],
		[
			'too many codes asked for',
			[429, { code: 'too_many_requests' }],
			[],
			'BERTH_ERR_CONNECT',
			'too_many_requests',
		],
	];
	for (const [name, code, polls, errorCode, reason] of ends) {
		it(`says why there is no token: ${name}`, async (t) => {
			const url = await startAgent(t, code, polls);
			assert.deepEqual(await endOf(login(url)), { code: errorCode, reason });
		});
	}

	it('ends as cancelled when the signal aborts while it waits', async (t) => {
		const url = await startAgent(t, [200, CODE_ANSWER], [[200, { status: 'pending' }]]);
		const abort = new AbortController();
		const shown: DeviceCode[] = [];
		const ended = endOf(
			runDeviceLogin({
				address: parseAgentUrl(url),
				sessionName: 'VS Code on laptop',
				// Waits that never end on their own: only the abort ends this one.
				timers: { ...immediate, timeout: () => toDisposable(() => undefined) },
				show: (c) => (shown.push(c), abort.abort()),
				signal: abort.signal,
			}),
		);
		assert.deepEqual(await ended, { code: 'BERTH_ERR_CLOSED', reason: 'cancelled' });
		assert.equal(shown.length, 1);
	});
});

describe('parseDeviceCompletion', () => {
	it('keeps an agent_key that is a fingerprint, and refuses one that is not (never saved unpinned)', () => {
		const body = { status: 'complete', access_token: 't', user_email: 'e@x' };
		assert.equal(parseDeviceCompletion({ ...body, agent_key: FINGERPRINT }).agentKey, FINGERPRINT);
		assert.deepEqual(parseDeviceCompletion(body), { token: 't', email: 'e@x' });
		for (const agentKey of ['SHA256:short', 42, `MD5:${'A'.repeat(43)}`]) {
			assert.throws(
				() => parseDeviceCompletion({ ...body, agent_key: agentKey }),
				(e: unknown) => e instanceof BerthError && e.code === 'BERTH_ERR_CONNECT',
			);
		}
	});

	it('refuses an answer without a token or an email', () => {
		for (const body of [
			{ user_email: 'e@x' },
			{ access_token: 't' },
			{ access_token: 1, user_email: 'e@x' },
		]) {
			assert.throws(
				() => parseDeviceCompletion(body),
				(e: unknown) => e instanceof BerthError && e.code === 'BERTH_ERR_CONNECT',
			);
		}
	});
});
