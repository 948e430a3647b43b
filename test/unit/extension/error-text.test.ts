import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BerthError, HandshakeReason } from '../../../protocol/errors';
import { tokenRefusalReason } from '../../../protocol/token-refusal';
import {
	describeAgentExit,
	describeConnectError,
	describeSignInNeeded,
	describeTokenProblem,
	tokenProblemOf,
	describeForwardError,
	describeForwardFailure,
	describeTunnelStartError,
	errnoOf,
	type ErrorAction,
} from '../../../extension/error-text';

const agent = { url: 'ws://host:8765', host: 'host', port: 8765 };

/** A Node socket error as the client library wraps it: a BerthError whose cause has the errno. */
function socketError(errno: string): BerthError {
	const cause = Object.assign(new Error(`connect ${errno} 10.0.0.1:8765`), { code: errno });
	return new BerthError('BERTH_ERR_CONNECT', `cannot reach ws://host:8765: ${cause.message}`, undefined, {
		cause,
	});
}

/** A certificate that failed verification, as the client library reports it (server/client/tls-failure.ts). */
function tlsError(code: string): BerthError {
	const cause = Object.assign(new Error(code), { code });
	return new BerthError('BERTH_ERR_TLS_UNTRUSTED', `wss://host:8765: … --ca-file …`, undefined, { cause });
}

