import { BlockList, isIP } from 'node:net';
import { BerthError } from '../../protocol/errors';
import { formatHostPort } from '../../protocol/host-port';

/**
 * Which targets the agent connects to for its clients: `--allow` and `--deny` rules, HOST:PORTS.
 *
 *     rule                      HOST                                   PORTS
 *     127.0.0.1:*               the address 127.0.0.1                  any
 *     10.0.0.0/8:22,80-90       the block 10.0.0.0/8                   22 and 80 to 90
 *     [::1]:22                  the address ::1 (IPv6 in brackets)     22
 *     [fd00::/8]:*              the block fd00::/8                     any
 *     db:5432                   the name db, as the client asked it    5432
 *     *.corp.example:443        one label, then .corp.example          443
 *     *:22                      any host                               22
 *
 * Refused when parsed: IPv6 without brackets (`fd00::1:80` is fd00::1 port 80, or fd00::1:80 on
 * no port), brackets around anything else, ports outside 1-65535, prefix lengths too long.
 *
 * How a target is judged, for each address its name resolves to:
 * 1. With any rule at all, an unspecified address is refused, whatever the rules say (see
 *    `isUnspecifiedAddress`).
 * 2. A matching deny rule refuses it; with allow rules, one of them must match.
 * Names are matched against the name the client asked for (case aside), addresses and blocks
 * against every address it resolves to, so a name cannot reach a denied address. An address rule
 * covers that address only: `--deny 127.0.0.1:5432` leaves `[::1]:5432` and `127.0.0.2:5432`
 * open, which reach a service listening on both loopbacks or on every interface. To close a
 * service, deny every address it listens on (`127.0.0.0/8`, `[::1]`), or better, allow a list.
 */
export class TargetPolicy {
	private constructor(
		private readonly allow: readonly CompiledRule[],
		private readonly deny: readonly CompiledRule[],
	) {}

	/** @throws BerthError BERTH_ERR_USAGE naming the flag and rule that does not parse. */
	static parse(allow: readonly string[], deny: readonly string[]): TargetPolicy {
		return new TargetPolicy(
			allow.map((r) => compileRule(parseTargetRule(r, '--allow'))),
			deny.map((r) => compileRule(parseTargetRule(r, '--deny'))),
		);
	}

	static readonly openToAll = new TargetPolicy([], []);

	get isOpen(): boolean {
		return this.allow.length === 0 && this.deny.length === 0;
	}

	/**
	 * Whether `address` (one resolution of `host`) may be reached on `port`. Returns the reason it
	 * may not, or undefined.
	 */
	refusal(host: string, address: string, port: number): string | undefined {
		if (this.isOpen) {
			return undefined;
		}
		const target = describeTarget(host, address, port);
		if (isUnspecifiedAddress(address)) {
			return (
				`${target} is refused by the agent's policy: ${address} is an unspecified address, which ` +
				"the system turns into one of the agent's own (name the service's address, e.g. 127.0.0.1)"
			);
		}
		const denied = this.deny.find((rule) => rule.matches(host, address, port));
		if (denied) {
			return `${target} is refused by the agent's policy (--deny ${denied.text})`;
		}
		if (this.allow.length > 0 && !this.allow.some((rule) => rule.matches(host, address, port))) {
			return `${target} is not in the agent's --allow list`;
		}
		return undefined;
	}
}

/** What a rule's HOST part names. */
export type HostPattern =
	| { readonly type: 'any' }
	/** A name, lower case; `*` stands for one label. */
	| { readonly type: 'name'; readonly name: string }
	/** An address (prefix 32 or 128) or a CIDR block. */
	| { readonly type: 'block'; readonly network: string; readonly prefix: number; readonly family: 4 | 6 };

/** A rule's PORTS part: inclusive ranges, or any port. */
export type PortRanges = 'any' | readonly (readonly [number, number])[];

/** One `--allow`/`--deny` rule, as written and as read. */
export interface TargetRule {
	readonly text: string;
	readonly host: HostPattern;
	readonly ports: PortRanges;
}

/**
 * Reads one rule (grammar above `TargetPolicy`).
 * @throws BerthError BERTH_ERR_USAGE saying what is wrong and what a rule looks like.
 */
export function parseTargetRule(text: string, flag = '--allow'): TargetRule {
	const bad = (why: string) =>
		new BerthError(
			'BERTH_ERR_USAGE',
			`${flag} ${JSON.stringify(text)}: ${why} (expected HOST:PORTS, e.g. 10.0.0.0/8:22,80-90 or [::1]:*)`,
		);
	const { host, ports } = splitRule(text, bad);
	return { text, host: parseHost(host, bad), ports: parsePorts(ports, bad) };
}

