import { BerthError } from '../../protocol/errors';
import type { AgentAddress } from '../client/agent-url';
import type { TlsTrust } from '../client/tls-trust';
import { parsePemCertificates, readPemFile } from './read-pem-file';

export interface ClientTlsFlags {
	/** --ca-file: the CAs to trust instead of Node's store, PEM. */
	readonly caFile: string | undefined;
	/** --insecure: no certificate check at all. */
	readonly insecure: boolean | undefined;
	/** The agent's URL: both flags are about a `wss://` (or `https://`) one. */
	readonly address: AgentAddress;
	/** Receives the warning --insecure earns, once per start. */
	readonly warn: (message: string) => void;
}

/**
 * Every client command's `--ca-file FILE` and `--insecure`: how the agent's certificate is
 * checked. Undefined (Node's CA store and the URL's name) when neither is given.
 * @throws BerthError BERTH_ERR_USAGE: both at once, either with a `ws://` URL (where it would do
 *   nothing), a CA file that cannot be read or holds no certificate.
 */
export function readClientTls(flags: ClientTlsFlags): TlsTrust | undefined {
	const { caFile, insecure, address } = flags;
	if (caFile === undefined && !insecure) {
		return undefined;
	}
	const flag = caFile !== undefined ? '--ca-file' : '--insecure';
	if (caFile !== undefined && insecure) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			'--ca-file and --insecure contradict each other: --ca-file checks the certificate, --insecure skips the check',
		);
	}
	if (!address.secure) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			`${flag} is about TLS, and ${address.display} is not: use a wss:// URL (an agent with --tls-cert)`,
		);
	}
	if (caFile === undefined) {
		flags.warn(
			`--insecure: the certificate of ${address.display} is not checked, so anyone on the path can pose as ` +
				'the agent and read what its connections carry; pass --ca-file with its CA instead',
		);
		return { insecure: true };
	}
	const what = `--ca-file ${caFile}`;
	const ca = readPemFile(caFile, { what });
	parsePemCertificates(ca, what);
	return { ca };
}
