import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tlsConnectOptions } from '../../../server/client/tls-trust';

describe('tlsConnectOptions', () => {
	it('verifies by default, with the name as SNI', () => {
		assert.deepEqual(tlsConnectOptions('agent.example', undefined), {
			servername: 'agent.example',
			rejectUnauthorized: true,
		});
	});

	it('sends no SNI for an address (RFC 6066), and still verifies', () => {
		assert.deepEqual(tlsConnectOptions('127.0.0.1', {}), { rejectUnauthorized: true });
		assert.deepEqual(tlsConnectOptions('::1', {}), { rejectUnauthorized: true });
	});

	it('trusts the given CAs instead of the store', () => {
		const ca = Buffer.from('-----BEGIN CERTIFICATE-----');
		assert.deepEqual(tlsConnectOptions('agent.example', { ca }), {
			servername: 'agent.example',
			ca,
			rejectUnauthorized: true,
		});
	});

	it('skips every check only when told to', () => {
		assert.equal(tlsConnectOptions('agent.example', { insecure: true }).rejectUnauthorized, false);
		assert.equal(tlsConnectOptions('agent.example', { insecure: false }).rejectUnauthorized, true);
	});
});
