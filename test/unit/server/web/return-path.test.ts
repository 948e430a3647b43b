import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RETURN_PATH, safeReturnPath } from '../../../../server/http/web/return-path';

describe('safeReturnPath', () => {
	it('keeps paths on the agent and sends everything else to the token page', () => {
		const table: [string | null, string][] = [
			['/tokens', '/tokens'],
			['/auth/device?code=ABC-234', '/auth/device?code=ABC-234'],
			['/', '/'],
			[null, DEFAULT_RETURN_PATH],
			['', DEFAULT_RETURN_PATH],
			['//evil.example/', DEFAULT_RETURN_PATH],
			['/\\evil.example/', DEFAULT_RETURN_PATH],
			['https://evil.example/', DEFAULT_RETURN_PATH],
			['tokens', DEFAULT_RETURN_PATH],
			['/tokens\r\nSet-Cookie: x=1', DEFAULT_RETURN_PATH],
			['/a b', DEFAULT_RETURN_PATH],
			['/' + 'a'.repeat(600), DEFAULT_RETURN_PATH],
			['javascript:alert(1)', DEFAULT_RETURN_PATH],
		];
		for (const [input, expected] of table) {
			assert.equal(safeReturnPath(input), expected, JSON.stringify(input));
		}
	});
});
