import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bracketHost, formatHostPort } from '../../protocol/host-port';
import { spawnCli, startAgent, tempDir, type AgentProcess, type CliProcess } from '../helpers/agent-process';
import { freePort, serve, startEchoServer } from '../helpers/net';
import { within } from '../helpers/wait';
import { WireClient } from '../helpers/wire-client';

/**
 * The agent's target policy on the real dist/server.js, as the security review attacked it
 * (rows 3b, 3c, 3g and 3i): every spelling of a denied service is tried through `berth forward
 * -L` (a stream) and through a Tunnel (3) connection spoken on the wire. A refused target must
 * not hear from the service, must be refused in words, and no process may exit; allowed targets
 * must still work.
 */

type ServiceName = 'v4' | 'v6' | 'open' | 'public';

/** One target: the host as the client writes it (no brackets), which service's port, what happens. */
interface Row {
	/** Undefined when this host has no such name or address (the test is skipped, saying why). */
	readonly host: string | undefined;
	readonly service: ServiceName;
	/** 'reached' (the banner arrives) or the words of the refusal. */
	readonly expect: 'reached' | RegExp;
	readonly note?: string;
}

const UNSPECIFIED = /is refused by the agent's policy: .* is an unspecified address/;
const DENIED = /is refused by the agent's policy \(--deny /;
const NOT_ALLOWED = /is not in the agent's --allow list/;
/**
 * Spellings whose fate is the system resolver's (glibc reads neither `localhost.` nor `127.0.0.1.`
 * here; other systems map them to loopback): refused by the policy, or not found.
 */
const DENIED_OR_UNKNOWN = /is refused by the agent's policy \(--deny |ENOTFOUND|EAI_AGAIN/;
/** `localhost` is both loopbacks: with 127.0.0.1 denied, ::1 is tried, where the v4 service is not. */
const ONLY_V6_TRIED = /ECONNREFUSED ::1:\d+/;

/** The banner each service sends (and closes): a refused target must never receive one. */
const BANNER: Record<ServiceName, string> = {
	v4: 'SECRET from the 127.0.0.1-only service\n',
	v6: 'SECRET from the ::1-only service\n',
	open: 'hello from the allowed service\n',
	public: "hello from the host's own public address\n",
};

/** A non-loopback IPv4 address of this host (the review's 192.0.2.2), if it has one. */
function publicAddress(): string | undefined {
	for (const addresses of Object.values(networkInterfaces())) {
		const found = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
		if (found) {
			return found.address;
		}
	}
	return undefined;
}

/** This host's name, when the system resolver answers it with 127.0.0.1 alone (a name for 127.0.0.1). */
async function loopbackHostName(): Promise<string | undefined> {
	const name = hostname();
	const answers = await lookup(name, { all: true }).catch(() => []);
	return answers.length > 0 && answers.every((a) => a.address === '127.0.0.1') ? name : undefined;
}

/** What the rows need from this host. */
interface HostNames {
	/** A name the system resolver answers with 127.0.0.1 alone (this host's name, often). */
	readonly loopbackName: string | undefined;
	/** A non-loopback address of this host. */
	readonly publicHost: string | undefined;
}

/** Stand-ins for the test names, which are chosen before the host is looked at. */
const PLACEHOLDERS: HostNames = { loopbackName: '<a name for 127.0.0.1>', publicHost: '<a public address>' };

interface Services {
	readonly ports: Record<ServiceName, number | undefined>;
	readonly publicHost: string | undefined;
	close(): Promise<void>;
}

async function startServices(): Promise<Services> {
	const banner = (name: ServiceName) => (socket: import('node:net').Socket) => socket.end(BANNER[name]);
	const v4 = await serve(banner('v4'), '127.0.0.1');
	const v6 = await serve(banner('v6'), '::1');
	const open = await serve(banner('open'), '127.0.0.1');
	const publicHost = publicAddress();
	const pub = publicHost ? await serve(banner('public'), publicHost) : undefined;
	return {
		ports: { v4: v4.port, v6: v6.port, open: open.port, public: pub?.port },
		publicHost,
		close: async () => {
			await Promise.all([v4.close(), v6.close(), open.close(), pub?.close()]);
		},
	};
}

