import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDeviceCode } from '../../../server/client/device-login';
import { deviceBox } from '../../../server/cli/login-command';

const GOOD = {
	device_code: 'd'.repeat(43),
	user_code: 'K7P-M4X',
	verification_uri: 'https://agent.example:8765/auth/device',
	verification_uri_complete: 'https://agent.example:8765/auth/device?code=K7P-M4X',
	expires_in: 600,
	interval: 5,
};

describe('parseDeviceCode', () => {
	it('reads an RFC 8628 answer', () => {
		assert.deepEqual(parseDeviceCode(GOOD), {
			deviceCode: GOOD.device_code,
			userCode: 'K7P-M4X',
			verificationUri: GOOD.verification_uri,
			verificationUriComplete: GOOD.verification_uri_complete,
			expiresInS: 600,
			intervalS: 5,
		});
	});

	it('refuses what is not one, before anything is shown', () => {
		for (const body of [
			null,
			'text',
			{ ...GOOD, device_code: 5 },
			{ ...GOOD, user_code: undefined },
			{ ...GOOD, verification_uri: 'javascript:alert(1)' },
			{ ...GOOD, user_code: 'x'.repeat(33) },
		]) {
			assert.equal(parseDeviceCode(body), undefined, JSON.stringify(body));
		}
	});

	it('keeps the interval and lifetime within bounds, and drops a link that is not http(s)', () => {
		const code = parseDeviceCode({
			...GOOD,
			interval: 0,
			expires_in: 1e9,
			verification_uri_complete: 'file:///etc/passwd',
		});
		assert.equal(code?.intervalS, 1, 'a zero interval would spin');
		assert.equal(code?.expiresInS, 3_600);
		assert.equal(code?.verificationUriComplete, undefined);
		assert.equal(parseDeviceCode({ ...GOOD, interval: 'soon' })?.intervalS, 5, "RFC 8628's default");
	});
});

describe('deviceBox', () => {
	it("draws the seed's box around the address and the code", () => {
		const box = deviceBox('https://agent.example:8765/auth/device', 'K7P-M4X');
		const lines = box.trim().split('\n');
		assert.match(lines[1]!, /^│ To authenticate, visit: +│$/);
		assert.match(lines[2]!, /^│ {3}https:\/\/agent\.example:8765\/auth\/device +│$/);
		assert.match(lines[4]!, /^│ And enter code: K7P-M4X +│$/);
		assert.equal(new Set(lines.map((l) => [...l].length)).size, 1, 'every line as wide');
	});
});
