import type { ResetCode } from '../../../protocol/mux-frames';
import type { MuxStream } from '../../../protocol/mux-stream';
import type { ProxyConnectionConfig } from '../../../protocol/proxy-config';

/** One connection a proxy client asked for, with what it said about itself. */
export interface ProxyRequest {
	/** A TCP connection to `target`, or a UDP association (SOCKS5 UDP ASSOCIATE; `target` unused). */
	readonly kind: 'tcp' | 'udp';
	readonly target: { readonly host: string; readonly port: number };
	/** From the username's labels, or the `x-berth-config` header (proxy-config.ts). */
	readonly config: ProxyConnectionConfig;
	/** The username's base: the client's name for itself (like a User-Agent). */
	readonly name: string;
	/** The proxy client's address, for logs. */
	readonly from: string;
	readonly protocol: 'socks5' | 'http';
}

/** A stream to the target, open and answered, or why not (the code gives the SOCKS reply or HTTP status). */
export type ProxyOpenResult =
	| { readonly ok: true; readonly stream: MuxStream }
	| { readonly ok: false; readonly code: ResetCode; readonly reason: string };

/**
 * Where a proxy's connections go: through a session to the agent (forward mode), to a client that
 * provides egress (reverse mode), or to a provider (relay). The listener does not care which.
 */
export interface ProxyRoute {
	open(request: ProxyRequest): Promise<ProxyOpenResult>;
}
