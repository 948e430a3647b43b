/**
 * Per-connection configuration of Berth's proxy, carried where every client can put it: in the
 * proxy username (SOCKS5 RFC 1929, or HTTP `Proxy-Authorization: Basic`), and for HTTP CONNECT
 * also in an `x-berth-config` header.
 *
 *     username                      name    config
 *     app                           app     {}
 *     app-idle-5s                   app     { idle: 5 s }
 *     app-foo-idle-5s               app     { idle: 5 s }          unknown parts are skipped, one at a time
 *     app-via-box1-ttl-12h_30m      app     { via: box1, ttl: 12 h 30 min }
 *     app-idle-what                 app     {} + error             a bad label: logged, no config at all
 *     app-idle                      app     {} + error             a label without its value
 *
 *     header (x-berth-config)       idle=30s&via=box1               an HTML form; it wins over the username
 *
 *     duration                      90s  15m  48h  2d  1w  2y  12h_30m  (parts joined by `_`; a year is 365 days)
 *
 * Pure and bounded: inputs are cut at MAX_CONFIG_CHARS before they are read.
 */

/** Longest username or header value read (a Basic username is at most 255 bytes in SOCKS5 anyway). */
export const MAX_CONFIG_CHARS = 1024;
/** Longest provider name in `via`. */
const MAX_VIA_CHARS = 64;

/** What a connection asked for. */
export interface ProxyConnectionConfig {
	/** The provider (by name) the connection must leave through. */
	readonly via?: string;
	/** Close the connection after this long without a byte either way (ms). */
	readonly idleMs?: number;
	/** Close the connection after this long in all (ms). */
	readonly ttlMs?: number;
}

/** A username read into its name and config; `error` says why the labels gave no config. */
export interface ProxyUser {
	readonly name: string;
	readonly config: ProxyConnectionConfig;
	readonly error?: string;
}

type Label = 'via' | 'idle' | 'ttl';
const LABELS: ReadonlySet<string> = new Set<Label>(['via', 'idle', 'ttl']);

const MS_PER: Readonly<Record<string, number>> = {
	s: 1_000,
	m: 60_000,
	h: 3_600_000,
	d: 86_400_000,
	w: 7 * 86_400_000,
	y: 365 * 86_400_000,
};
const DURATION_PART = /^(\d{1,9})([smhdwy])$/;
/** Provider names: letters, digits, `.`, `_` (no `-`: it separates labels). */
const VIA_PATTERN = /^[A-Za-z0-9._]+$/;

/** A duration such as `90s`, `12h_30m` or `2y`, in ms; undefined if it is not one. */
export function parseDuration(text: string): number | undefined {
	if (text.length === 0 || text.length > 64) {
		return undefined;
	}
	let total = 0;
	for (const part of text.split('_')) {
		const match = DURATION_PART.exec(part);
		if (!match) {
			return undefined;
		}
		total += Number(match[1]) * MS_PER[match[2]!]!;
	}
	return total > 0 && Number.isSafeInteger(total) ? total : undefined;
}

/** Reads `NAME[-LABEL-VALUE]...`, left to right: a known label takes the next part as its value. */
export function parseProxyUsername(username: string): ProxyUser {
	const parts = username.slice(0, MAX_CONFIG_CHARS).split('-');
	const name = parts[0] ?? '';
	const entries: [Label, string][] = [];
	for (let i = 1; i < parts.length; i++) {
		const part = parts[i]!;
		if (!LABELS.has(part)) {
			continue; // an unknown part is skipped on its own
		}
		const value = parts[i + 1];
		if (value === undefined || value === '') {
			return { name, config: {}, error: `the label "${part}" has no value` };
		}
		entries.push([part as Label, value]);
		i++;
	}
	return withConfig(name, entries);
}

/** Reads an `x-berth-config` header (an HTML form: `idle=30s&via=box1`). */
export function parseConfigHeader(value: string): { config: ProxyConnectionConfig; error?: string } {
	const entries: [Label, string][] = [];
	for (const pair of value.slice(0, MAX_CONFIG_CHARS).split('&')) {
		if (pair === '') {
			continue;
		}
		const eq = pair.indexOf('=');
		const key = decodeFormPart(eq < 0 ? pair : pair.slice(0, eq));
		const text = decodeFormPart(eq < 0 ? '' : pair.slice(eq + 1));
		if (key === undefined || text === undefined) {
			return { config: {}, error: 'the header is not a form (bad percent-encoding)' };
		}
		if (LABELS.has(key)) {
			entries.push([key as Label, text]);
		}
	}
	const { config, error } = withConfig('', entries);
	return error === undefined ? { config } : { config, error };
}

/** The config of a connection: the header's, where given, else the username's. */
export function mergeConfig(
	fromUser: ProxyConnectionConfig,
	fromHeader: ProxyConnectionConfig | undefined,
): ProxyConnectionConfig {
	return fromHeader ?? fromUser;
}

function withConfig(name: string, entries: readonly [Label, string][]): ProxyUser {
	let via: string | undefined;
	let idleMs: number | undefined;
	let ttlMs: number | undefined;
	for (const [label, value] of entries) {
		switch (label) {
			case 'via':
				if (!VIA_PATTERN.test(value) || value.length > MAX_VIA_CHARS) {
					return { name, config: {}, error: `"${value.slice(0, 80)}" is not a provider name` };
				}
				via = value;
				break;
			case 'idle':
			case 'ttl': {
				const ms = parseDuration(value);
				if (ms === undefined) {
					return {
						name,
						config: {},
						error: `"${value.slice(0, 80)}" is not a duration (e.g. 90s, 15m, 12h_30m)`,
					};
				}
				if (label === 'idle') {
					idleMs = ms;
				} else {
					ttlMs = ms;
				}
				break;
			}
		}
	}
	return {
		name,
		config: {
			...(via !== undefined ? { via } : {}),
			...(idleMs !== undefined ? { idleMs } : {}),
			...(ttlMs !== undefined ? { ttlMs } : {}),
		},
	};
}

/** One side of a form pair: `+` is a space, `%XX` a byte of UTF-8; undefined on bad encoding. */
function decodeFormPart(text: string): string | undefined {
	try {
		return decodeURIComponent(text.replace(/\+/g, ' '));
	} catch {
		return undefined;
	}
}
