import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { BerthError } from '../../../protocol/errors';
import { parseAgentUrl } from '../../../server/client/agent-url';
import {
	parseDeviceCompletion,
	runDeviceLogin,
	type DeviceCode,
	type DeviceLogin,
} from '../../../server/client/device-login';
import { ensureNoLeaks } from '../../helpers/leaks';
import type { ManualTimers } from '../../helpers/manual-timers';
import { waitFor } from '../../helpers/wait';

/**
 * The device flow's client (`berth login --server`, VS Code's Sign In): what it takes from a
 * completed poll (the agent key to pin), and how it polls a fake agent on loopback on a manual
 * clock: at the interval, slower after slow_down, and what denied, expired and invalid become.
 */

const FINGERPRINT = `SHA256:${'A'.repeat(43)}`;
const INTERVAL_S = 2;

/** A fake agent: the code answer, then one scripted poll answer per poll, each poll's clock time recorded. */
async function fakeAgent(
	t: TestContext,
	timers: ManualTimers,
	polls: readonly (readonly [status: number, body: Record<string, unknown>])[],
): Promise<{ url: string; pollTimes: number[] }> {
	const pollTimes: number[] = [];
	const server: Server = createServer((req, res) => {
		void readJson(req).then((body) => {
			res.setHeader('Content-Type', 'application/json');
			if (req.url === '/auth/device/code') {
				res.end(
					JSON.stringify({
						device_code: 'd'.repeat(43),
						user_code: 'ABC-234',
						verification_uri: 'http://127.0.0.1/auth/device',
						verification_uri_complete: 'http://127.0.0.1/auth/device?code=ABC-234',
						expires_in: 600,
						interval: INTERVAL_S,
						session: body['session_name'],
					}),
				);
				return;
			}
			assert.equal(body['device_code'], 'd'.repeat(43));
			const [status, answer] = polls[pollTimes.length] ?? [500, {}];
			pollTimes.push(timers.now());
			res.statusCode = status;
			res.end(JSON.stringify(answer));
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
	return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, pollTimes };
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
	let text = '';
	for await (const chunk of req) {
		text += String(chunk);
	}
	return JSON.parse(text) as Record<string, unknown>;
}

/**
 * Runs the client against `url`, moving the manual clock a second at a time whenever the client
 * is waiting on it (a timer pending), until the login settles.
 */
async function drive(
	timers: ManualTimers,
	url: string,
): Promise<{ result: DeviceLogin | BerthError; shown: DeviceCode[] }> {
	const shown: DeviceCode[] = [];
	let settled: DeviceLogin | BerthError | undefined;
	runDeviceLogin({
		address: parseAgentUrl(url),
		sessionName: 'laptop',
		timers,
		show: (code) => shown.push(code),
	}).then(
		(login) => (settled = login),
		(error: unknown) => (settled = error as BerthError),
	);
	await waitFor(
		() => {
			if (timers.pending > 0) {
				timers.advance(1_000);
			}
			return settled;
		},
		'the device login to end',
		10_000,
		1,
	);
	return { result: settled!, shown };
}

describe('the device flow client: a completed poll', () => {
	it('keeps the agent key to pin, and none when the agent names none', () => {
		assert.deepEqual(
			parseDeviceCompletion({
				status: 'complete',
				access_token: 'a.b.c',
				user_email: 'alice@example.com',
				agent_key: FINGERPRINT,
			}),
			{ token: 'a.b.c', email: 'alice@example.com', agentKey: FINGERPRINT },
		);
		assert.deepEqual(parseDeviceCompletion({ access_token: 'a.b.c', user_email: 'alice@example.com' }), {
			token: 'a.b.c',
			email: 'alice@example.com',
		});
	});

	it('refuses an answer without a token or email, or with an agent key that is no fingerprint', () => {
		const bad: Record<string, unknown>[] = [
			{ user_email: 'alice@example.com', agent_key: FINGERPRINT },
			{ access_token: 'a.b.c', agent_key: FINGERPRINT },
			{ access_token: 'a.b.c', user_email: 'alice@example.com', agent_key: 'SHA256:short' },
			{ access_token: 'a.b.c', user_email: 'alice@example.com', agent_key: 42 },
		];
		for (const body of bad) {
			assert.throws(
				() => parseDeviceCompletion(body),
				(error: unknown) => error instanceof BerthError && error.code === 'BERTH_ERR_CONNECT',
				JSON.stringify(body),
			);
		}
	});
});

describe('the device flow client: polling', () => {
	const check = ensureNoLeaks();

	it('polls at the interval, 5 s slower after slow_down, and returns the token with the agent key', async (t) => {
		const timers = check.timers();
		const agent = await fakeAgent(t, timers, [
			[200, { status: 'pending' }],
			[200, { status: 'slow_down' }],
			[200, { status: 'pending' }],
			[
				200,
				{
					status: 'complete',
					access_token: 'a.b.c',
					user_email: 'alice@example.com',
					agent_key: FINGERPRINT,
				},
			],
		]);
		const { result, shown } = await drive(timers, agent.url);
		assert.deepEqual(result, { token: 'a.b.c', email: 'alice@example.com', agentKey: FINGERPRINT });
		assert.equal(shown.length, 1);
		assert.equal(shown[0]!.userCode, 'ABC-234');
		assert.deepEqual(agent.pollTimes, [2_000, 4_000, 11_000, 18_000], 'every 2 s, then every 7 s');
	});

	it('stops on denied (refused), expired (timeout, naming the code) and invalid (connect), each in words', async (t) => {
		const cases = [
			[[200, { status: 'denied' }], 'BERTH_ERR_HANDSHAKE_REFUSED', /denied in the browser/],
			[[200, { status: 'expired' }], 'BERTH_ERR_TIMEOUT', /the code ABC-234 expired before it was approved/],
			[[400, { status: 'invalid' }], 'BERTH_ERR_CONNECT', /"invalid".*run berth login --server again/],
		] as const;
		for (const [poll, code, message] of cases) {
			const timers = check.timers();
			const agent = await fakeAgent(t, timers, [[200, { status: 'pending' }], poll]);
			const { result } = await drive(timers, agent.url);
			assert.ok(result instanceof BerthError, `${code}: ${String(result)}`);
			assert.equal(result.code, code);
			assert.match(result.message, message);
			assert.equal(agent.pollTimes.length, 2, 'no poll after the end');
		}
	});
});
