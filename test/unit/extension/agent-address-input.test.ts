import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readAgentAddress } from '../../../extension/agent/agent-address-input';

describe('Connect to Agent: the address step', () => {
	const rows: [string, string][] = [
		['devbox', 'ws://devbox:8765'],
		[' devbox:9000 ', 'ws://devbox:9000'],
		['ws://devbox', 'ws://devbox:8765'],
		['ws://devbox:80', 'ws://devbox:80'],
		['127.0.0.1', 'ws://127.0.0.1:8765'],
		['[::1]', 'ws://[::1]:8765'],
		['[::1]:9000', 'ws://[::1]:9000'],
		['http://devbox:18123/', 'http://devbox:18123'],
		['http://devbox', 'http://devbox:8765'],
		['wss://proxy.example/berth', 'wss://proxy.example/berth'],
		['https://proxy.example', 'https://proxy.example'],
	];
	for (const [input, url] of rows) {
		it(`reads ${JSON.stringify(input)} as ${url}`, () => assert.deepEqual(readAgentAddress(input), { url }));
	}

	const bad: [string, RegExp][] = [
		['', /^Enter host, host:port or ws:\/\/host:port \(Berth's port is 8765/],
		['http://127.0.0.1:8765/?tkn=abc', /^Leave the token out of the address: you enter it in step 3/],
		['ws://user:secret@devbox', /^Leave the token out/],
		['ws://devbox/?Token=x', /^Leave the token out/],
		['ftp://devbox', /^Berth connects with ws:\/\/, wss:\/\/, http:\/\/ or https:\/\/, not ftp:\/\//],
		['ws://', /^Enter host|is not an address/],
		['dev box', /is not an address/],
	];
	for (const [input, message] of bad) {
		it(`says what is wrong with ${JSON.stringify(input)}, without CLI flags`, () => {
			const result = readAgentAddress(input);
			assert.equal(typeof result, 'string');
			assert.match(result as string, message);
			assert.doesNotMatch(result as string, /--|BERTH_TOKEN|stdin/);
		});
	}
});
