import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { describe, it } from 'node:test';
import { connectTarget, type TargetResolver } from '../../../server/shared/connect-target';
import { createNodeTimers } from '../../../server/shared/transport/node-timers';
import {
	isUnspecifiedAddress,
	parseTargetRule,
	TargetPolicy,
	type TargetRule,
} from '../../../server/shared/target-policy';

/** Real timers: these connects reach the real resolver and sockets. */
const timers = createNodeTimers();

/**
 * The --allow/--deny grammar and its judgements as tables (chisel's remote_test.go style): rule
 * text → what it reads as, or a usage error; then (rules, target as asked, address it resolved
 * to, port) → allowed, or refused with words. The spellings are those of the security review's
 * rows 3b, 3c, 3e, 3f and 3g.
 */

const P = 5000;

describe('--allow/--deny rules: what each one reads as', () => {
	const v4 = (network: string, prefix = 32) => ({ type: 'block', network, prefix, family: 4 }) as const;
	const v6 = (network: string, prefix = 128) => ({ type: 'block', network, prefix, family: 6 }) as const;
	const name = (text: string) => ({ type: 'name', name: text }) as const;
	const rows: [string, Omit<TargetRule, 'text'>][] = [
		['127.0.0.1:*', { host: v4('127.0.0.1'), ports: 'any' }],
		[
			'10.0.0.0/8:22,80-90',
			{
				host: v4('10.0.0.0', 8),
				ports: [
					[22, 22],
					[80, 90],
				],
			},
		],
		['0.0.0.0/0:1-65535', { host: v4('0.0.0.0', 0), ports: [[1, 65535]] }],
		['127.0.0.0/8:*', { host: v4('127.0.0.0', 8), ports: 'any' }],
		['[::1]:22', { host: v6('::1'), ports: [[22, 22]] }],
		['[fd00::/8]:*', { host: v6('fd00::', 8), ports: 'any' }],
		['[::ffff:127.0.0.1]:5432', { host: v6('::ffff:127.0.0.1'), ports: [[5432, 5432]] }],
		['[::]:*', { host: v6('::'), ports: 'any' }],
		['db:5432', { host: name('db'), ports: [[5432, 5432]] }],
		['DB.Corp.Example:5432', { host: name('db.corp.example'), ports: [[5432, 5432]] }],
		['*.corp.example:443', { host: name('*.corp.example'), ports: [[443, 443]] }],
		['localhost.:80', { host: name('localhost.'), ports: [[80, 80]] }],
		// Not an address (isIP says no), so a name: it matches the name "0" as asked, nothing else.
		['0:80', { host: name('0'), ports: [[80, 80]] }],
		['*:22', { host: { type: 'any' }, ports: [[22, 22]] }],
		['*:*', { host: { type: 'any' }, ports: 'any' }],
		[
			'*:8000-8100,22',
			{
				host: { type: 'any' },
				ports: [
					[8000, 8100],
					[22, 22],
				],
			},
		],
	];
	for (const [input, expected] of rows) {
		it(`reads ${input}`, () => {
			const { text, ...rule } = parseTargetRule(input);
			assert.equal(text, input);
			assert.deepEqual(rule, expected);
		});
	}

	const bad: [string, RegExp][] = [
		['127.0.0.1', /no :PORTS part/],
		['db', /no :PORTS part/],
		[':22', /no HOST part/],
		['::1:22', /IPv6 address goes in brackets, e\.g\. \[::1\]:PORTS/],
		['fd00::1:80', /IPv6 address goes in brackets/],
		['127.0.0.1:*:*', /IPv6 address goes in brackets/],
		['[::1]22', /unbalanced brackets/],
		['[::1:22', /unbalanced brackets/],
		['[db]:22', /brackets hold an IPv6 address or block, not "db"/],
		['[127.0.0.1]:22', /brackets hold an IPv6 address/],
		['10.0.0.0/33:*', /bad prefix length \/33 \(0-32\)/],
		['[::/129]:*', /bad prefix length \/129 \(0-128\)/],
		['10.0.0.0/:*', /bad prefix length/],
		['10.0.0.0/8/9:*', /bad prefix length/],
		['10.0.0.0/x:*', /bad prefix length/],
		['db/8:*', /is not a host name, address or CIDR block/],
		['a b:22', /is not a host name/],
		['db:0', /"0" is not a port or port range \(1-65535\)/],
		['db:65536', /"65536" is not a port/],
		['db:90-80', /"90-80" is not a port/],
		['db:', /"" is not a port/],
		['db:22,', /"" is not a port/],
		['db:x', /"x" is not a port/],
		['db:1-2-3', /"1-2-3" is not a port/],
		['db:-5', /"-5" is not a port/],
	];
	for (const [input, why] of bad) {
		it(`refuses ${JSON.stringify(input)}: ${why.source}`, () => {
			assert.throws(() => parseTargetRule(input, '--deny'), { code: 'BERTH_ERR_USAGE', message: why });
			assert.throws(() => parseTargetRule(input, '--deny'), {
				message: new RegExp(`^--deny ${escape(JSON.stringify(input))}: .*\\(expected HOST:PORTS`),
			});
		});
	}

	it('names the flag of a rule that does not parse', () => {
		assert.throws(() => TargetPolicy.parse(['db:5432'], ['db:x']), { message: /^--deny "db:x"/ });
		assert.throws(() => TargetPolicy.parse(['::1:22'], []), { message: /^--allow "::1:22"/ });
	});
});

