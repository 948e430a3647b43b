/**
 * `berth.portsAttributes`, modelled on VS Code's `remote.portsAttributes`: keys select ports,
 * values say how to label them and what auto-forwarding does. Pure, so it is unit-tested.
 *
 *     key                 matches
 *     "3000"              port 3000 on any host
 *     "40000-55000"       any port in the range (inclusive)
 *     "localhost:3000"    port 3000 bound on that host (`127.0.0.1:3000`, `[::1]:3000`)
 *     "webpack|vite"      anything else: a regular expression searched in the process command line
 *
 * When several keys match, each property comes from the most specific key that sets it:
 * host:port, then port, then the narrowest range, then regular expressions in settings order.
 * A port that no key matches gets `berth.otherPortsAttributes` (VS Code's
 * `remote.otherPortsAttributes`), e.g. `{ "onAutoForward": "ignore" }` to auto-forward only the
 * ports listed.
 */

import { isObject, isString } from '../protocol/guards';

/** What happens when auto-forwarding finds the port (VS Code's values). */
export type OnAutoForward = 'notify' | 'openBrowser' | 'openBrowserOnce' | 'silent' | 'ignore';
/** Every `onAutoForward` value, in the setting's enum order. */
export const ON_AUTO_FORWARD_VALUES: readonly OnAutoForward[] = [
	'notify',
	'openBrowser',
	'openBrowserOnce',
	'silent',
	'ignore',
];

/** The scheme Open in Browser uses. */
export type PortProtocol = 'http' | 'https';

/** The attributes of one port after every matching key was applied. */
export interface PortAttributes {
	readonly label?: string;
	readonly onAutoForward: OnAutoForward;
	readonly protocol: PortProtocol;
}

/** What a `berth.portsAttributes` key selects. */
export type PortMatcher =
	| { readonly type: 'hostPort'; readonly host: string; readonly port: number }
	| { readonly type: 'port'; readonly port: number }
	| { readonly type: 'range'; readonly from: number; readonly to: number }
	| { readonly type: 'command'; readonly pattern: RegExp };

/** One key of the setting with the attributes it sets (unset ones fall through to less specific keys). */
export interface PortAttributesRule {
	readonly key: string;
	readonly matcher: PortMatcher;
	readonly label?: string;
	readonly onAutoForward?: OnAutoForward;
	readonly protocol?: PortProtocol;
}

/** A port to resolve: as the agent reports it. */
export interface PortCandidate {
	readonly host: string;
	readonly port: number;
	readonly command?: string;
}

/** `berth.otherPortsAttributes`: what a port that no key matches gets (no label: it names no port). */
export interface OtherPortsAttributes {
	readonly onAutoForward?: OnAutoForward;
	readonly protocol?: PortProtocol;
}

/** What a port no key matches gets when otherPortsAttributes says nothing (VS Code's defaults). */
export const DEFAULT_PORT_ATTRIBUTES: PortAttributes = { onAutoForward: 'notify', protocol: 'http' };

/** Longest label kept from settings. */
const MAX_LABEL_CHARS = 100;

/** Reads the setting's value: rules in precedence order, and what was wrong with the rest. */
export function parsePortsAttributes(value: unknown): { rules: PortAttributesRule[]; problems: string[] } {
	const rules: PortAttributesRule[] = [];
	const problems: string[] = [];
	if (value === undefined || value === null) {
		return { rules, problems };
	}
	if (!isObject(value)) {
		return { rules, problems: ['berth.portsAttributes must be an object'] };
	}
	for (const [key, raw] of Object.entries(value)) {
		const matcher = parseMatcher(key);
		if (typeof matcher === 'string') {
			problems.push(`berth.portsAttributes["${key}"]: ${matcher}`);
			continue;
		}
		if (!isObject(raw)) {
			problems.push(`berth.portsAttributes["${key}"]: the value must be an object`);
			continue;
		}
		const label = raw['label'];
		const onAutoForward = raw['onAutoForward'];
		const protocol = raw['protocol'];
		if (onAutoForward !== undefined && !ON_AUTO_FORWARD_VALUES.includes(onAutoForward as OnAutoForward)) {
			problems.push(
				`berth.portsAttributes["${key}"].onAutoForward: unknown value ${JSON.stringify(onAutoForward)}`,
			);
		}
		rules.push({
			key,
			matcher,
			...(isString(label) && label.trim() ? { label: label.trim().slice(0, MAX_LABEL_CHARS) } : {}),
			...(ON_AUTO_FORWARD_VALUES.includes(onAutoForward as OnAutoForward)
				? { onAutoForward: onAutoForward as OnAutoForward }
				: {}),
			...(protocol === 'http' || protocol === 'https' ? { protocol } : {}),
		});
	}
	return { rules: sortBySpecificity(rules), problems };
}

