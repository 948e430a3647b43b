import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import type { Mux } from '../../../protocol/mux';
import { isLoopbackAddress, resolveBindAddress, type BindLookup } from '../../../server/forward/bind-address';
import { RemoteForwards } from '../../../server/forward/remote-forwards';
import { createNullLogger } from '../../../server/shared/log';
import { ManualTimers } from '../../helpers/manual-timers';

/**
 * Where a reverse forward (-R) may listen: the addresses its bind name resolves to are checked,
 * never the name's spelling, and the listener binds the checked address. Names answer from a
 * table here (the security review's 3i: `evil.localhost` answered with the host's public address).
 */

/** A resolver answering from a table; counts its calls. */
function tableLookup(table: Record<string, string[]>): BindLookup & { calls: string[] } {
	const calls: string[] = [];
	const lookup = (hostname: string) => {
		calls.push(hostname);
		const addresses = table[hostname];
		if (!addresses) {
			return Promise.reject(
				Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }),
			);
		}
		return Promise.resolve(addresses.map((address) => ({ address })));
	};
	return Object.assign(lookup, { calls });
}

const table = {
	'evil.localhost': ['192.0.2.2'],
	'half.localhost': ['127.0.0.1', '192.0.2.2'],
	'app.localhost': ['127.0.0.1', '::1'],
	localhost: ['::1', '127.0.0.1'],
	'dev.test': ['127.0.1.1'],
	'public.example': ['192.0.2.2'],
	'empty.example': [],
};

describe('resolveBindAddress', () => {
	const rows: [host: string, allowRemoteBind: boolean, expected: string | RegExp][] = [
		['127.0.0.1', false, '127.0.0.1'],
		['127.8.9.10', false, '127.8.9.10'],
		['::1', false, '::1'],
		['::ffff:127.0.0.1', false, '::ffff:127.0.0.1'],
		['localhost', false, '::1'],
		['app.localhost', false, '127.0.0.1'],
		['dev.test', false, '127.0.1.1'],
		[
			'evil.localhost',
			false,
			/binding evil\.localhost \(it resolves to 192\.0\.2\.2\) .*--allow-remote-bind/,
		],
		['half.localhost', false, /binding half\.localhost \(it resolves to 192\.0\.2\.2\)/],
		['public.example', false, /--allow-remote-bind/],
		['0.0.0.0', false, /binding 0\.0\.0\.0 on the agent needs .*--allow-remote-bind/],
		['::', false, /binding :: on the agent/],
		['::ffff:0.0.0.0', false, /--allow-remote-bind/],
		['192.0.2.2', false, /--allow-remote-bind/],
		['evil.localhost', true, '192.0.2.2'],
		['0.0.0.0', true, '0.0.0.0'],
		[
			'nowhere.localhost',
			false,
			/cannot listen on nowhere\.localhost:0 on the agent: .* does not resolve \(ENOTFOUND\)/,
		],
		['empty.example', true, /empty\.example has no address/],
	];
	for (const [host, allowRemoteBind, expected] of rows) {
		const flag = allowRemoteBind ? ' with --allow-remote-bind' : '';
		it(`${host}${flag}: ${typeof expected === 'string' ? `binds ${expected}` : 'refused'}`, async () => {
			const lookup = tableLookup(table);
			const resolving = resolveBindAddress(host, 0, { allowRemoteBind, lookup });
			if (typeof expected === 'string') {
				assert.equal(await resolving, expected);
			} else {
				await assert.rejects(resolving, { message: expected });
			}
			assert.ok(lookup.calls.length <= 1, 'one lookup at most');
		});
	}

	it('refuses with a usage error, and a name that does not resolve with a listen error', async () => {
		const lookup = tableLookup(table);
		await assert.rejects(resolveBindAddress('evil.localhost', 0, { allowRemoteBind: false, lookup }), {
			code: 'BERTH_ERR_USAGE',
		});
		await assert.rejects(resolveBindAddress('nowhere.localhost', 0, { allowRemoteBind: false, lookup }), {
			code: 'BERTH_ERR_LISTEN',
		});
	});

	const loopback: [string, boolean][] = [
		['127.0.0.1', true],
		['127.255.255.255', true],
		['::1', true],
		['0:0:0:0:0:0:0:1', true],
		['::ffff:127.0.0.1', true],
		['::ffff:7f00:1', true],
		['0.0.0.0', false],
		['::', false],
		['128.0.0.1', false],
		['localhost', false],
	];
	for (const [address, expected] of loopback) {
		it(`${address} is ${expected ? '' : 'not '}a loopback address`, () =>
			assert.equal(isLoopbackAddress(address), expected));
	}
});

describe('RemoteForwards: the bind name is resolved once, checked, and the checked address bound', () => {
	function forwards(lookup: BindLookup): RemoteForwards {
		// No connection reaches these listeners' streams here: the Mux is never used.
		return new RemoteForwards({
			mux: {} as Mux,
			allowRemoteBind: false,
			log: createNullLogger(),
			timers: new ManualTimers(),
			onChange: () => undefined,
			lookup,
		});
	}

	it('refuses a *.localhost name that resolves to a public address, and opens no listener', async () => {
		const lookup = tableLookup(table);
		const remote = forwards(lookup);
		await assert.rejects(
			remote.add({ bindHost: 'evil.localhost', bindPort: 0, targetHost: '127.0.0.1', targetPort: 9 }),
			{ code: 'BERTH_ERR_USAGE', message: /--allow-remote-bind/ },
		);
		assert.deepEqual(remote.list(), []);
		assert.deepEqual(lookup.calls, ['evil.localhost']);
		remote.dispose();
	});

	it('binds the address it checked, not the name again (a second answer could differ)', async () => {
		let answers = 0;
		const fickle: BindLookup = () =>
			Promise.resolve([{ address: answers++ === 0 ? '127.0.0.1' : '192.0.2.2' }]);
		const remote = forwards(fickle);
		const info = await remote.add({
			bindHost: 'fickle.localhost',
			bindPort: 0,
			targetHost: '127.0.0.1',
			targetPort: 9,
		});
		assert.equal(answers, 1, 'the name was resolved once');
		assert.equal(info.bindHost, 'fickle.localhost', 'the forward is shown as asked');
		const socket = connect({ host: '127.0.0.1', port: info.bindPort });
		socket.on('error', () => undefined);
		await new Promise<void>((resolve, reject) => {
			socket.once('connect', resolve);
			socket.once('error', reject);
		});
		socket.destroy();
		remote.dispose();
	});

	it('refuses a name that resolves to loopback and to a public address', async () => {
		const remote = forwards(tableLookup(table));
		await assert.rejects(
			remote.add({ bindHost: 'half.localhost', bindPort: 0, targetHost: '127.0.0.1', targetPort: 9 }),
			{ code: 'BERTH_ERR_USAGE' },
		);
		assert.deepEqual(remote.list(), []);
		remote.dispose();
	});

	it('closes a listener that opened after its session ended', async () => {
		let answer!: () => void;
		const slow: BindLookup = () =>
			new Promise((resolve) => (answer = () => resolve([{ address: '127.0.0.1' }])));
		const remote = forwards(slow);
		const adding = remote.add({ bindHost: 'slow.localhost', bindPort: 0, targetHost: 'h', targetPort: 9 });
		remote.dispose();
		answer();
		await assert.rejects(adding, { code: 'BERTH_ERR_CLOSED' });
		assert.deepEqual(remote.list(), []);
	});
});
