import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	expandHome,
	listSshConfigHosts,
	parseSshConfigEntries,
	type SshConfigReader,
} from '../../../../extension/ssh/ssh-config-hosts';

const HOME = '/home/alice';

/** Files and folders in memory. */
function memoryReader(files: Record<string, string>): SshConfigReader & { readonly read: string[] } {
	const read: string[] = [];
	return {
		read,
		readFile: (path) => {
			read.push(path);
			return files[path];
		},
		listDir: (path) => {
			const names = Object.keys(files)
				.filter((f) => f.startsWith(path + '/') && !f.slice(path.length + 1).includes('/'))
				.map((f) => f.slice(path.length + 1));
			return names.length > 0 ? names : undefined;
		},
	};
}

describe('parseSshConfigEntries', () => {
	it('lists plain Host names in order, leaving out patterns, negations and comments', () => {
		const text = [
			'# my hosts',
			'Host devbox build-1',
			'    HostName 10.0.0.5',
			'Host *.corp !bastion.corp web?',
			'host=lower-case',
			'  Host   indented # a comment',
			'Host "quoted name" plain',
			'HostName not-a-host',
			'Match host matched exec "true"',
			'Host -oProxyCommand=evil',
			'Host *',
			'',
		].join('\n');
		assert.deepEqual(parseSshConfigEntries(text).hosts, [
			'devbox',
			'build-1',
			'lower-case',
			'indented',
			'plain',
		]);
	});

	it('collects Include arguments, several on a line', () => {
		const text = 'Include config.d/*\r\nInclude ~/.ssh/work "/etc/ssh/with space"\nInclude=extra\n';
		assert.deepEqual(parseSshConfigEntries(text).includes, [
			'config.d/*',
			'~/.ssh/work',
			'/etc/ssh/with space',
			'extra',
		]);
	});
});

describe('listSshConfigHosts', () => {
	it('follows Includes as ssh does: relative to ~/.ssh, ~ as home, globs in the file name, sorted', () => {
		const reader = memoryReader({
			'/home/alice/.ssh/config': 'Include config.d/*\nHost main\nInclude ~/work/ssh_config\n',
			'/home/alice/.ssh/config.d/20-b': 'Host b-host\n',
			'/home/alice/.ssh/config.d/10-a': 'Host a-host main\n',
			'/home/alice/.ssh/config.d/.hidden': 'Host hidden\n',
			'/home/alice/work/ssh_config': 'Host work\n',
		});
		assert.deepEqual(listSshConfigHosts('/home/alice/.ssh/config', reader, HOME), [
			'main',
			'a-host',
			'b-host',
			'work',
		]);
	});

	it('skips what cannot be read, and stops at include loops', () => {
		const reader = memoryReader({
			'/home/alice/.ssh/config': 'Host one\nInclude missing config\n',
		});
		assert.deepEqual(listSshConfigHosts('/home/alice/.ssh/config', reader, HOME), ['one']);
		assert.ok(reader.read.length <= 256, `read ${reader.read.length} files`);
		assert.ok(reader.read.includes('/home/alice/.ssh/missing'));
	});

	it('gives nothing for a config that does not exist', () => {
		assert.deepEqual(listSshConfigHosts('/nowhere/config', memoryReader({}), HOME), []);
	});
});

describe('expandHome', () => {
	it('expands ~ and ~/ only', () => {
		assert.equal(expandHome('~', HOME), HOME);
		assert.equal(expandHome('~/.ssh/config', HOME), '/home/alice/.ssh/config');
		assert.equal(expandHome('~bob/config', HOME), '~bob/config');
		assert.equal(expandHome('/etc/ssh/ssh_config', HOME), '/etc/ssh/ssh_config');
	});
});