/** Rules, the target as the client asked for it, the address it resolved to, the port → verdict. */
type Verdict = 'allowed' | RegExp;
interface Case {
	readonly host: string;
	readonly address?: string;
	readonly port?: number;
	readonly verdict: Verdict;
}

const UNSPECIFIED = /is an unspecified address, which the system turns into one of the agent's own/;
const DENIED = /is refused by the agent's policy \(--deny /;
const NOT_ALLOWED = /is not in the agent's --allow list/;

const tables: { title: string; allow?: string[]; deny?: string[]; cases: Case[] }[] = [
	{
		title: '3b: --deny 127.0.0.1:P',
		deny: [`127.0.0.1:${P}`],
		cases: [
			{ host: '127.0.0.1', verdict: DENIED },
			{ host: 'localhost', address: '127.0.0.1', verdict: DENIED },
			{ host: '127.1', address: '127.0.0.1', verdict: DENIED },
			{ host: '2130706433', address: '127.0.0.1', verdict: DENIED },
			{ host: '0x7f000001', address: '127.0.0.1', verdict: DENIED },
			{ host: '0177.0.0.1', address: '127.0.0.1', verdict: DENIED },
			{ host: '::ffff:127.0.0.1', verdict: DENIED },
			{ host: '::ffff:7f00:1', verdict: DENIED },
			{ host: '127.0.0.1.', address: '127.0.0.1', verdict: DENIED },
			{ host: 'LOCALHOST', address: '127.0.0.1', verdict: DENIED },
			{ host: 'localhost.', address: '127.0.0.1', verdict: DENIED },
			{ host: 'app.example', address: '127.0.0.1', verdict: DENIED },
			// The bypass the review found: each reaches 127.0.0.1 on Linux.
			{ host: '0.0.0.0', verdict: UNSPECIFIED },
			{ host: '0', address: '0.0.0.0', verdict: UNSPECIFIED },
			{ host: '::ffff:0.0.0.0', verdict: UNSPECIFIED },
			{ host: '::ffff:0:0', verdict: UNSPECIFIED },
			{ host: '0x0', address: '0.0.0.0', verdict: UNSPECIFIED },
			{ host: 'blocked.example', address: '0.0.0.0', verdict: UNSPECIFIED },
			{ host: '0.1.2.3', verdict: UNSPECIFIED },
			{ host: '::', verdict: UNSPECIFIED },
			{ host: '0:0::0', verdict: UNSPECIFIED },
			{ host: '::%lo', verdict: UNSPECIFIED },
			// 3e: an address rule covers that address only (documented; deny the block, or allow a list).
			{ host: '::1', verdict: 'allowed' },
			{ host: 'localhost', address: '::1', verdict: 'allowed' },
			{ host: '127.0.0.2', verdict: 'allowed' },
			{ host: '127.0.0.1', port: P + 1, verdict: 'allowed' },
		],
	},
	{
		title: "3c: --deny '127.0.0.0/8:*' --deny '[::1]:*' (every loopback)",
		deny: ['127.0.0.0/8:*', '[::1]:*'],
		cases: [
			{ host: '0.0.0.0', verdict: UNSPECIFIED },
			{ host: '0', address: '0.0.0.0', verdict: UNSPECIFIED },
			{ host: '::ffff:0.0.0.0', verdict: UNSPECIFIED },
			{ host: '::', verdict: UNSPECIFIED },
			{ host: '127.0.0.2', verdict: DENIED },
			{ host: '127.255.255.254', verdict: DENIED },
			{ host: '::ffff:127.0.0.1', verdict: DENIED },
			{ host: '::1', verdict: DENIED },
			{ host: '0:0:0:0:0:0:0:1', verdict: DENIED },
			{ host: '::0.0.0.1', verdict: DENIED },
			{ host: '::1%lo', verdict: DENIED },
			{ host: 'localhost', address: '::1', verdict: DENIED },
			{ host: '192.0.2.2', verdict: 'allowed' },
			{ host: 'db.example', address: '10.1.2.3', verdict: 'allowed' },
		],
	},
	{
		title: '3f: --deny localhost:P (a name rule matches the name as asked, case aside)',
		deny: [`localhost:${P}`],
		cases: [
			{ host: 'localhost', address: '127.0.0.1', verdict: DENIED },
			{ host: 'LocalHost', address: '::1', verdict: DENIED },
			{ host: '127.0.0.1', verdict: 'allowed' },
			{ host: 'localhost.', address: '127.0.0.1', verdict: 'allowed' },
			{ host: '0.0.0.0', verdict: UNSPECIFIED },
		],
	},
	{
		title: '3g: --allow 127.0.0.1:P --allow 127.0.0.1:P+1 (an allow list)',
		allow: [`127.0.0.1:${P}`, `127.0.0.1:${P + 1}`],
		cases: [
			{ host: '127.0.0.1', verdict: 'allowed' },
			{ host: '127.0.0.1', port: P + 1, verdict: 'allowed' },
			{ host: '127.1', address: '127.0.0.1', verdict: 'allowed' },
			{ host: '::ffff:127.0.0.1', verdict: 'allowed' },
			{ host: 'localhost', address: '127.0.0.1', verdict: 'allowed' },
			{ host: 'localhost', address: '::1', verdict: NOT_ALLOWED },
			{ host: '127.0.0.1', port: P + 2, verdict: NOT_ALLOWED },
			{ host: '0.0.0.0', verdict: UNSPECIFIED },
			{ host: '0', address: '0.0.0.0', verdict: UNSPECIFIED },
			{ host: '::', verdict: UNSPECIFIED },
			{ host: '::1', verdict: NOT_ALLOWED },
			{ host: '127.0.0.2', verdict: NOT_ALLOWED },
		],
	},
	{
		title: 'an allow list of every IPv4 address still refuses the unspecified ones',
		allow: ['0.0.0.0/0:*'],
		cases: [
			{ host: '10.0.0.1', verdict: 'allowed' },
			{ host: '0.0.0.0', verdict: UNSPECIFIED },
			{ host: '::ffff:0.0.0.0', verdict: UNSPECIFIED },
			{ host: '::1', verdict: NOT_ALLOWED },
		],
	},
	{
		title: 'no rules at all: every target, as before (there is nothing to get around)',
		cases: [
			{ host: '0.0.0.0', verdict: 'allowed' },
			{ host: '::', verdict: 'allowed' },
			{ host: '127.0.0.1', verdict: 'allowed' },
		],
	},
	{
		title: 'deny wins over allow',
		allow: ['127.0.0.1:*'],
		deny: ['*:22'],
		cases: [
			{ host: '127.0.0.1', port: 22, verdict: DENIED },
			{ host: '127.0.0.1', port: 80, verdict: 'allowed' },
			{ host: '10.0.0.1', port: 80, verdict: NOT_ALLOWED },
		],
	},
	{
		title: 'name wildcards: * is one label',
		allow: ['*.corp.example:443'],
		cases: [
			{ host: 'db.corp.example', address: '10.1.2.3', port: 443, verdict: 'allowed' },
			{ host: 'DB.CORP.EXAMPLE', address: '10.1.2.3', port: 443, verdict: 'allowed' },
			{ host: 'a.b.corp.example', address: '10.1.2.3', port: 443, verdict: NOT_ALLOWED },
			{ host: 'corp.example', address: '10.1.2.3', port: 443, verdict: NOT_ALLOWED },
			{ host: 'db.corp.example.evil', address: '10.1.2.3', port: 443, verdict: NOT_ALLOWED },
			{ host: 'db.corp.example', address: '10.1.2.3', port: 80, verdict: NOT_ALLOWED },
			{ host: '10.1.2.3', port: 443, verdict: NOT_ALLOWED },
		],
	},
	{
		title: 'CIDR blocks match every spelling of their addresses, names by what they resolve to',
		deny: ['10.0.0.0/8:*', '[fd00::/8]:*'],
		cases: [
			{ host: 'db.internal', address: '10.9.8.7', port: 22, verdict: DENIED },
			{ host: '::ffff:10.1.1.1', verdict: DENIED },
			{ host: 'fd12:3456::1', verdict: DENIED },
			{ host: 'db.internal', address: '11.0.0.1', verdict: 'allowed' },
			{ host: 'fe80::1', verdict: 'allowed' },
		],
	},
	{
		title: 'port ranges and lists are inclusive',
		deny: ['*:22,8000-8100'],
		cases: [
			{ host: '10.0.0.1', port: 22, verdict: DENIED },
			{ host: '10.0.0.1', port: 8000, verdict: DENIED },
			{ host: '10.0.0.1', port: 8100, verdict: DENIED },
			{ host: '10.0.0.1', port: 21, verdict: 'allowed' },
			{ host: '10.0.0.1', port: 7999, verdict: 'allowed' },
			{ host: '10.0.0.1', port: 8101, verdict: 'allowed' },
		],
	},
];

