import assert from 'node:assert/strict';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
	computeNetworkIdentity,
	networkIdentityOf,
	readNetNamespace,
} from '../../../server/shared/network-identity';

const BOOT = '6f1c3d2e-0b9a-4c1e-8f3a-2d5e7b9c1a0f';

describe('network identity', () => {
	it('is the same for one boot and one network namespace, and differs when either differs', () => {
		const host = { bootId: BOOT, netNamespace: '4026531840', hostname: 'box' };
		const id = networkIdentityOf(host);
		assert.match(id, /^[0-9a-f]{32}$/);
		assert.equal(networkIdentityOf({ ...host, hostname: 'other-name' }), id, 'the name plays no part');
		assert.equal(networkIdentityOf({ ...host, bootId: `${BOOT}\n` }), id, "boot_id's newline plays no part");
		assert.notEqual(networkIdentityOf({ ...host, netNamespace: '4026532201' }), id, 'a container');
		assert.notEqual(
			networkIdentityOf({ ...host, bootId: '0f1c3d2e-0b9a-4c1e-8f3a-2d5e7b9c1a0f' }),
			id,
			'another host, or this one rebooted',
		);
	});

	it('falls back to the host name where there is no boot id or namespace, never equal to a Linux identity', () => {
		const weak = networkIdentityOf({ bootId: undefined, netNamespace: undefined, hostname: 'Box' });
		assert.equal(networkIdentityOf({ bootId: BOOT, netNamespace: undefined, hostname: 'box' }), weak);
		assert.notEqual(
			networkIdentityOf({ bootId: undefined, netNamespace: undefined, hostname: 'box2' }),
			weak,
		);
		assert.notEqual(networkIdentityOf({ bootId: BOOT, netNamespace: '1', hostname: 'box' }), weak);
	});

	it("reads the namespace's inode from the link's text", () => {
		const dir = mkdtempSync(join(tmpdir(), 'berth-netns-'));
		symlinkSync('net:[4026531840]', join(dir, 'net'));
		assert.equal(readNetNamespace(join(dir, 'net')), '4026531840');
		writeFileSync(join(dir, 'plain'), '');
		assert.match(readNetNamespace(join(dir, 'plain')) ?? '', /^\d+$/, 'a plain file: its inode');
		assert.equal(readNetNamespace(join(dir, 'absent')), undefined);
	});

	it('gives this process one stable value', () => {
		assert.equal(computeNetworkIdentity(), computeNetworkIdentity());
	});
});
