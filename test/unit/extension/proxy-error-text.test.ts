import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BerthError } from '../../../protocol/errors';
import type { ErrorAction } from '../../../extension/error-text';
import { describeProxyError, type ProxyRef } from '../../../extension/proxy-error-text';

const socks: ProxyRef = { mode: 'socks', port: 1080, agent: 'ws://vm:8765' };
const share: ProxyRef = { mode: 'share', port: 9870, agent: 'ws://vm:8765' };

/** A listen failure as the client library throws it: BERTH_ERR_LISTEN with the socket error as cause. */
function listenError(errno: string): BerthError {
	const cause = Object.assign(new Error(`listen ${errno}`), { code: errno });
	return new BerthError('BERTH_ERR_LISTEN', `cannot listen on 127.0.0.1:1080: ${errno}`, undefined, {
		cause,
	});
}

/** The agent's refusal as it comes back over RPC: BERTH_ERR_RPC with the agent's code as reason. */
function agentError(code: string, message: string): BerthError {
	return new BerthError('BERTH_ERR_RPC', message, code);
}

describe('describeProxyError', () => {
	const table: [string, unknown, ProxyRef, RegExp, ErrorAction][] = [
		[
			'a SOCKS port in use',
			listenError('EADDRINUSE'),
			socks,
			/^Port 1080 is already in use on this machine\. Choose another port, or Any Free Port\.$/,
			'none',
		],
		[
			'a privileged SOCKS port',
			listenError('EACCES'),
			socks,
			/ports below 1024 need administrator rights/,
			'none',
		],
		[
			'a SOCKS port where a forward of this window leads',
			new BerthError('BERTH_ERR_LOOP', '127.0.0.1:1080 is where the forward 8080 -> 127.0.0.1:1080 leads'),
			socks,
			/^Berth did not start the SOCKS proxy: 127\.0\.0\.1:1080 is where/,
			'none',
		],
		[
			'the agent away',
			new BerthError('BERTH_ERR_CLOSED', 'not connected'),
			share,
			/^The connection to the agent is down\. Try again once it is back\.$/,
			'retry',
		],
		[
			"an agent's port in use",
			agentError('BERTH_ERR_LISTEN', 'cannot listen on 127.0.0.1:9870: EADDRINUSE'),
			share,
			/^ws:\/\/vm:8765 could not open port 9870 \(cannot listen .*EADDRINUSE\)\. Choose another port, or Any Free Port\.$/,
			'none',
		],
		[
			'a bind the agent does not allow',
			agentError('BERTH_ERR_USAGE', 'at most 16 reverse proxies per session'),
			share,
			/^ws:\/\/vm:8765 refused to open the port: at most 16/,
			'none',
		],
		[
			'anything else, shared',
			new Error('boom'),
			share,
			/^Could not share this machine's network with ws:\/\/vm:8765: boom$/,
			'retry',
		],
		['anything else, SOCKS', new Error('boom'), socks, /^Could not start the SOCKS proxy: boom$/, 'retry'],
	];
	for (const [what, error, proxy, message, action] of table) {
		it(`says what to do about ${what}`, () => {
			const text = describeProxyError(error, proxy);
			assert.match(text.message, message);
			assert.equal(text.action, action);
		});
	}
});