/** Reads `berth.otherPortsAttributes`; unknown values are dropped, with a problem saying so. */
export function parseOtherPortsAttributes(value: unknown): {
	attributes: OtherPortsAttributes;
	problems: string[];
} {
	if (value === undefined || value === null) {
		return { attributes: {}, problems: [] };
	}
	if (!isObject(value)) {
		return { attributes: {}, problems: ['berth.otherPortsAttributes must be an object'] };
	}
	const problems: string[] = [];
	const onAutoForward = value['onAutoForward'];
	const protocol = value['protocol'];
	const knownAutoForward = ON_AUTO_FORWARD_VALUES.includes(onAutoForward as OnAutoForward);
	if (onAutoForward !== undefined && !knownAutoForward) {
		problems.push(`berth.otherPortsAttributes.onAutoForward: unknown value ${JSON.stringify(onAutoForward)}`);
	}
	if (protocol !== undefined && protocol !== 'http' && protocol !== 'https') {
		problems.push(`berth.otherPortsAttributes.protocol: unknown value ${JSON.stringify(protocol)}`);
	}
	return {
		attributes: {
			...(knownAutoForward ? { onAutoForward: onAutoForward as OnAutoForward } : {}),
			...(protocol === 'http' || protocol === 'https' ? { protocol } : {}),
		},
		problems,
	};
}

/** A key's matcher, or why the key cannot be read. */
export function parseMatcher(key: string): PortMatcher | string {
	const trimmed = key.trim();
	if (/^\d+$/.test(trimmed)) {
		const port = Number(trimmed);
		return isPortNumber(port) ? { type: 'port', port } : `${trimmed} is not a port (1-65535)`;
	}
	const range = /^(\d+)\s*-\s*(\d+)$/.exec(trimmed);
	if (range) {
		const from = Number(range[1]);
		const to = Number(range[2]);
		return isPortNumber(from) && isPortNumber(to) && from <= to
			? { type: 'range', from, to }
			: `${trimmed} is not a port range (low-high, 1-65535)`;
	}
	const hostPort = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d+)$/.exec(trimmed);
	if (hostPort) {
		const port = Number(hostPort[2]);
		const host = hostPort[1]!.replace(/^\[|\]$/g, '');
		return isPortNumber(port) ? { type: 'hostPort', host: host.toLowerCase(), port } : `${trimmed}: bad port`;
	}
	try {
		return { type: 'command', pattern: new RegExp(trimmed) };
	} catch (error) {
		return `not a port, range, host:port or valid regular expression (${(error as Error).message})`;
	}
}

/**
 * The attributes of `candidate`: each property from the most specific rule that sets it; a port
 * that no rule matches gets `other` (otherPortsAttributes).
 */
export function resolvePortAttributes(
	rules: readonly PortAttributesRule[],
	candidate: PortCandidate,
	other: OtherPortsAttributes = {},
): PortAttributes {
	let label: string | undefined;
	let onAutoForward: OnAutoForward | undefined;
	let protocol: PortProtocol | undefined;
	let matched = false;
	for (const rule of rules) {
		if (!matches(rule.matcher, candidate)) {
			continue;
		}
		matched = true;
		label ??= rule.label;
		onAutoForward ??= rule.onAutoForward;
		protocol ??= rule.protocol;
	}
	if (!matched) {
		onAutoForward = other.onAutoForward;
		protocol = other.protocol;
	}
	return {
		...(label !== undefined ? { label } : {}),
		onAutoForward: onAutoForward ?? DEFAULT_PORT_ATTRIBUTES.onAutoForward,
		protocol: protocol ?? (candidate.port === 443 || candidate.port === 8443 ? 'https' : 'http'),
	};
}

function matches(matcher: PortMatcher, candidate: PortCandidate): boolean {
	switch (matcher.type) {
		case 'hostPort':
			return matcher.port === candidate.port && sameHost(matcher.host, candidate.host);
		case 'port':
			return matcher.port === candidate.port;
		case 'range':
			return candidate.port >= matcher.from && candidate.port <= matcher.to;
		case 'command':
			return candidate.command !== undefined && matcher.pattern.test(candidate.command);
	}
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '0:0:0:0:0:0:0:1']);

/** `localhost` and the loopback addresses name the same host. */
function sameHost(a: string, b: string): boolean {
	const x = a.toLowerCase();
	const y = b.toLowerCase();
	return x === y || (LOOPBACK.has(x) && LOOPBACK.has(y));
}

function rank(matcher: PortMatcher): number {
	switch (matcher.type) {
		case 'hostPort':
			return 0;
		case 'port':
			return 1;
		case 'range':
			return 2;
		case 'command':
			return 3;
	}
}

function sortBySpecificity(rules: PortAttributesRule[]): PortAttributesRule[] {
	// Array.prototype.sort is stable: regular expressions keep their settings order.
	return [...rules].sort((a, b) => {
		const byRank = rank(a.matcher) - rank(b.matcher);
		if (byRank !== 0) {
			return byRank;
		}
		if (a.matcher.type === 'range' && b.matcher.type === 'range') {
			return a.matcher.to - a.matcher.from - (b.matcher.to - b.matcher.from);
		}
		return 0;
	});
}

function isPortNumber(port: number): boolean {
	return Number.isInteger(port) && port >= 1 && port <= 65535;
}
