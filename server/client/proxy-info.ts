import type { ForwardCounters } from '../../protocol/rpc';

/**
 * Which way a proxy port of this client works: `forward` listens here and its traffic leaves
 * from the agent (`forward -D`, `client -p`); `reverse` listens on the agent and its traffic
 * leaves from here (ssh's dynamic reverse forward, `forward -R [BIND:]PORT`).
 */
export type ProxyMode = 'forward' | 'reverse';

/** One proxy port (SOCKS5 and HTTP) of this client, as listed and as announced on change. */
export interface ProxyInfo {
	readonly id: string;
	readonly mode: ProxyMode;
	/** Where the proxy listens: on this host (forward), on the agent's (reverse). */
	readonly bindHost: string;
	readonly bindPort: number;
	/** `closed` once it stopped (then it leaves the list). */
	readonly state: 'active' | 'closed';
	/**
	 * Its TCP connections (SOCKS5 CONNECT, HTTP CONNECT) and their bytes, "in" towards the proxy's
	 * clients. A reverse proxy counts what this client carried as an exit: every reverse proxy of
	 * one forwarder together, as the agent's streams do not say which port they came from.
	 */
	readonly counters: ForwardCounters;
}
