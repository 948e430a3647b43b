import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';

/**
 * How a client checks an agent's TLS certificate (`wss://` and `https://` agent URLs). By default
 * the chain must lead to a CA in Node's store (its bundled Mozilla list, plus NODE_EXTRA_CA_CERTS)
 * and the certificate must name the host of the URL.
 */
export interface TlsTrust {
	/**
	 * PEM certificates of the CAs to trust instead of Node's store (`--ca-file`; Node's `ca`
	 * option): an agent whose chain does not lead to one of them is refused.
	 */
	readonly ca?: string | Buffer;
	/** Skip every check, chain and name (`--insecure`): the connection is encrypted, the agent unverified. */
	readonly insecure?: boolean;
}

/**
 * The options for `tls.connect` (and `ws`, which passes them on) that apply `trust` to a
 * connection to `host`. The name is sent as SNI only when it is a name: RFC 6066 forbids
 * addresses there (Node warns), and Node checks an address against the certificate's IP entries
 * all the same.
 */
export function tlsConnectOptions(host: string, trust: TlsTrust | undefined): ConnectionOptions {
	return {
		...(isIP(host) === 0 ? { servername: host } : {}),
		...(trust?.ca !== undefined ? { ca: trust.ca } : {}),
		rejectUnauthorized: trust?.insecure !== true,
	};
}
