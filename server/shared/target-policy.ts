import { BlockList, isIP } from 'node:net';
import { BerthError } from '../../protocol/errors';
import { formatHostPort } from '../../protocol/host-port';

/**
 * Which targets the agent connects to for its clients: `--allow` and `--deny` rules, each
 *
 *     HOST:PORTS         HOST = a name (`db`, `*.corp.example`), an address, a CIDR block
 *                         (`10.0.0.0/8`, `fd00::/8`) or `*`; PORTS = `*`, `5432`, `8000-8100`,
 *                         or a comma list of those; IPv6 in brackets: `[::1]:22`, `[fd00::/8]:*`
 *
 *     --allow '127.0.0.1:*'   --allow 'db:5432'   --deny '10.0.0.0/8:*'   --deny '*:22'
 *
 * A target is refused when any deny rule matches; when allow rules exist, it must also match one.
 * Names are matched against the name the client asked for; addresses and CIDR blocks against
 * every address the name resolves to, so a name cannot be used to reach a denied address.
 */
export class TargetPolicy {
	private constructor(
		private readonly allow: readonly Rule[],
		private readonly deny: readonly Rule[],
	) {}

	static parse(allow: readonly string[], deny: readonly string[]): TargetPolicy {
		return new TargetPolicy(
			allow.map((r) => parseRule(r, '--allow')),
			deny.map((r) => parseRule(r, '--deny')),
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
		const denied = this.deny.find((rule) => matches(rule, host, address, port));
		if (denied) {
			return `${describeTarget(host, port)} is refused by the agent's policy (--deny ${denied.text})`;
		}
		if (this.allow.length > 0 && !this.allow.some((rule) => matches(rule, host, address, port))) {
			return `${describeTarget(host, port)} is not in the agent's --allow list`;
		}
		return undefined;
	}
}

interface Rule {
	readonly text: string;
	readonly host: { type: 'any' } | { type: 'name'; pattern: RegExp } | { type: 'addresses'; list: BlockList };
	readonly ports: readonly [number, number][] | 'any';
}

function parseRule(text: string, flag: string): Rule {
	const bad = (why: string) =>
		new BerthError(
			'BERTH_ERR_USAGE',
			`${flag} ${JSON.stringify(text)}: ${why} (expected HOST:PORTS, e.g. 10.0.0.0/8:22,80-90)`,
		);
	let hostPart: string;
	let portPart: string;
	if (text.startsWith('[')) {
		const end = text.indexOf(']');
		if (end < 0 || text[end + 1] !== ':') {
			throw bad('unbalanced brackets');
		}
		hostPart = text.slice(1, end);
		portPart = text.slice(end + 2);
	} else {
		const colon = text.lastIndexOf(':');
		if (colon <= 0) {
			throw bad('no port part');
		}
		hostPart = text.slice(0, colon);
		portPart = text.slice(colon + 1);
	}
	return { text, host: parseHost(hostPart, bad), ports: parsePorts(portPart, bad) };
}

function parseHost(text: string, bad: (why: string) => Error): Rule['host'] {
	if (text === '*') {
		return { type: 'any' };
	}
	const [base, prefix] = text.split('/');
	const family = isIP(base ?? '');
	if (family !== 0) {
		const list = new BlockList();
		const type = family === 4 ? 'ipv4' : 'ipv6';
		if (prefix === undefined) {
			list.addAddress(base!, type);
		} else {
			const bits = Number(prefix);
			if (!/^\d+$/.test(prefix) || bits > (family === 4 ? 32 : 128)) {
				throw bad(`bad prefix length /${prefix}`);
			}
			list.addSubnet(base!, bits, type);
		}
		return { type: 'addresses', list };
	}
	if (prefix !== undefined || !/^[A-Za-z0-9*._-]+$/.test(text)) {
		throw bad(`${JSON.stringify(text)} is not a host name, address or CIDR block`);
	}
	const pattern = new RegExp(`^${text.replace(/[.]/g, '\\.').replace(/\*/g, '[^.]+')}$`, 'i');
	return { type: 'name', pattern };
}

function parsePorts(text: string, bad: (why: string) => Error): Rule['ports'] {
	if (text === '*') {
		return 'any';
	}
	return text.split(',').map((part) => {
		const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part);
		const low = Number(match?.[1]);
		const high = Number(match?.[2] ?? match?.[1]);
		if (!match || low < 1 || high > 65535 || low > high) {
			throw bad(`${JSON.stringify(part)} is not a port or port range`);
		}
		return [low, high] as [number, number];
	});
}

function matches(rule: Rule, host: string, address: string, port: number): boolean {
	if (rule.ports !== 'any' && !rule.ports.some(([low, high]) => port >= low && port <= high)) {
		return false;
	}
	switch (rule.host.type) {
		case 'any':
			return true;
		case 'name':
			return rule.host.pattern.test(host);
		case 'addresses': {
			const family = isIP(address);
			return family !== 0 && rule.host.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
		}
	}
}

function describeTarget(host: string, port: number): string {
	return formatHostPort(host, port);
}
