import { createServer } from 'node:net';
import { BerthError } from '../../protocol/errors';
import { isObject, isPort } from '../../protocol/guards';
import { formatHostPort } from '../../protocol/host-port';

/**
 * Which port tunnel access listens on. The URL is what people are given (`ssh -L 8765:…`, a
 * teammate's Connect to Agent), so it stays the same across restarts: the setting's port
 * (`berth.tunnel.port`, 8765 by default), or when that is taken the next free one after it, and
 * whatever was chosen is tried first next time (kept in globalState by the caller). 0 lets the
 * system pick once; that port is then kept the same way.
 */

/** Ports tried after the preferred one before giving up (8765 … 8784). */
export const TUNNEL_PORT_TRIES = 20;

/** The port chosen last time, and for which setting. */
export interface RememberedTunnelPort {
	readonly preferred: number;
	readonly port: number;
}

/** What globalState holds, checked (it may come from an older version); undefined if unreadable. */
export function parseRememberedTunnelPort(value: unknown): RememberedTunnelPort | undefined {
	return isObject(value) && isPort(value['preferred'], true) && isPort(value['port'])
		? { preferred: value['preferred'], port: value['port'] }
		: undefined;
}

/** The ports to try, in order: last time's (if the setting is unchanged), then the setting's and those after it. */
export function tunnelPortCandidates(
	preferred: number,
	remembered: RememberedTunnelPort | undefined,
): number[] {
	const first = remembered?.preferred === preferred && remembered.port > 0 ? [remembered.port] : [];
	const range =
		preferred === 0
			? [0]
			: Array.from({ length: TUNNEL_PORT_TRIES }, (_, i) => preferred + i).filter((p) => p <= 65535);
	return [...new Set([...first, ...range])];
}

/** Whether a port can be listened on: false when in use; other failures (no such address, no permission) throw. */
export type PortProbe = (host: string, port: number) => Promise<boolean>;

/**
 * The first candidate that is free on `host` (0 stays 0: the agent picks).
 * @throws BerthError BERTH_ERR_LISTEN, with an EADDRINUSE cause, when every candidate is taken;
 * what the probe throws otherwise.
 */
export async function chooseTunnelPort(
	host: string,
	preferred: number,
	remembered: RememberedTunnelPort | undefined,
	isFree: PortProbe,
): Promise<number> {
	const candidates = tunnelPortCandidates(preferred, remembered);
	for (const port of candidates) {
		if (port === 0 || (await isFree(host, port))) {
			return port;
		}
	}
	const last = candidates[candidates.length - 1]!;
	throw new BerthError(
		'BERTH_ERR_LISTEN',
		`ports ${preferred}-${last} are all in use on ${host}`,
		undefined,
		{ cause: Object.assign(new Error('EADDRINUSE'), { code: 'EADDRINUSE' }) },
	);
}

/** Listens on host:port for a moment (Node's defaults, as the agent listens) to see whether it is free. */
export const probePort: PortProbe = (host, port) =>
	new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', (error: NodeJS.ErrnoException) => {
			if (error.code === 'EADDRINUSE') {
				resolve(false);
			} else {
				reject(
					new BerthError(
						'BERTH_ERR_LISTEN',
						`cannot listen on ${formatHostPort(host, port)}: ${error.code}`,
						undefined,
						{
							cause: error,
						},
					),
				);
			}
		});
		server.listen({ host, port }, () => server.close(() => resolve(true)));
	});
