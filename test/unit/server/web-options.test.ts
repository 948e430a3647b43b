import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BerthError } from '../../../protocol/errors';
import { DEVICE_CODE_TTL_ENV, DEVICE_INTERVAL_ENV, resolveWebOptions } from '../../../server/cli/web-options';

describe('resolveWebOptions (berth server --accounts)', () => {
	it('takes --owner-email in lowercase, or owner@ + the host name', () => {
		assert.deepEqual(resolveWebOptions(' Alice@Example.COM ', 'box', {}), {
			ownerEmail: 'alice@example.com',
		});
		assert.deepEqual(resolveWebOptions(undefined, 'Build-Box', {}), { ownerEmail: 'owner@build-box' });
	});

	it('refuses an owner email that is not one, saying which flag to fix', () => {
		assert.throws(
			() => resolveWebOptions('alice', 'box', {}),
			(e: unknown) =>
				e instanceof BerthError && e.code === 'BERTH_ERR_USAGE' && /--owner-email alice/.test(e.message),
		);
		assert.throws(
			() => resolveWebOptions(undefined, '', {}),
			(e: unknown) => e instanceof BerthError && /give one with --owner-email/.test(e.message),
		);
	});

	it('shortens the device flow for tests through the environment, whole seconds only', () => {
		assert.deepEqual(
			resolveWebOptions('a@b', 'box', { [DEVICE_CODE_TTL_ENV]: '3', [DEVICE_INTERVAL_ENV]: '1' }),
			{
				ownerEmail: 'a@b',
				deviceCodeTtlMs: 3_000,
				devicePollIntervalMs: 1_000,
			},
		);
		for (const bad of ['0', '1.5', 'x', '-1', '86401']) {
			assert.throws(
				() => resolveWebOptions('a@b', 'box', { [DEVICE_CODE_TTL_ENV]: bad }),
				(e: unknown) => e instanceof BerthError && e.code === 'BERTH_ERR_USAGE',
				bad,
			);
		}
	});
});
