/**
 * The `berth.*` settings as one typed, defaulted snapshot. Pure: extension/config.ts reads the raw
 * values from VS Code and hands them here, so the defaults and the validation are unit-tested.
 */

import { isBoolean, isInteger, isString } from '../protocol/guards';
import {
	parseOtherPortsAttributes,
	parsePortsAttributes,
	type OtherPortsAttributes,
	type PortAttributesRule,
} from './port-attributes';
import { bracketHost } from '../protocol/host-port';

/** The settings, resolved. */
export interface BerthSettings {
	/** Forward ports that a connected agent reports as newly listening (default true). */
	readonly autoForwardPorts: boolean;
	/** Rules from `berth.portsAttributes`, most specific first. */
	readonly portsAttributes: readonly PortAttributesRule[];
	/** `berth.otherPortsAttributes`: for ports that no rule matches. */
	readonly otherPortsAttributes: OtherPortsAttributes;
	/** Where local listeners bind: one of LOCAL_ADDRESSES (default 127.0.0.1). */
	readonly localAddress: LocalAddress;
	/** Bring back this window's connections and forwards after a reload (default true). */
	readonly restoreForwardedPorts: boolean;
	/** Where tunnel access listens (`berth.tunnel.host`, default 127.0.0.1). */
	readonly tunnelHost: string;
	/** The port tunnel access tries first (`berth.tunnel.port`, default 8765; 0: any free port). */
	readonly tunnelPort: number;
	/** `berth.tls.caFile`: the CAs to trust for `wss://` agents instead of Node's store; undefined: the store. */
	readonly tlsCaFile: string | undefined;
	/** `berth.ssh.path`: the ssh program; undefined: `ssh` on the PATH. */
	readonly sshPath: string | undefined;
	/** `berth.ssh.configFile`: ssh's config file (ssh -F) and the hosts listed; undefined: ~/.ssh/config. */
	readonly sshConfigFile: string | undefined;
	/** `berth.ssh.nodePath`: the node to run on ssh hosts; undefined: `node` on the host's PATH. */
	readonly sshNodePath: string | undefined;
	/** `berth.ssh.remoteDir`: the agent's folder on ssh hosts; undefined: ~/.berth. */
	readonly sshRemoteDir: string | undefined;
	/** What was wrong with the values given (shown in the log; defaults were used instead). */
	readonly problems: readonly string[];
}

/** The raw values, as `WorkspaceConfiguration.get` returns them, by setting name under `berth.`. */
export type RawSettings = { readonly [K in (typeof SETTING_KEYS)[number]]?: unknown };

/** `berth.localAddress`'s values (an enum, as VS Code's `remote.localPortHost` is). */
export const LOCAL_ADDRESSES = ['127.0.0.1', 'localhost', '::1', '0.0.0.0'] as const;
export type LocalAddress = (typeof LOCAL_ADDRESSES)[number];

/** Loopback only, as ssh -L binds by default. */
export const DEFAULT_LOCAL_ADDRESS: LocalAddress = '127.0.0.1';
/** Tunnel access is loopback only unless the user says otherwise (and is warned). */
export const DEFAULT_TUNNEL_HOST = '127.0.0.1';
/** The agent's own default port (`berth server`), so `ssh -L 8765:127.0.0.1:8765` is the same everywhere. */
export const DEFAULT_TUNNEL_PORT = 8765;

/** The setting names under `berth.`, in package.json's order. */
export const SETTING_KEYS = [
	'autoForwardPorts',
	'portsAttributes',
	'otherPortsAttributes',
	'localAddress',
	'restoreForwardedPorts',
	'tunnel.host',
	'tunnel.port',
	'tls.caFile',
	'ssh.path',
	'ssh.configFile',
	'ssh.nodePath',
	'ssh.remoteDir',
] as const;

