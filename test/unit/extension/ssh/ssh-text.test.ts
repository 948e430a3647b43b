import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BerthError } from '../../../../protocol/errors';
import {
	describeSshFailure,
	describeSshProgress,
	describeSshStopped,
	sshAgentId,
	sshHostOfAgentId,
} from '../../../../extension/ssh/ssh-text';

describe('ssh words', () => {
	it('names each step of connecting', () => {
		const host = 'alice@devbox';
		assert.equal(describeSshProgress({ step: 'connecting' }, host), 'connecting to alice@devbox with ssh…');
		assert.equal(
			describeSshProgress({ step: 'node-found', version: 'v20.11.1' }, host),
			'checking Node.js on alice@devbox: v20.11.1',
		);
		assert.equal(
			describeSshProgress({ step: 'installing', bytes: 1.5 * 1024 * 1024 }, host),
			'installing the agent on alice@devbox (1.5 MiB)…',
		);
		assert.equal(describeSshProgress({ step: 'starting' }, host), 'starting the agent on alice@devbox…');
		assert.equal(
			describeSshProgress({ step: 'ready', reused: true, port: 41000, pid: 7 }, host),
			'the agent already runs on alice@devbox',
		);
		assert.equal(
			describeSshProgress({ step: 'ready', reused: false, port: 41000, pid: 7 }, host),
			'started the agent on alice@devbox',
		);
	});

	it('offers the node path setting, not a retry, when the host has no Node.js', () => {
		const error = new BerthError(
			'BERTH_ERR_NO_NODE',
			"no node on devbox's PATH (as a non-interactive ssh session sees it): install Node.js 20 or later there, " +
				'or give the path of one with the berth.ssh.nodePath setting; no agent was started',
		);
		const text = describeSshFailure(error, 'devbox');
		assert.equal(text.action, 'nodePath');
		assert.match(
			text.message,
			/^Cannot connect to devbox over ssh: no node on devbox's PATH .*berth\.ssh\.nodePath setting; no agent was started\.$/,
		);
	});

	it('offers a retry after an ssh failure, and nothing for a host that cannot be read', () => {
		const ssh = describeSshFailure(
			new BerthError('BERTH_ERR_SSH', 'ssh to devbox exited with status 255'),
			'devbox',
		);
		assert.deepEqual(ssh, {
			message: 'Cannot connect to devbox over ssh: ssh to devbox exited with status 255.',
			action: 'retry',
		});
		assert.equal(
			describeSshFailure(new BerthError('BERTH_ERR_USAGE', 'cannot read the host'), 'a b').action,
			'none',
		);
		assert.match(
			describeSshFailure(new Error('boom'), 'devbox', true).message,
			/^Cannot stop the agent on devbox: boom\.$/,
		);
	});

	it('says whether an agent was stopped', () => {
		assert.equal(
			describeSshStopped('devbox', 4242),
			'Stopped the Berth agent (pid 4242) on devbox; its token is removed there and here.',
		);
		assert.match(
			describeSshStopped('devbox', undefined),
			/^No Berth agent of this version was running on devbox/,
		);
	});

	it('makes an agent id of a host and reads it back; other ids have no host', () => {
		assert.equal(sshAgentId('alice@devbox:2222'), 'ssh://alice@devbox:2222');
		assert.equal(sshHostOfAgentId('ssh://alice@devbox:2222'), 'alice@devbox:2222');
		assert.equal(sshHostOfAgentId('ws://127.0.0.1:8765'), undefined);
		assert.equal(sshHostOfAgentId('local'), undefined);
	});
});