describe('target policy: which targets are refused', () => {
	for (const table of tables) {
		describe(table.title, () => {
			const policy = TargetPolicy.parse(table.allow ?? [], table.deny ?? []);
			for (const c of table.cases) {
				const address = c.address ?? c.host;
				const port = c.port ?? P;
				const what = `${c.host}${address === c.host ? '' : ` (${address})`} port ${port}`;
				it(`${what}: ${c.verdict === 'allowed' ? 'allowed' : 'refused'}`, () => {
					const refusal = policy.refusal(c.host, address, port);
					if (c.verdict === 'allowed') {
						assert.equal(refusal, undefined);
					} else {
						assert.match(refusal ?? 'allowed', c.verdict);
						assert.ok(refusal!.includes(c.host), 'the refusal names the target as asked');
					}
				});
			}
		});
	}

	it('says which address a name resolved to when it refuses it', () => {
		const policy = TargetPolicy.parse([], ['127.0.0.0/8:*']);
		assert.equal(
			policy.refusal('0', '0.0.0.0', 80),
			"0:80 (0.0.0.0) is refused by the agent's policy: 0.0.0.0 is an unspecified address, which the " +
				"system turns into one of the agent's own (name the service's address, e.g. 127.0.0.1)",
		);
		assert.equal(
			policy.refusal('127.1', '127.0.0.1', 80),
			"127.1:80 (127.0.0.1) is refused by the agent's policy (--deny 127.0.0.0/8:*)",
		);
	});

	const unspecified: [string, boolean][] = [
		['0.0.0.0', true],
		['0.255.255.255', true],
		['::', true],
		['0:0:0:0:0:0:0:0', true],
		['::ffff:0.0.0.0', true],
		['::ffff:0.1.2.3', true],
		['1.0.0.0', false],
		['127.0.0.1', false],
		['::1', false],
		['::ffff:127.0.0.1', false],
		['not an address', false],
	];
	for (const [address, expected] of unspecified) {
		it(`${address} is ${expected ? '' : 'not '}an unspecified address`, () =>
			assert.equal(isUnspecifiedAddress(address), expected));
	}
});

