import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BerthError } from '../../../protocol/errors';
import { exitCodeFor } from '../../../server/cli/exit-codes';

describe('CLI exit codes', () => {
	it('map each error code to the documented exit code', () => {
		assert.equal(exitCodeFor(new BerthError('BERTH_ERR_USAGE', '')), 2);
		assert.equal(exitCodeFor(new BerthError('BERTH_ERR_TOKEN', '')), 2);
		assert.equal(exitCodeFor(new BerthError('BERTH_ERR_HANDSHAKE_REFUSED', '')), 3);
		assert.equal(exitCodeFor(new BerthError('BERTH_ERR_SERVER_UNVERIFIED', '')), 3);
		assert.equal(exitCodeFor(new BerthError('BERTH_ERR_TLS_UNTRUSTED', '')), 3);
		assert.equal(exitCodeFor(new BerthError('BERTH_ERR_CONNECT', '')), 4);
		assert.equal(exitCodeFor(new BerthError('BERTH_ERR_LISTEN', '')), 5);
		assert.equal(exitCodeFor(new BerthError('BERTH_ERR_LOOP', '')), 6);
		assert.equal(exitCodeFor(new BerthError('BERTH_ERR_SSH', '')), 4);
		assert.equal(exitCodeFor(new BerthError('BERTH_ERR_NO_NODE', '')), 7);
		assert.equal(exitCodeFor(new Error('bug')), 1);
	});
});
