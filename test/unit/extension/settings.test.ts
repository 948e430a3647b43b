import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { browsableHost, isBindAddress, resolveSettings } from '../../../extension/settings';

describe('resolveSettings', () => {
	it('defaults everything when nothing is set', () => {
		assert.deepEqual(resolveSettings({}), {
			autoForwardPorts: true,
			portsAttributes: [],
			localAddress: '127.0.0.1',
			restoreForwardedPorts: true,
			problems: [],
		});
	});

	it('takes valid values', () => {
		const settings = resolveSettings({
			autoForwardPorts: false,
			localAddress: ' 0.0.0.0 ',
			restoreForwardedPorts: false,
			portsAttributes: { '3000': { label: 'Web' } },
		});
		assert.equal(settings.autoForwardPorts, false);
		assert.equal(settings.localAddress, '0.0.0.0');
		assert.equal(settings.restoreForwardedPorts, false);
		assert.equal(settings.portsAttributes[0]!.label, 'Web');
		assert.deepEqual(settings.problems, []);
	});

	it('falls back to the default and says why for a wrong value', () => {
		const settings = resolveSettings({ autoForwardPorts: 'yes', localAddress: 'example.com' });
		assert.equal(settings.autoForwardPorts, true);
		assert.equal(settings.localAddress, '127.0.0.1');
		assert.equal(settings.problems.length, 2);
		assert.ok(settings.problems.some((p) => /^berth\.localAddress/.test(p)));
		assert.ok(settings.problems.some((p) => /^berth\.autoForwardPorts/.test(p)));
	});
});

describe('isBindAddress', () => {
	for (const ok of ['localhost', '127.0.0.1', '0.0.0.0', '::1', '::', 'fe80::1']) {
		it(`accepts ${ok}`, () => assert.equal(isBindAddress(ok), true));
	}
	for (const bad of ['', 'example.com', '256.0.0.1', '1.2.3', '1::2::3', '[::1]']) {
		it(`refuses ${JSON.stringify(bad)}`, () => assert.equal(isBindAddress(bad), false));
	}
});

describe('browsableHost', () => {
	it('opens all-interfaces listeners on localhost and brackets IPv6', () => {
		assert.equal(browsableHost('0.0.0.0'), 'localhost');
		assert.equal(browsableHost('::'), 'localhost');
		assert.equal(browsableHost('127.0.0.1'), '127.0.0.1');
		assert.equal(browsableHost('::1'), '[::1]');
	});
});
