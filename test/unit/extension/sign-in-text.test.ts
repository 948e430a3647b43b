import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BerthError } from '../../../protocol/errors';
import type { ErrorAction } from '../../../extension/error-text';
import {
	agentPickItems,
	codeMessage,
	describeSignInEnd,
	signedInMessage,
	signingInTitle,
	signInEndOf,
	timeLeft,
	waitingMessage,
} from '../../../extension/sign-in-text';

const agent = { url: 'ws://host:8765', host: 'host', port: 8765 };

/** An error as runDeviceLogin throws it: a code, the CLI's message, and the reason the UI reads. */
function ended(code: BerthError['code'], reason: string): BerthError {
	return new BerthError(code, 'the code expired: run berth login --server again', reason);
}

describe('Sign In to Agent: words', () => {
	it("speaks as VS Code's own sign-in does", () => {
		assert.equal(signingInTitle('ws://host:8765'), 'Signing in to Berth agent ws://host:8765');
		assert.equal(
			signedInMessage('alice@example.com', 'wss://agent.example'),
			'Signed in as alice@example.com (Berth agent wss://agent.example).',
		);
		assert.equal(
			codeMessage('ws://host:8765', 'ABC-234'),
			"Sign in to Berth agent ws://host:8765: your one-time code is ABC-234. Copy it, open the agent's sign-in page and approve this device there.",
		);
	});

	it('says how long the code stays valid, in minutes and then seconds', () => {
		const rows: [number, string][] = [
			[600, '10 min'],
			[541, '10 min'],
			[60, '1 min'],
			[59, '59 s'],
			[0.4, '0 s'],
			[-3, '0 s'],
		];
		for (const [seconds, words] of rows) {
			assert.equal(timeLeft(seconds), words, String(seconds));
		}
		assert.equal(
			waitingMessage('ABC-234', 125),
			'approve the one-time code ABC-234 in the browser (3 min left)',
		);
	});
});

describe('Sign In to Agent: how a sign-in ended', () => {
	const rows: [string, unknown, RegExp, ErrorAction, 'info' | 'error'][] = [
		[
			'cancelled',
			ended('BERTH_ERR_CLOSED', 'cancelled'),
			/^Sign-in to Berth agent ws:\/\/host:8765 cancelled\.$/,
			'none',
			'info',
		],
		[
			'denied',
			ended('BERTH_ERR_HANDSHAKE_REFUSED', 'denied'),
			/^The sign-in to Berth agent ws:\/\/host:8765 was denied in the browser\.$/,
			'retry',
			'error',
		],
		[
			'expired',
			ended('BERTH_ERR_TIMEOUT', 'expired'),
			/^The one-time code for Berth agent ws:\/\/host:8765 expired before it was approved\. Sign in again for a new code\.$/,
			'retry',
			'error',
		],
		['invalid', ended('BERTH_ERR_CONNECT', 'invalid'), /no longer knows this sign-in/, 'retry', 'error'],
		[
			'unsupported',
			ended('BERTH_ERR_CONNECT', 'unsupported'),
			/^ws:\/\/host:8765 does not offer sign-in: it is not a Berth agent with accounts\. Connect to it with its connection token instead\.$/,
			'connect',
			'error',
		],
		[
			'too many codes',
			ended('BERTH_ERR_CONNECT', 'too_many_requests'),
			/no more one-time codes for now\. Try again in a minute\.$/,
			'retry',
			'error',
		],
		[
			'unreachable (a connection failure, worded as Connect to Agent words it)',
			new BerthError('BERTH_ERR_CONNECT', 'cannot reach', undefined, {
				cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
			}),
			/^Nothing is listening at host:8765\./,
			'retry',
			'error',
		],
		[
			'an untrusted certificate',
			new BerthError('BERTH_ERR_TLS_UNTRUSTED', 'x', undefined, {
				cause: Object.assign(new Error('x'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }),
			}),
			/does not trust the TLS certificate/,
			'trustCa',
			'error',
		],
	];
	for (const [name, error, message, action, severity] of rows) {
		it(`words ${name}`, () => {
			const text = describeSignInEnd(error, agent);
			assert.match(text.message, message);
			assert.deepEqual([text.action, text.severity], [action, severity]);
			assert.doesNotMatch(text.message, /berth login|--/, 'no CLI command reaches the user');
		});
	}

	it('reads the reason, never the message, and only the device flow’s reasons', () => {
		assert.equal(signInEndOf(ended('BERTH_ERR_TIMEOUT', 'expired')), 'expired');
		assert.equal(signInEndOf(new BerthError('BERTH_ERR_TIMEOUT', 'the code expired')), undefined);
		assert.equal(
			signInEndOf(new BerthError('BERTH_ERR_HANDSHAKE_REFUSED', 'x', 'Unauthorized client refused')),
			undefined,
		);
		assert.equal(signInEndOf(new Error('denied')), undefined);
		assert.equal(signInEndOf(undefined), undefined);
	});
});

describe('Sign In to Agent: which agent', () => {
	it('lists agents whose token was refused first, and says where each stands', () => {
		const items = agentPickItems([
			{ id: 'ws://a:1', state: 'connected', user: 'alice@example.com' },
			{ id: 'ws://b:2', state: 'connected' },
			{ id: 'wss://c', state: 'failed', user: 'alice@example.com', tokenProblem: 'revoked' },
			{ id: 'ws://d:4', state: 'saved' },
			{ id: 'ws://e:5', state: 'reconnecting', user: 'bob@example.com' },
			{ id: 'ws://f:6', state: 'connecting' },
		]);
		assert.deepEqual(
			items.map((i) => [i.agentId, i.label, i.description]),
			[
				['wss://c', 'wss://c', 'token revoked: sign in again'],
				['ws://a:1', 'ws://a:1', 'connected, signed in as alice@example.com'],
				['ws://b:2', 'ws://b:2', 'connected, with its connection token'],
				['ws://d:4', 'ws://d:4', 'not connected'],
				['ws://e:5', 'ws://e:5', 'reconnecting, signed in as bob@example.com'],
				['ws://f:6', 'ws://f:6', 'connecting…'],
			],
		);
		assert.deepEqual(agentPickItems([]), []);
	});
});
