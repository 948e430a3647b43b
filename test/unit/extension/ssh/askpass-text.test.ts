import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeAskpassPrompt, oneLine } from '../../../../extension/ssh/askpass-text';

/** What OpenSSH 9 asks on a host it has not seen. */
const HOST_KEY_PROMPT =
	"The authenticity of host '[127.0.0.1]:2222 ([127.0.0.1]:2222)' can't be established.\n" +
	'ED25519 key fingerprint is SHA256:Qx0mE8cE0x7mJ4p6f5aYb0rq2L7m0w3u0bYkGZcOe1s.\n' +
	'This key is not known by any other names.\n' +
	'Are you sure you want to continue connecting (yes/no/[fingerprint])? ';

describe('describeAskpassPrompt', () => {
	it('hides what is typed for passphrases, passwords and codes', () => {
		for (const prompt of [
			"Enter passphrase for key '/home/alice/.ssh/id_ed25519': ",
			"alice@devbox's password: ",
			'Password: ',
			'Verification code: ',
			'Enter PIN for ECDSA-SK key /home/alice/.ssh/id_ecdsa_sk: ',
		]) {
			const view = describeAskpassPrompt(prompt, 'input', 'devbox');
			assert.equal(view.kind, 'secret', prompt);
			assert.equal(view.title, 'ssh: devbox');
			assert.equal(view.prompt, prompt.trim());
		}
	});

	it('shows the host key question on one line with its fingerprint, as text to answer yes or no', () => {
		const view = describeAskpassPrompt(HOST_KEY_PROMPT, 'input', 'alice@devbox:2222');
		assert.equal(view.kind, 'text');
		assert.equal(view.title, 'ssh: alice@devbox:2222: unknown host key');
		assert.match(
			view.prompt,
			/^The authenticity of host .* SHA256:Qx0mE8c\S+ This key .* \(yes\/no\/\[fingerprint\]\)\?$/,
		);
		assert.doesNotMatch(view.prompt, /\n/);
		assert.match(view.placeholder ?? '', /^yes to trust this key/);
	});

	it('keeps ssh’s own yes/no questions and notes as such', () => {
		assert.equal(
			describeAskpassPrompt('Allow shared connection to devbox? ', 'confirm', 'devbox').kind,
			'confirm',
		);
		assert.equal(
			describeAskpassPrompt('Confirm user presence for key ED25519-SK', 'notify', 'devbox').kind,
			'notify',
		);
		assert.equal(describeAskpassPrompt('Your favourite colour: ', 'input', 'devbox').kind, 'text');
	});
});

describe('oneLine', () => {
	it('removes escape sequences and control characters a server could put in a prompt', () => {
		assert.equal(oneLine('\x1b[31mred\x1b[0m\tand\r\nmore\x07 '), 'red and more');
		assert.equal(oneLine('a\u202eb'), 'a b', 'no right-to-left override');
	});

	it('bounds what it shows', () => {
		const long = oneLine('x'.repeat(5000));
		assert.equal(long.length, 1000);
		assert.ok(long.endsWith('…'));
	});
});