/** Connects to a local -L port and reads until the forward closes it. */
async function readThrough(port: number): Promise<{ data: string; error?: string }> {
	const socket = connect({ port, host: '127.0.0.1' });
	let data = '';
	let error: string | undefined;
	socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
	socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
	await within(
		new Promise<void>((resolve) => socket.once('close', () => resolve())),
		5_000,
		`the forward on port ${port} to answer or close`,
	);
	return error === undefined ? { data } : { data, error };
}

function alive(process: { readonly child: { exitCode: number | null; signalCode: string | null } }): boolean {
	return process.child.exitCode === null && process.child.signalCode === null;
}

function escape(text: string): string {
	return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** One agent with a policy, one `berth forward` with an -L per row, and a test per row and path. */
function policySuite(title: string, rules: (s: Services) => string[], rows: (names: HostNames) => Row[]) {
	describe(title, () => {
		let services: Services;
		let agent: AgentProcess;
		let cli: CliProcess;
		let table: Row[];
		const local = new Map<Row, number>();

		before(async () => {
			services = await startServices();
			table = rows({ loopbackName: await loopbackHostName(), publicHost: services.publicHost });
			agent = await startAgent({ args: rules(services) });
			const tokenFile = join(tempDir(), 'token');
			writeFileSync(tokenFile, agent.token! + '\n', { mode: 0o600 });
			const usable = table.filter(
				(row) => row.host !== undefined && services.ports[row.service] !== undefined,
			);
			const target = (row: Row) => formatHostPort(row.host, services.ports[row.service]);
			const specs = usable.flatMap((row) => [
				'-L',
				`0:${bracketHost(row.host!)}:${services.ports[row.service]}`,
			]);
			cli = spawnCli(['forward', '-u', agent.url, '--token-file', tokenFile, ...specs]);
			for (const row of usable) {
				const line = new RegExp(`^Forwarding 127\\.0\\.0\\.1:(\\d+) -> ${escape(target(row))} via `);
				local.set(row, Number((await cli.waitForStdout(line))[1]));
			}
		});
		after(async () => {
			assert.equal(await cli.stop(), 0);
			assert.equal(await agent.stop(), 0);
			await services.close();
		});

		/** This host's row at `index`, or undefined (the test skips) when it lacks the name or address. */
		const rowAt = (index: number): { row: Row; host: string; port: number } | undefined => {
			const row = table[index]!;
			const port = services.ports[row.service];
			return row.host === undefined || port === undefined ? undefined : { row, host: row.host, port };
		};

		rows(PLACEHOLDERS).forEach((shape, index) => {
			const label =
				`${shape.host} to the ${shape.service} service: ${shape.expect === 'reached' ? 'reached' : 'refused'}` +
				(shape.note ? ` (${shape.note})` : '');

			it(`-L ${label}`, async (t) => {
				const found = rowAt(index);
				if (!found) {
					t.skip(`this host has no ${shape.host}`);
					return;
				}
				const { row, host, port } = found;
				const localPort = local.get(row)!;
				const answer = await readThrough(localPort);
				if (row.expect === 'reached') {
					assert.equal(answer.data, BANNER[row.service]);
				} else {
					assert.equal(answer.data, '', 'not a byte from the service');
					const logged = new RegExp(
						`forward 127\\.0\\.0\\.1:${localPort} -> ${escape(formatHostPort(host, port))}: `,
					);
					assert.match(await cli.waitForStderr(logged), row.expect);
				}
				assert.ok(alive(agent), 'the agent is still running');
				assert.ok(alive(cli), 'berth forward is still running');
			});

			it(`Tunnel ${label}`, async (t) => {
				const found = rowAt(index);
				if (!found) {
					t.skip(`this host has no ${shape.host}`);
					return;
				}
				const { row, host, port } = found;
				const client = await WireClient.raw(agent.port);
				client.expectRawAfterOk();
				const { reply } = await client.handshake({
					token: agent.token,
					connectionType: 3,
					args: { host, port },
				});
				if (row.expect === 'reached') {
					assert.deepEqual(reply, { type: 'ok' });
					client.startRaw();
					const banner = BANNER[row.service];
					assert.equal((await client.readRaw(banner.length)).toString(), banner);
					client.destroy();
				} else {
					assert.equal(reply['type'], 'error', `refused, not ${JSON.stringify(reply)}`);
					assert.match(String(reply['reason']), row.expect);
					await client.waitClosed();
				}
				assert.ok(alive(agent), 'the agent is still running');
			});
		});
	});
}

policySuite(
	'3b: --deny 127.0.0.1:P, every spelling of the 127.0.0.1-only service',
	(s) => ['--deny', `127.0.0.1:${s.ports.v4}`],
	({ loopbackName }) => [
		{ host: '127.0.0.1', service: 'v4', expect: DENIED },
		{ host: '0.0.0.0', service: 'v4', expect: UNSPECIFIED, note: 'the review: reached it' },
		{ host: '0', service: 'v4', expect: UNSPECIFIED, note: 'the review: reached it' },
		{ host: '::ffff:0.0.0.0', service: 'v4', expect: UNSPECIFIED, note: 'the review: reached it' },
		{ host: '0x0', service: 'v4', expect: UNSPECIFIED },
		{ host: '127.1', service: 'v4', expect: DENIED },
		{ host: '2130706433', service: 'v4', expect: DENIED },
		{ host: '0x7f000001', service: 'v4', expect: DENIED },
		{ host: '0177.0.0.1', service: 'v4', expect: DENIED },
		{ host: '::ffff:127.0.0.1', service: 'v4', expect: DENIED },
		{ host: '::ffff:7f00:1', service: 'v4', expect: DENIED },
		{ host: 'localhost', service: 'v4', expect: ONLY_V6_TRIED },
		{ host: 'LOCALHOST', service: 'v4', expect: ONLY_V6_TRIED },
		{ host: 'localhost.', service: 'v4', expect: DENIED_OR_UNKNOWN },
		{ host: '127.0.0.1.', service: 'v4', expect: DENIED_OR_UNKNOWN },
		{ host: loopbackName, service: 'v4', expect: DENIED, note: 'a name that resolves to 127.0.0.1' },
		{ host: '127.0.0.1', service: 'open', expect: 'reached', note: 'another port' },
		{ host: '::1', service: 'v6', expect: 'reached', note: 'an address rule covers that address only' },
	],
);

policySuite(
	"3c: --deny '127.0.0.0/8:*' --deny '[::1]:*', every loopback denied",
	() => ['--deny', '127.0.0.0/8:*', '--deny', '[::1]:*'],
	({ publicHost }) => [
		{ host: '0.0.0.0', service: 'v4', expect: UNSPECIFIED, note: 'the review: reached it' },
		{ host: '0', service: 'v4', expect: UNSPECIFIED, note: 'the review: reached it' },
		{ host: '::ffff:0.0.0.0', service: 'v4', expect: UNSPECIFIED, note: 'the review: reached it' },
		{ host: '::', service: 'v6', expect: UNSPECIFIED, note: 'the review: reached it' },
		{ host: '0.0', service: 'v4', expect: UNSPECIFIED },
		{ host: '127.0.0.2', service: 'v4', expect: DENIED },
		{ host: '::1', service: 'v6', expect: DENIED },
		{ host: '::ffff:127.0.0.1', service: 'v4', expect: DENIED },
		{ host: 'localhost', service: 'v4', expect: DENIED },
		{ host: 'localhost', service: 'v6', expect: DENIED },
		{ host: publicHost, service: 'public', expect: 'reached', note: 'not loopback: allowed' },
	],
);

policySuite(
	'3g: an allow list (--allow 127.0.0.1:P)',
	(s) => ['--allow', `127.0.0.1:${s.ports.open}`],
	() => [
		{ host: '127.0.0.1', service: 'open', expect: 'reached' },
		{ host: '127.1', service: 'open', expect: 'reached', note: 'another spelling of the allowed address' },
		{ host: 'localhost', service: 'open', expect: 'reached', note: 'its 127.0.0.1' },
		{ host: '0.0.0.0', service: 'open', expect: UNSPECIFIED },
		{ host: '::', service: 'open', expect: UNSPECIFIED },
		{ host: '::1', service: 'v6', expect: NOT_ALLOWED },
		{ host: '127.0.0.1', service: 'v4', expect: NOT_ALLOWED, note: 'another port' },
	],
);

/**
 * 3i: `-R evil.localhost:…` where the name resolves to the host's public address. The agent runs
 * in a user and mount namespace (`unshare -rm`) whose /etc/hosts is a file this test writes, so
 * the real resolver (getaddrinfo, as the agent calls it) answers what a hostile DNS or search
 * domain would. Where unprivileged namespaces are not allowed the test skips: the same rule is
 * covered with an injected resolver in test/unit/server/remote-forwards.test.ts.
 */
describe('3i: a reverse bind checks the addresses its name resolves to, not its spelling', () => {
	// The probe does what the agent's wrapper does: a user and mount namespace, and a bind mount there.
	const usable = spawnSync('unshare', ['-rm', 'sh', '-c', 'mount --bind /etc/hosts /etc/hosts']).status === 0;
	const publicHost = publicAddress();
	/** Where evil.localhost points: the host's own public address if it has one (then a listener could open there). */
	const evilAddress = publicHost ?? '198.51.100.7';
	let agent: AgentProcess;
	let echo: Awaited<ReturnType<typeof startEchoServer>>;
	let tokenFile: string;

	before(async () => {
		if (!usable) {
			return;
		}
		const dir = tempDir();
		const hosts = join(dir, 'hosts');
		writeFileSync(
			hosts,
			`127.0.0.1 localhost\n::1 localhost\n${evilAddress} evil.localhost\n127.0.0.1 good.localhost\n`,
		);
		echo = await startEchoServer();
		agent = await startAgent({
			wrapper: [
				'unshare',
				'-rm',
				'sh',
				'-c',
				'mount --bind "$BERTH_TEST_HOSTS" /etc/hosts && exec "$0" "$@"',
			],
			env: { BERTH_TEST_HOSTS: hosts },
		});
		tokenFile = join(dir, 'token');
		writeFileSync(tokenFile, agent.token! + '\n', { mode: 0o600 });
	});
	after(async () => {
		if (usable) {
			assert.equal(await agent.stop(), 0);
			await echo.close();
		}
	});

	it('refuses -R evil.localhost (a public address) and opens no listener; good.localhost (127.0.0.1) works', async (t) => {
		if (!usable) {
			t.skip('unprivileged user namespaces are not available here (see the unit test)');
			return;
		}
		// Without a public address of its own the host cannot listen on evilAddress anyway: any port will do.
		const evilPort = publicHost ? await freePort(publicHost) : await freePort();
		const cli = spawnCli([
			'forward',
			'-u',
			agent.url,
			'--token-file',
			tokenFile,
			'-R',
			`evil.localhost:${evilPort}:127.0.0.1:${echo.port}`,
			'-R',
			`good.localhost:0:127.0.0.1:${echo.port}`,
		]);
		try {
			const refused = await cli.waitForStderr(/forward -R evil\.localhost:/);
			assert.match(
				refused,
				new RegExp(
					`binding evil\\.localhost \\(it resolves to ${escape(evilAddress)}\\) on the agent needs .*--allow-remote-bind`,
				),
			);
			const m = await cli.waitForStdout(/^Forwarding agent good\.localhost:(\d+) -> 127\.0\.0\.1:\d+ here/);
			const socket = connect({ port: Number(m[1]), host: '127.0.0.1' });
			const echoed = new Promise<string>((resolve, reject) => {
				let data = '';
				socket.on('data', (c: Buffer) => (data += c.toString()));
				socket.on('end', () => resolve(data));
				socket.on('error', reject);
			});
			socket.end('through good.localhost');
			assert.equal(await within(echoed, 5_000, 'the echo through good.localhost'), 'through good.localhost');
			if (publicHost) {
				const probe = connect({ port: evilPort, host: publicHost });
				const outcome = await new Promise<string>((resolve) => {
					probe.once('connect', () => resolve('connected'));
					probe.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
				});
				probe.destroy();
				assert.equal(outcome, 'ECONNREFUSED', `nothing listens on ${publicHost}:${evilPort}`);
			}
			assert.ok(alive(agent), 'the agent is still running');
			assert.ok(alive(cli), 'berth forward is still running');
		} finally {
			await cli.stop();
		}
	});
});