/** The HOST and PORTS parts; HOST without its brackets, which only an IPv6 address or block may have. */
function splitRule(text: string, bad: (why: string) => Error): { host: string; ports: string } {
	if (text.startsWith('[')) {
		const end = text.indexOf(']');
		if (end < 0 || text[end + 1] !== ':') {
			throw bad('unbalanced brackets, or no :PORTS after them');
		}
		const host = text.slice(1, end);
		if (isIP(host.split('/')[0] ?? '') !== 6) {
			throw bad(`brackets hold an IPv6 address or block, not ${JSON.stringify(host)}`);
		}
		return { host, ports: text.slice(end + 2) };
	}
	const colon = text.lastIndexOf(':');
	if (colon < 0) {
		throw bad('no :PORTS part');
	}
	const host = text.slice(0, colon);
	if (host === '') {
		throw bad('no HOST part');
	}
	if (host.includes(':')) {
		throw bad(`an IPv6 address goes in brackets, e.g. [${host}]:PORTS`);
	}
	return { host, ports: text.slice(colon + 1) };
}

function parseHost(text: string, bad: (why: string) => Error): HostPattern {
	if (text === '*') {
		return { type: 'any' };
	}
	const [network = '', prefixText, ...rest] = text.split('/');
	const family = isIP(network);
	if (family === 4 || family === 6) {
		const maxBits = family === 4 ? 32 : 128;
		if (prefixText === undefined) {
			return { type: 'block', network, prefix: maxBits, family };
		}
		const prefix = Number(prefixText);
		if (rest.length > 0 || !/^\d{1,3}$/.test(prefixText) || prefix > maxBits) {
			throw bad(`bad prefix length /${prefixText} (0-${maxBits})`);
		}
		return { type: 'block', network, prefix, family };
	}
	if (prefixText !== undefined || !/^[A-Za-z0-9*._-]+$/.test(text)) {
		throw bad(`${JSON.stringify(text)} is not a host name, address or CIDR block`);
	}
	return { type: 'name', name: text.toLowerCase() };
}

function parsePorts(text: string, bad: (why: string) => Error): PortRanges {
	if (text === '*') {
		return 'any';
	}
	return text.split(',').map((part) => {
		const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part);
		const low = Number(match?.[1]);
		const high = Number(match?.[2] ?? match?.[1]);
		if (!match || low < 1 || high > 65535 || low > high) {
			throw bad(`${JSON.stringify(part)} is not a port or port range (1-65535)`);
		}
		return [low, high] as const;
	});
}

interface CompiledRule {
	readonly text: string;
	matches(host: string, address: string, port: number): boolean;
}

function compileRule(rule: TargetRule): CompiledRule {
	const ports = rule.ports;
	const inPorts = (port: number) =>
		ports === 'any' || ports.some(([low, high]) => port >= low && port <= high);
	const host = rule.host;
	let matchesHost: (host: string, address: string) => boolean;
	switch (host.type) {
		case 'any':
			matchesHost = () => true;
			break;
		case 'name': {
			const pattern = new RegExp(`^${host.name.replace(/[.]/g, '\\.').replace(/\*/g, '[^.]+')}$`, 'i');
			matchesHost = (name) => pattern.test(name);
			break;
		}
		case 'block': {
			const list = new BlockList();
			list.addSubnet(host.network, host.prefix, host.family === 4 ? 'ipv4' : 'ipv6');
			matchesHost = (_name, address) => inBlockList(list, address);
			break;
		}
	}
	return { text: rule.text, matches: (name, address, port) => inPorts(port) && matchesHost(name, address) };
}

/** BlockList matches IPv4-mapped IPv6 addresses against IPv4 blocks, and ignores a zone (`%lo`). */
function inBlockList(list: BlockList, address: string): boolean {
	const family = isIP(address);
	return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Whether a target address is unspecified: 0.0.0.0/8 ("this network"), `::`, or either mapped
 * into IPv6 (`::ffff:0.0.0.0`), however it was spelled (`0`, `0x0`, `0.0`, `[::]`) or whatever
 * name resolved to it. A connect to one is not refused by the system: Linux sends it to 127.0.0.1
 * or ::1, BSD and macOS to an address of the primary interface. So it reaches a local service
 * through an address no rule names. Berth refuses these rather than reading them as loopback:
 * where they land depends on the system (an allow list of 127.0.0.1 must not admit what lands on
 * a public address), and no client needs them, since what they reach has an address of its own.
 */
export function isUnspecifiedAddress(address: string): boolean {
	// A BlockList parses every IPv6 spelling and maps ::ffff:a.b.c.d onto the IPv4 block; one is
	// built per call (microseconds, once per resolved address) to keep no module state.
	const unspecified = new BlockList();
	unspecified.addSubnet('0.0.0.0', 8, 'ipv4');
	unspecified.addAddress('::', 'ipv6');
	return inBlockList(unspecified, address);
}

/** `host:port`, with the address it resolved to when that is another spelling (`0:80 (0.0.0.0)`). */
function describeTarget(host: string, address: string, port: number): string {
	const target = formatHostPort(host, port);
	return host === address ? target : `${target} (${address})`;
}
