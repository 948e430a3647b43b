import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	browsableHost,
	isBindAddress,
	isLoopbackAddress,
	resolveSettings,
} from '../../../extension/settings';

describe('resolveSettings', () => {
	it('defaults everything when nothing is set', () => {
		assert.deepEqual(resolveSettings({}), {
			autoForwardPorts: true,
			portsAttributes: [],
			otherPortsAttributes: {},
			localAddress: '127.0.0.1',
			restoreForwardedPorts: true,
			tunnelHost: '127.0.0.1',
			tunnelPort: 8765,
			tlsCaFile: undefined,
			sshPath: undefined,
			sshConfigFile: undefined,
			sshNodePath: undefined,
			sshRemoteDir: undefined,
			problems: [],
		});
	});

	it('takes valid values', () => {
		const settings = resolveSettings({
			autoForwardPorts: false,
			localAddress: ' 0.0.0.0 ',
			restoreForwardedPorts: false,
			portsAttributes: { '3000': { label: 'Web' } },
			otherPortsAttributes: { onAutoForward: 'ignore' },
			'tunnel.host': ' 0.0.0.0 ',
			'tunnel.port': 0,
		});
		assert.deepEqual(settings.otherPortsAttributes, { onAutoForward: 'ignore' });
		assert.equal(settings.tunnelHost, '0.0.0.0');
		assert.equal(settings.tunnelPort, 0);
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

	it('takes only the listed local addresses, as an enum', () => {
		for (const address of ['127.0.0.1', 'localhost', '::1', '0.0.0.0']) {
			assert.equal(resolveSettings({ localAddress: address }).localAddress, address);
		}
		const settings = resolveSettings({ localAddress: '192.168.1.5' });
		assert.equal(settings.localAddress, '127.0.0.1');
		assert.match(settings.problems[0]!, /is not one of 127\.0\.0\.1, localhost, ::1, 0\.0\.0\.0/);
	});

	it('takes a CA file for wss:// agents, and the system CAs when it is empty or not a path', () => {
		assert.equal(resolveSettings({ 'tls.caFile': ' ~/ca.pem ' }).tlsCaFile, '~/ca.pem');
		assert.equal(resolveSettings({ 'tls.caFile': '  ' }).tlsCaFile, undefined);
		const wrong = resolveSettings({ 'tls.caFile': 7 });
		assert.equal(wrong.tlsCaFile, undefined);
		assert.match(wrong.problems[0]!, /^berth\.tls\.caFile must be the path of a PEM file/);
	});

	it('takes the ssh paths trimmed, and the defaults when they are empty or not text', () => {
		const settings = resolveSettings({
			'ssh.path': ' /usr/local/bin/ssh ',
			'ssh.configFile': '~/.ssh/work_config',
			'ssh.nodePath': '/opt/node20/bin/node',
			'ssh.remoteDir': '.cache/berth',
		});
		assert.equal(settings.sshPath, '/usr/local/bin/ssh');
		assert.equal(settings.sshConfigFile, '~/.ssh/work_config');
		assert.equal(settings.sshNodePath, '/opt/node20/bin/node');
		assert.equal(settings.sshRemoteDir, '.cache/berth');
		assert.equal(resolveSettings({ 'ssh.nodePath': '  ' }).sshNodePath, undefined);
		const wrong = resolveSettings({ 'ssh.nodePath': ['node'] });
		assert.equal(wrong.sshNodePath, undefined);
		assert.deepEqual(wrong.problems, ['berth.ssh.nodePath must be a path; using the default']);
	});

	it('defaults a wrong tunnel host or port, and says why', () => {
		const settings = resolveSettings({ 'tunnel.host': 'example.com', 'tunnel.port': 70000 });
		assert.equal(settings.tunnelHost, '127.0.0.1');
		assert.equal(settings.tunnelPort, 8765);
		assert.equal(settings.problems.length, 2);
		assert.equal(resolveSettings({ 'tunnel.port': 8765.5 }).tunnelPort, 8765);
	});
});

describe('isLoopbackAddress', () => {
	it('knows loopback from the rest', () => {
		for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '::1']) {
			assert.equal(isLoopbackAddress(host), true, host);
		}
		for (const host of ['0.0.0.0', '::', '192.168.1.5', 'fe80::1']) {
			assert.equal(isLoopbackAddress(host), false, host);
		}
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
