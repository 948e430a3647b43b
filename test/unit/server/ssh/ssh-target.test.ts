import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatSshTarget, parseSshTarget, sshTargetArgs } from '../../../../server/client/ssh/ssh-target';
import { sshHostKey } from '../../../../server/client/ssh/ssh-token-store';

describe('berth ssh [user@]host[:port]', () => {
	const rows: [string, { destination: string; port?: number }][] = [
		['devbox', { destination: 'devbox' }],
		['alice@devbox', { destination: 'alice@devbox' }],
		['devbox:2222', { destination: 'devbox', port: 2222 }],
		['alice@10.0.0.5:22', { destination: 'alice@10.0.0.5', port: 22 }],
		['[fd00::5]:2222', { destination: 'fd00::5', port: 2222 }],
		['bob@[fd00::5]', { destination: 'bob@fd00::5' }],
		['fd00::5', { destination: 'fd00::5' }],
		['a.b-c_d', { destination: 'a.b-c_d' }],
	];
	for (const [input, expected] of rows) {
		it(`reads ${input}`, () => assert.deepEqual(parseSshTarget(input), expected));
	}

	const bad = [
		'',
		'-oProxyCommand=x',
		'alice@',
		'-l@host',
		'host:0',
		'host:70000',
		'a b',
		'host;rm',
		"o'brien@h",
		'h\n',
	];
	for (const input of bad) {
		it(`refuses ${JSON.stringify(input)} with a usage error`, () =>
			assert.throws(() => parseSshTarget(input), { code: 'BERTH_ERR_USAGE' }));
	}

	it('writes the target back as it was given, IPv6 in brackets', () => {
		for (const text of ['devbox', 'alice@devbox:2222', '[fd00::5]:2222', 'bob@[fd00::5]:22']) {
			assert.equal(formatSshTarget(parseSshTarget(text)), text);
		}
	});

	it('gives ssh -F and -p before the destination, which comes last', () => {
		assert.deepEqual(sshTargetArgs(parseSshTarget('alice@devbox:2222', '/tmp/cfg')), [
			'-F',
			'/tmp/cfg',
			'-p',
			'2222',
			'alice@devbox',
		]);
		assert.deepEqual(sshTargetArgs(parseSshTarget('devbox')), ['devbox']);
	});

	it('keys a host by target, config file and remote folder', () => {
		assert.equal(sshHostKey(parseSshTarget('devbox'), ''), 'devbox');
		assert.equal(sshHostKey(parseSshTarget('devbox:22', '/c'), '/srv/b'), 'devbox:22|config=/c|dir=/srv/b');
		assert.notEqual(sshHostKey(parseSshTarget('devbox'), ''), sshHostKey(parseSshTarget('devbox'), 'other'));
	});
});