describe('describeConnectError', () => {
	const table: [string, unknown, RegExp, ErrorAction][] = [
		[
			'a wrong token',
			new BerthError('BERTH_ERR_HANDSHAKE_REFUSED', 'x', HandshakeReason.AuthMismatch),
			/^The agent at ws:\/\/host:8765 refused the connection token\.$/,
			'enterToken',
		],
		[
			'a missing token',
			new BerthError('BERTH_ERR_HANDSHAKE_REFUSED', 'x', HandshakeReason.Unauthorized),
			/refused the connection token/,
			'enterToken',
		],
		[
			'too many wrong tokens',
			new BerthError(
				'BERTH_ERR_HANDSHAKE_REFUSED',
				'x',
				`${HandshakeReason.TooManyAttempts}; try again in 6 s`,
			),
			/too many wrong tokens came from this address\. Try again in 6 s\.$/,
			'retry',
		],
		[
			'a server that cannot sign',
			new BerthError('BERTH_ERR_SERVER_UNVERIFIED', 'x'),
			/did not prove it knows the token: is this a VS Code server\? Choose VS Code server when connecting\./,
			'connect',
		],
		[
			'nothing listening',
			socketError('ECONNREFUSED'),
			/^Nothing is listening at host:8765\. Is "berth server" running there\?$/,
			'retry',
		],
		['an unknown name', socketError('ENOTFOUND'), /^The host name host was not found/, 'retry'],
		['no route', socketError('EHOSTUNREACH'), /cannot be reached from this machine/, 'retry'],
		['a reset', socketError('ECONNRESET'), /closed the connection at once/, 'retry'],
		[
			'an untrusted certificate that arrived unwrapped (never a retry)',
			socketError('DEPTH_ZERO_SELF_SIGNED_CERT'),
			/does not trust the TLS certificate of host:8765\. If a private CA signed it, set Berth's CA file \(berth\.tls\.caFile\) to that CA\.$/,
			'trustCa',
		],
		[
			'an untrusted certificate',
			tlsError('SELF_SIGNED_CERT_IN_CHAIN'),
			/^This machine does not trust the TLS certificate of host:8765\. .*berth\.tls\.caFile/,
			'trustCa',
		],
		[
			'a certificate for another name',
			tlsError('ERR_TLS_CERT_ALTNAME_INVALID'),
			/^The TLS certificate of host:8765 is not valid for the name host\. Connect by a name the certificate lists\.$/,
			'none',
		],
		[
			'an expired certificate',
			tlsError('CERT_HAS_EXPIRED'),
			/^The TLS certificate of host:8765 is out of its dates .*clock/,
			'none',
		],
		[
			'a revoked user token',
			new BerthError('BERTH_ERR_TOKEN_REVOKED', 'x', tokenRefusalReason('revoked')),
			/^Your token for ws:\/\/host:8765 was revoked: sign in again, in the browser or with a new init URL from the agent's owner\.$/,
			'signIn',
		],
		[
			'an expired user token',
			new BerthError('BERTH_ERR_TOKEN_REVOKED', 'x', tokenRefusalReason('expired')),
			/^Your token for ws:\/\/host:8765 has expired: sign in again/,
			'signIn',
		],
		['a timeout', new BerthError('BERTH_ERR_TIMEOUT', 'x'), /did not answer in time/, 'retry'],
		['garbage', new BerthError('BERTH_ERR_PROTOCOL', 'x'), /does not answer as a Berth agent/, 'connect'],
		[
			'an upgrade refused (no errno)',
			new BerthError('BERTH_ERR_CONNECT', 'ws://host:8765 refused the upgrade: HTTP/1.1 403 Forbidden'),
			/^Could not connect to ws:\/\/host:8765: refused the upgrade: HTTP\/1\.1 403 Forbidden$/,
			'retry',
		],
	];
	for (const [what, error, message, action] of table) {
		it(`words ${what}`, () => {
			const text = describeConnectError(error, agent);
			assert.match(text.message, message);
			assert.equal(text.action, action);
			assert.doesNotMatch(text.message, /\bE[A-Z]{4,}\b|--\w/, 'no errno names or CLI flags');
		});
	}

	it('says what a refusal means when the client presented a user token', () => {
		const userAgent = { ...agent, userToken: true };
		const unknown = describeConnectError(
			new BerthError('BERTH_ERR_HANDSHAKE_REFUSED', 'x', tokenRefusalReason('unknown')),
			userAgent,
		);
		assert.deepEqual(unknown, {
			message:
				'The agent at ws://host:8765 refused your token (the token is unknown to this agent). Sign in again.',
			action: 'signIn',
		});
		const throttled = describeConnectError(
			new BerthError(
				'BERTH_ERR_HANDSHAKE_REFUSED',
				'x',
				`${HandshakeReason.TooManyAttempts}; try again in 6 s`,
			),
			userAgent,
		);
		assert.equal(throttled.action, 'retry', 'a wait, not a new token');
		const pinned = describeConnectError(new BerthError('BERTH_ERR_SERVER_UNVERIFIED', 'x'), userAgent);
		assert.match(pinned.message, /^The agent at ws:\/\/host:8765 is not the one you signed in to/);
		assert.equal(pinned.action, 'signIn');
		// The same refusal of a connection token still asks for the token.
		assert.equal(
			describeConnectError(
				new BerthError('BERTH_ERR_HANDSHAKE_REFUSED', 'x', HandshakeReason.Unauthorized),
				agent,
			).action,
			'enterToken',
		);
	});

	it('finds the errno of a happy-eyeballs AggregateError', () => {
		const inner = Object.assign(new Error('connect ECONNREFUSED ::1:8765'), { code: 'ECONNREFUSED' });
		const error = new BerthError('BERTH_ERR_CONNECT', 'x', undefined, { cause: new AggregateError([inner]) });
		assert.equal(errnoOf(error), 'ECONNREFUSED');
		assert.match(describeConnectError(error, agent).message, /^Nothing is listening/);
	});
});

describe('describeForwardError', () => {
	const forward = { bindHost: '127.0.0.1', bindPort: 8080, target: 'localhost:3000' };
	const listen = (errno: string) =>
		new BerthError('BERTH_ERR_LISTEN', `cannot listen on 127.0.0.1:8080: ${errno}`, undefined, {
			cause: Object.assign(new Error(errno), { code: errno }),
		});
	const table: [string, unknown, RegExp][] = [
		[
			'a port in use',
			listen('EADDRINUSE'),
			/^Port 8080 is already in use on 127\.0\.0\.1\. Choose another local port\.$/,
		],
		['a privileged port', listen('EACCES'), /ports below 1024 need administrator rights/],
		['a missing address', listen('EADDRNOTAVAIL'), /no address 127\.0\.0\.1 to listen on/],
		[
			'the agent policy',
			new BerthError('BERTH_ERR_RPC', 'denied by --deny', 'BERTH_ERR_POLICY'),
			/rules do not allow forwarding to localhost:3000/,
		],
		['a lost connection', new BerthError('BERTH_ERR_CLOSED', 'x'), /connection to the agent is down/],
		[
			'a forwarding loop',
			new BerthError(
				'BERTH_ERR_LOOP',
				"localhost:3000 is this forward's own listener: the forward would reach itself",
			),
			/^Berth did not forward localhost:3000: localhost:3000 is this forward's own listener: the forward would reach itself\.$/,
		],
	];
	for (const [what, error, message] of table) {
		it(`words ${what}`, () => {
			const text = describeForwardError(error, forward).message;
			assert.match(text, message);
			assert.doesNotMatch(text, /\bE[A-Z]{4,}\b|--\w/);
		});
	}
});