/** The snapshot: each value validated, defaulted when missing or wrong (with a problem saying so). */
export function resolveSettings(raw: RawSettings): BerthSettings {
	const problems: string[] = [];
	const bool = (key: 'autoForwardPorts' | 'restoreForwardedPorts', fallback: boolean): boolean => {
		const value = raw[key];
		if (isUnset(value)) {
			return fallback;
		}
		if (!isBoolean(value)) {
			problems.push(`berth.${key} must be true or false; using ${fallback}`);
			return fallback;
		}
		return value;
	};
	const attributes = parsePortsAttributes(raw.portsAttributes);
	const other = parseOtherPortsAttributes(raw.otherPortsAttributes);
	problems.push(...attributes.problems, ...other.problems);
	return {
		autoForwardPorts: bool('autoForwardPorts', true),
		portsAttributes: attributes.rules,
		otherPortsAttributes: other.attributes,
		localAddress: resolveLocalAddress(raw.localAddress, problems),
		restoreForwardedPorts: bool('restoreForwardedPorts', true),
		tunnelHost: resolveTunnelHost(raw['tunnel.host'], problems),
		tunnelPort: resolveTunnelPort(raw['tunnel.port'], problems),
		tlsCaFile: resolveCaFile(raw['tls.caFile'], problems),
		sshPath: resolvePath(raw, 'ssh.path', problems),
		sshConfigFile: resolvePath(raw, 'ssh.configFile', problems),
		sshNodePath: resolvePath(raw, 'ssh.nodePath', problems),
		sshRemoteDir: resolvePath(raw, 'ssh.remoteDir', problems),
		problems,
	};
}

function isUnset(value: unknown): boolean {
	return value === undefined || value === null || value === '';
}

function resolveLocalAddress(value: unknown, problems: string[]): LocalAddress {
	if (isUnset(value)) {
		return DEFAULT_LOCAL_ADDRESS;
	}
	const text = isString(value) ? value.trim() : value;
	const known = LOCAL_ADDRESSES.find((address) => address === text);
	if (known) {
		return known;
	}
	problems.push(
		`berth.localAddress ${JSON.stringify(value)} is not one of ${LOCAL_ADDRESSES.join(', ')}; using ${DEFAULT_LOCAL_ADDRESS}`,
	);
	return DEFAULT_LOCAL_ADDRESS;
}

function resolveTunnelHost(value: unknown, problems: string[]): string {
	if (isUnset(value)) {
		return DEFAULT_TUNNEL_HOST;
	}
	if (isString(value) && isBindAddress(value.trim())) {
		return value.trim();
	}
	problems.push(
		`berth.tunnel.host ${JSON.stringify(value)} is not an IP address or "localhost"; using ${DEFAULT_TUNNEL_HOST}`,
	);
	return DEFAULT_TUNNEL_HOST;
}

function resolveTunnelPort(value: unknown, problems: string[]): number {
	if (isUnset(value)) {
		return DEFAULT_TUNNEL_PORT;
	}
	if (isInteger(value, 0, 65535)) {
		return value;
	}
	problems.push(
		`berth.tunnel.port ${JSON.stringify(value)} is not a port (0-65535); using ${DEFAULT_TUNNEL_PORT}`,
	);
	return DEFAULT_TUNNEL_PORT;
}

function resolveCaFile(value: unknown, problems: string[]): string | undefined {
	if (isUnset(value) || (isString(value) && value.trim() === '')) {
		return undefined;
	}
	if (isString(value)) {
		return value.trim();
	}
	problems.push(`berth.tls.caFile must be the path of a PEM file; using the system's CAs`);
	return undefined;
}

/** A path setting: trimmed, undefined when empty (the default applies); not text is a problem. */
function resolvePath(
	raw: RawSettings,
	key: 'ssh.path' | 'ssh.configFile' | 'ssh.nodePath' | 'ssh.remoteDir',
	problems: string[],
): string | undefined {
	const value = raw[key];
	if (isUnset(value) || (isString(value) && value.trim() === '')) {
		return undefined;
	}
	if (isString(value)) {
		return value.trim();
	}
	problems.push(`berth.${key} must be a path; using the default`);
	return undefined;
}

/** `localhost`, a dotted IPv4 address, or an IPv6 address (no brackets). */
export function isBindAddress(text: string): boolean {
	if (text === 'localhost') {
		return true;
	}
	const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
	if (v4) {
		return v4.slice(1).every((part) => Number(part) <= 255);
	}
	return /^[0-9a-fA-F:]+$/.test(text) && text.includes(':') && text.split('::').length <= 2;
}

/** True for an address only this machine can reach: `localhost`, 127.0.0.0/8, `::1`. */
export function isLoopbackAddress(host: string): boolean {
	return host === 'localhost' || /^127\./.test(host) || host === '::1' || host === '0:0:0:0:0:0:0:1';
}

/** The host to put in a URL for a listener bound on `bindHost` (all interfaces → localhost). */
export function browsableHost(bindHost: string): string {
	if (bindHost === '0.0.0.0' || bindHost === '::' || bindHost === '') {
		return 'localhost';
	}
	return bracketHost(bindHost);
}