describe('target policy through connectTarget: spellings the system resolver reads', () => {
	// getaddrinfo reads these numeric spellings itself (inet_aton's rules), with no DNS query:
	// the address column of the tables above is what the agent really sees.
	const numeric: [string, string][] = [
		['127.1', '127.0.0.1'],
		['2130706433', '127.0.0.1'],
		['0x7f000001', '127.0.0.1'],
		['0177.0.0.1', '127.0.0.1'],
		['0', '0.0.0.0'],
		['0x0', '0.0.0.0'],
		['0.0', '0.0.0.0'],
	];
	for (const [spelling, address] of numeric) {
		it(`the system resolver reads ${spelling} as ${address}`, async () => {
			assert.deepEqual(await lookup(spelling, { all: true }), [{ address, family: 4 }]);
		});
	}

	// Refused before any socket connects: in the lookup for names, before connect for addresses.
	const policy = TargetPolicy.parse([], ['127.0.0.0/8:*', '[::1]:*']);
	const refused: [string, RegExp][] = [
		...numeric.map(([spelling, address]): [string, RegExp] => [
			spelling,
			address === '0.0.0.0' ? UNSPECIFIED : DENIED,
		]),
		['0.0.0.0', UNSPECIFIED],
		['::', UNSPECIFIED],
		['::ffff:0.0.0.0', UNSPECIFIED],
		['::ffff:127.0.0.1', DENIED],
		['localhost', DENIED],
		['LOCALHOST', DENIED],
	];
	for (const [host, why] of refused) {
		it(`refuses ${host} with every loopback denied`, async () => {
			await assert.rejects(connectTarget(host, 9, { policy, timers }), {
				code: 'BERTH_ERR_POLICY',
				message: why,
			});
		});
	}

	// Names whose answers the test decides (a filtering DNS answers 0.0.0.0 for what it blocks).
	const answers = new Map<string, string[]>([
		['blocked.example', ['0.0.0.0']],
		['sinkhole.example', ['::']],
		['both.example', ['0.0.0.0', '127.0.0.1', '::1']],
	]);
	const resolver: TargetResolver = (hostname, _options, done) =>
		done(
			null,
			(answers.get(hostname) ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
		);
	for (const [host, addresses] of answers) {
		it(`refuses ${host}, which resolves to ${addresses.join(', ')}`, async () => {
			await assert.rejects(connectTarget(host, 9, { policy, resolver, timers }), {
				code: 'BERTH_ERR_POLICY',
				message: new RegExp(`^${escape(host)}:9 \\(${escape(addresses[0]!)}\\) is refused`),
			});
		});
	}
});

function escape(text: string): string {
	return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
