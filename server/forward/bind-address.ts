import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { BerthError } from '../../protocol/errors';
import { formatHostPort } from '../../protocol/host-port';
import { isLoopbackAddress } from '../shared/loopback-address';

export { isLoopbackAddress };

/** Every address a name resolves to: the system's resolver on the agent, a table in tests. */
export type BindLookup = (hostname: string) => Promise<readonly { readonly address: string }[]>;

/** The system resolver (getaddrinfo: /etc/hosts, then DNS), every answer. */
export const systemBindLookup: BindLookup = (hostname) => lookup(hostname, { all: true });

export interface BindAddressOptions {
	/** Whether the agent runs with --allow-remote-bind. */
	readonly allowRemoteBind: boolean;
	readonly lookup: BindLookup;
}

/**
 * Where a reverse forward's listener binds: an address as given, a name resolved once. Without
 * --allow-remote-bind every address of the name must be loopback; a name is never trusted for its
 * spelling (`localhost`, `*.localhost`), since a search domain or a hostile resolver can answer
 * it with a public address. The listener then binds the first address, the one checked, not the
 * name: a second lookup could answer differently. (Node's `listen(name)` binds the first too.)
 * @throws BerthError BERTH_ERR_USAGE (an address other than loopback without
 *   --allow-remote-bind), BERTH_ERR_LISTEN (the name does not resolve).
 */
export async function resolveBindAddress(
	host: string,
	port: number,
	options: BindAddressOptions,
): Promise<string> {
	const addresses = isIP(host) !== 0 ? [host] : await resolveName(host, port, options.lookup);
	const outside = addresses.find((address) => !isLoopbackAddress(address));
	if (outside !== undefined && !options.allowRemoteBind) {
		const what = outside === host ? host : `${host} (it resolves to ${outside})`;
		throw new BerthError(
			'BERTH_ERR_USAGE',
			`binding ${what} on the agent needs the agent to be started with --allow-remote-bind ` +
				'(by default remote forwards listen on loopback only)',
		);
	}
	return addresses[0]!;
}

async function resolveName(host: string, port: number, lookupAll: BindLookup): Promise<string[]> {
	let answers: readonly { readonly address: string }[];
	try {
		answers = await lookupAll(host);
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
		throw new BerthError(
			'BERTH_ERR_LISTEN',
			`cannot listen on ${formatHostPort(host, port)} on the agent: ${host} does not resolve (${code})`,
			undefined,
			{ cause: error },
		);
	}
	const addresses = answers.map((a) => a.address).filter((a) => isIP(a) !== 0);
	if (addresses.length === 0) {
		throw new BerthError(
			'BERTH_ERR_LISTEN',
			`cannot listen on ${formatHostPort(host, port)} on the agent: ${host} has no address`,
		);
	}
	return addresses;
}
