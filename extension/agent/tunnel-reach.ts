/**
 * Who can reach tunnel access, and the URL to hand out: pure, so the tooltip's words are
 * unit-tested. A loopback agent is reached from elsewhere only through an SSH forward; an agent
 * on every interface is reached at this machine's name, in clear (Berth's transport has no TLS).
 */

import { bracketHost } from '../../protocol/host-port';
import { isLoopbackAddress } from '../settings';

/** Where tunnel access listens, and this machine's name (os.hostname()). */
export interface TunnelAddress {
	readonly host: string;
	readonly port: number;
	readonly machine: string;
}

/** True for 0.0.0.0 and `::`: every interface. */
function isEveryInterface(host: string): boolean {
	return host === '0.0.0.0' || host === '::' || host === '0:0:0:0:0:0:0:0';
}

/** The URL others use: the machine's name for an every-interface bind, else the bound address. */
export function shareableTunnelUrl(address: TunnelAddress): string {
	const host = isEveryInterface(address.host) ? address.machine : bracketHost(address.host);
	return `ws://${host}:${address.port}`;
}

/** One markdown line for the tooltip: who can reach it, and how from another machine. */
export function describeTunnelReach(address: TunnelAddress): string {
	const { host, port, machine } = address;
	if (isLoopbackAddress(host)) {
		const target = host === 'localhost' ? '127.0.0.1' : bracketHost(host);
		return `Loopback only: reach it from another machine with \`ssh -L ${port}:${target}:${port} ${machine}\`.`;
	}
	const where = isEveryInterface(host) ? 'every network of this machine' : `${host}`;
	return (
		`Reachable from other machines on ${where} at \`${shareableTunnelUrl(address)}\`, ` +
		'**not encrypted**: tokens are proven, but traffic crosses the network in clear.'
	);
}
