import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sshHostChoices, withTypedHost } from '../../../../extension/ssh/ssh-host-choices';

describe('sshHostChoices', () => {
	it('lists connected hosts first with their state, then the config’s, each once', () => {
		const choices = sshHostChoices(
			[
				{ host: 'devbox', status: 'connected' },
				{ host: 'alice@build:2222', status: 'reconnecting' },
			],
			['web', 'devbox', 'db'],
			'~/.ssh/config',
		);
		assert.deepEqual(choices, [
			{ host: 'devbox', description: 'connected' },
			{ host: 'alice@build:2222', description: 'reconnecting' },
			{ host: 'web', description: '~/.ssh/config' },
			{ host: 'db', description: '~/.ssh/config' },
		]);
	});

	it('puts what is typed first when it is not listed, and only then', () => {
		const choices = sshHostChoices([], ['web'], '~/.ssh/config');
		assert.deepEqual(withTypedHost(choices, ' alice@devbox:2222 ', 'connect to this host'), [
			{ host: 'alice@devbox:2222', description: 'connect to this host', typed: true },
			{ host: 'web', description: '~/.ssh/config' },
		]);
		assert.deepEqual(withTypedHost(choices, 'web', 'connect to this host'), choices);
		assert.deepEqual(withTypedHost(choices, '  ', 'connect to this host'), choices);
	});
});
