import type { BridgeEnd } from './stream-socket-bridge';

/**
 * The bridge's reset reason when the socket at the other end simply closed: how most connections
 * end (a client that closes without a half-close), so not a failure to report.
 */
const PEER_SOCKET_CLOSED = 'the connection closed';

/**
 * Why a bridged connection failed, or undefined when it ended as connections do: both FINs, or
 * the other end's socket closing. The one place that tells the two apart.
 */
export function bridgeFailure(end: BridgeEnd): string | undefined {
	return end.error !== undefined && end.error !== PEER_SOCKET_CLOSED ? end.error : undefined;
}
