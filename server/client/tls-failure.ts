import { assertNever, BerthError } from '../../protocol/errors';

/** What is wrong with a certificate decides what the user can do about it. */
type CertificateProblem = 'untrusted' | 'name' | 'expired' | 'not-yet-valid' | 'unacceptable';

/**
 * Node's codes for a certificate that failed verification (OpenSSL's X509_V_ERR_* names, and
 * Node's own for a name mismatch), in words, and the kind of problem each is.
 */
const CERTIFICATE_FAILURES: Readonly<
	Record<string, { readonly words: string; readonly problem: CertificateProblem }>
> = {
	UNABLE_TO_VERIFY_LEAF_SIGNATURE: {
		words: 'signed by a CA this client does not trust',
		problem: 'untrusted',
	},
	UNABLE_TO_GET_ISSUER_CERT_LOCALLY: {
		words: 'signed by a CA this client does not trust',
		problem: 'untrusted',
	},
	UNABLE_TO_GET_ISSUER_CERT: { words: "its issuer's certificate is missing", problem: 'untrusted' },
	SELF_SIGNED_CERT_IN_CHAIN: { words: 'self-signed certificate in chain', problem: 'untrusted' },
	DEPTH_ZERO_SELF_SIGNED_CERT: { words: 'self-signed certificate', problem: 'untrusted' },
	CERT_UNTRUSTED: { words: 'its CA is not trusted for TLS servers', problem: 'untrusted' },
	CERT_REJECTED: { words: 'its CA is marked to reject it', problem: 'untrusted' },
	INVALID_CA: { words: 'a certificate in its chain is not a valid CA', problem: 'untrusted' },
	CERT_CHAIN_TOO_LONG: { words: 'its chain is too long', problem: 'untrusted' },
	PATH_LENGTH_EXCEEDED: { words: 'its chain is longer than a CA allows', problem: 'untrusted' },
	ERR_TLS_CERT_ALTNAME_INVALID: { words: 'the name does not match', problem: 'name' },
	HOSTNAME_MISMATCH: { words: 'the name does not match', problem: 'name' },
	CERT_HAS_EXPIRED: { words: 'expired', problem: 'expired' },
	CERT_NOT_YET_VALID: { words: 'not valid yet', problem: 'not-yet-valid' },
	CERT_REVOKED: { words: 'revoked', problem: 'unacceptable' },
	INVALID_PURPOSE: { words: 'not meant for TLS servers', problem: 'unacceptable' },
	CERT_SIGNATURE_FAILURE: { words: 'its signature does not verify', problem: 'unacceptable' },
	UNABLE_TO_DECRYPT_CERT_SIGNATURE: { words: 'its signature cannot be read', problem: 'unacceptable' },
	UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: { words: "its issuer's key cannot be read", problem: 'unacceptable' },
	ERROR_IN_CERT_NOT_BEFORE_FIELD: { words: 'its start date is malformed', problem: 'unacceptable' },
	ERROR_IN_CERT_NOT_AFTER_FIELD: { words: 'its end date is malformed', problem: 'unacceptable' },
};

/**
 * Node's codes for a TLS handshake that went wrong before any certificate was seen, mostly a
 * server that does not speak TLS (a plain agent): OpenSSL's for the raw socket, EPROTO where
 * https and ws report it.
 */
const NOT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'EPROTO']);

/** What to do about each kind of problem, said at the end of the message. */
const ADVICE: Readonly<Record<CertificateProblem, string>> = {
	untrusted: 'pass --ca-file with the CA that signed it, or --insecure to skip the check (not recommended)',
	name: 'connect by a name the certificate lists, or give the agent a certificate for this name',
	expired: "renew the agent's certificate (berth server --tls-cert), and check this machine's clock",
	'not-yet-valid': 'check the clocks of this machine and of the agent',
	unacceptable: 'give the agent another certificate (berth server --tls-cert)',
};

/**
 * The BerthError for a failed TLS connection to `display` (the agent URL without secrets), or
 * undefined when `error` is not about TLS. A certificate that fails verification is
 * BERTH_ERR_TLS_UNTRUSTED: permanent (retrying meets the same certificate) and exit 3. An agent
 * that does not speak TLS at all is a connect error that says to use ws://.
 */
export function tlsFailure(error: unknown, display: string): BerthError | undefined {
	const code = (error as { code?: unknown } | undefined)?.code;
	if (typeof code !== 'string') {
		return undefined;
	}
	if (NOT_TLS.has(code)) {
		return new BerthError(
			'BERTH_ERR_CONNECT',
			`${display} did not complete a TLS handshake (${code}): an agent without --tls-cert is reached with ws:// (or http://)`,
			undefined,
			{ cause: error },
		);
	}
	const failure = CERTIFICATE_FAILURES[code];
	if (failure === undefined) {
		return undefined;
	}
	return new BerthError(
		'BERTH_ERR_TLS_UNTRUSTED',
		`${display}: ${certificateSentence(failure.problem, failure.words, error)}: ${ADVICE[failure.problem]}`,
		undefined,
		{ cause: error },
	);
}

/** What is wrong, in one clause: `the agent's certificate is not trusted (self-signed certificate)`. */
function certificateSentence(problem: CertificateProblem, words: string, error: unknown): string {
	switch (problem) {
		case 'untrusted':
			return `the agent's certificate is not trusted (${words})`;
		case 'name': {
			const { host, cert } = error as { host?: unknown; cert?: { subjectaltname?: unknown } };
			const names = typeof cert?.subjectaltname === 'string' ? cert.subjectaltname : 'no names';
			return `the agent's certificate is not valid for ${typeof host === 'string' ? host : 'this name'} (it lists ${names})`;
		}
		case 'expired':
			return "the agent's certificate has expired";
		case 'not-yet-valid':
			return "the agent's certificate is not valid yet";
		case 'unacceptable':
			return `the agent's certificate is not acceptable (${words})`;
		default:
			return assertNever(problem, 'certificate problem');
	}
}