describe('describeForwardFailure', () => {
	const table: [string, RegExp][] = [
		[
			'connect ECONNREFUSED 127.0.0.1:42481',
			/^Nothing is listening on localhost:42481 on the agent's side\.$/,
		],
		['getaddrinfo ENOTFOUND db', /cannot find the host/],
		['connect ETIMEDOUT 10.0.0.1:5432', /cannot reach/],
		['something else', /could not reach localhost:42481: something else/],
	];
	for (const [agentMessage, sentence] of table) {
		it(`words "${agentMessage}"`, () => {
			assert.match(describeForwardFailure(agentMessage, 'localhost:42481'), sentence);
		});
	}

	it('says "on this machine" for a reverse forward, whose target is here', () => {
		assert.equal(
			describeForwardFailure('connect ECONNREFUSED 127.0.0.1:3000', 'localhost:3000', 'here'),
			'Nothing is listening on localhost:3000 on this machine.',
		);
	});
});

describe('describeAgentExit', () => {
	it('never calls a clean exit unexpected, and says who ended the agent', () => {
		assert.equal(
			describeAgentExit({ code: 0, signal: null }),
			'Tunnel access stopped: the agent shut down on its own.',
		);
		assert.match(
			describeAgentExit({ code: null, signal: 'SIGKILL' }),
			/ended from outside VS Code \(SIGKILL\)/,
		);
		assert.match(describeAgentExit({ code: 5, signal: null }), /lost its listening port/);
		assert.match(describeAgentExit({ code: 1, signal: null }), /failed \(exit code 1\)/);
		for (const code of [0, 1, 5]) {
			assert.doesNotMatch(describeAgentExit({ code, signal: null }), /unexpectedly/);
		}
	});
});

describe('describeTunnelStartError', () => {
	it('points at the setting for a port in use', () => {
		const error = new BerthError('BERTH_ERR_LISTEN', 'x', undefined, {
			cause: Object.assign(new Error('x'), { code: 'EADDRINUSE' }),
		});
		const text = describeTunnelStartError(error, '127.0.0.1', 9000);
		assert.match(text.message, /^Port 9000 is in use on this machine\. .*berth\.tunnel\.port/);
		assert.equal(text.action, 'none');
	});

	it('offers Retry for anything else', () => {
		assert.equal(describeTunnelStartError(new Error('boom'), '127.0.0.1', 8765).action, 'retry');
	});
});

describe('token problems', () => {
	it('tells a revoked token from an expired one by the wire reason, and nothing else is one', () => {
		const refusal = (why: 'revoked' | 'expired') =>
			new BerthError('BERTH_ERR_TOKEN_REVOKED', 'x', tokenRefusalReason(why));
		assert.equal(tokenProblemOf(refusal('revoked')), 'revoked');
		assert.equal(tokenProblemOf(refusal('expired')), 'expired');
		assert.equal(tokenProblemOf(new BerthError('BERTH_ERR_TOKEN_REVOKED', 'x')), 'revoked');
		assert.equal(
			tokenProblemOf(new BerthError('BERTH_ERR_HANDSHAKE_REFUSED', 'x', tokenRefusalReason('expired'))),
			undefined,
		);
		assert.equal(tokenProblemOf(new Error('the token was revoked')), undefined);
	});

	it('words them for the panel, the status bar and the notification', () => {
		assert.equal(describeTokenProblem('revoked'), 'Token revoked: sign in again');
		assert.equal(describeTokenProblem('expired'), 'Token expired: sign in again');
		assert.equal(
			describeSignInNeeded('revoked', 'ws://host:8765', 'alice@example.com'),
			"Your token for ws://host:8765 (alice@example.com) was revoked: sign in again, in the browser or with a new init URL from the agent's owner.",
		);
	});
});
