/**
 * The `berth.*` settings as one typed, defaulted snapshot. Pure: extension/config.ts reads the raw
 * values from VS Code and hands them here, so the defaults and the validation are unit-tested.
 */

import { isBoolean, isString } from '../protocol/guards';
import { parsePortsAttributes, type PortAttributesRule } from './port-attributes';
import { bracketHost } from '../protocol/host-port';

/** The settings, resolved. */
export interface BerthSettings {
	/** Forward ports that a connected agent reports as newly listening (default true). */
	readonly autoForwardPorts: boolean;
	/** Rules from `berth.portsAttributes`, most specific first. */
	readonly portsAttributes: readonly PortAttributesRule[];
	/** Where local listeners bind (default 127.0.0.1). */
	readonly localAddress: string;
	/** Bring back this window's connections and forwards after a reload (default true). */
	readonly restoreForwardedPorts: boolean;
	/** What was wrong with the values given (shown in the log; defaults were used instead). */
	readonly problems: readonly string[];
}

/** The raw values, as `WorkspaceConfiguration.get` returns them. */
export interface RawSettings {
	readonly autoForwardPorts?: unknown;
	readonly portsAttributes?: unknown;
	readonly localAddress?: unknown;
	readonly restoreForwardedPorts?: unknown;
}

/** Loopback only, as ssh -L binds by default. */
export const DEFAULT_LOCAL_ADDRESS = '127.0.0.1';

/** The setting names under `berth.`, in package.json's order. */
export const SETTING_KEYS = [
	'autoForwardPorts',
	'portsAttributes',
	'localAddress',
	'restoreForwardedPorts',
] as const;

/** The snapshot: each value validated, defaulted when missing or wrong (with a problem saying so). */
export function resolveSettings(raw: RawSettings): BerthSettings {
	const problems: string[] = [];
	const bool = (key: keyof RawSettings, fallback: boolean): boolean => {
		const value = raw[key];
		if (value === undefined || value === null) {
			return fallback;
		}
		if (!isBoolean(value)) {
			problems.push(`berth.${key} must be true or false; using ${fallback}`);
			return fallback;
		}
		return value;
	};
	const attributes = parsePortsAttributes(raw.portsAttributes);
	problems.push(...attributes.problems);
	let localAddress = DEFAULT_LOCAL_ADDRESS;
	if (raw.localAddress !== undefined && raw.localAddress !== null && raw.localAddress !== '') {
		if (isString(raw.localAddress) && isBindAddress(raw.localAddress.trim())) {
			localAddress = raw.localAddress.trim();
		} else {
			problems.push(
				`berth.localAddress ${JSON.stringify(raw.localAddress)} is not an IP address or "localhost"; using ${DEFAULT_LOCAL_ADDRESS}`,
			);
		}
	}
	return {
		autoForwardPorts: bool('autoForwardPorts', true),
		portsAttributes: attributes.rules,
		localAddress,
		restoreForwardedPorts: bool('restoreForwardedPorts', true),
		problems,
	};
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

/** The host to put in a URL for a listener bound on `bindHost` (all interfaces → localhost). */
export function browsableHost(bindHost: string): string {
	if (bindHost === '0.0.0.0' || bindHost === '::' || bindHost === '') {
		return 'localhost';
	}
	return bracketHost(bindHost);
}
