import { createSecureContext } from 'node:tls';
import { BerthError } from '../../protocol/errors';
import type { TlsCredentials } from '../http/agent-server';
import { parsePemCertificates, readPemFile } from './read-pem-file';

/** A PEM private key's opening line, of any kind (PKCS#8, RSA, EC, encrypted). */
const PEM_PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

export interface TlsFlags {
	/** --tls-cert: the certificate chain, PEM, the agent's own certificate first. */
	readonly certFile: string | undefined;
	/** --tls-key: its private key, PEM, unencrypted. */
	readonly keyFile: string | undefined;
	/** Receives what the user should know: a key others can read, a certificate out of its dates. */
	readonly warn: (message: string) => void;
	/** The time the certificate's dates are checked against. */
	readonly now: Date;
}

/**
 * `berth server --tls-cert FILE --tls-key FILE`: reads and checks both before the agent listens,
 * so a wrong file stops the start with one line that names it, not the first client's handshake.
 * Undefined when neither is given.
 * @throws BerthError BERTH_ERR_USAGE: one flag without the other, a file that cannot be read or
 *   holds no certificate or key, an encrypted key, a key that is not the certificate's.
 */
export function readTlsCredentials(flags: TlsFlags): TlsCredentials | undefined {
	const { certFile, keyFile } = flags;
	if (certFile === undefined && keyFile === undefined) {
		return undefined;
	}
	if (certFile === undefined || keyFile === undefined) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			'--tls-cert and --tls-key go together: give both (the certificate chain and its private key), or neither',
		);
	}
	const certWhat = `--tls-cert ${certFile}`;
	const keyWhat = `--tls-key ${keyFile}`;
	const cert = readPemFile(certFile, { what: certWhat });
	const [leaf] = parsePemCertificates(cert, certWhat);
	const key = readPemFile(keyFile, { what: keyWhat, secret: true, warn: flags.warn });
	if (!PEM_PRIVATE_KEY.test(key.toString('latin1'))) {
		// OpenSSL takes an empty key as none, and the agent would fail every handshake.
		throw new BerthError('BERTH_ERR_USAGE', noKey(keyWhat));
	}
	try {
		createSecureContext({ cert, key });
	} catch (error) {
		throw new BerthError('BERTH_ERR_USAGE', keyProblem(error, certWhat, keyWhat), undefined, {
			cause: error,
		});
	}
	const now = flags.now.getTime();
	if (leaf && Date.parse(leaf.validTo) < now) {
		flags.warn(`${certWhat} expired on ${leaf.validTo}: clients will refuse it; renew it`);
	} else if (leaf && Date.parse(leaf.validFrom) > now) {
		flags.warn(`${certWhat} is not valid before ${leaf.validFrom}: clients will refuse it until then`);
	}
	return { cert, key };
}

/** Why OpenSSL would not take the certificate with the key, in words that name the file at fault. */
function keyProblem(error: unknown, certWhat: string, keyWhat: string): string {
	const code = (error as NodeJS.ErrnoException).code ?? '';
	if (code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH') {
		return `${keyWhat} is not the private key of the certificate in ${certWhat}: give the key it was made with`;
	}
	if (code === 'ERR_OSSL_BAD_DECRYPT' || code.includes('PASSWORD') || code.includes('PASSPHRASE')) {
		return `${keyWhat} is encrypted: Berth reads only unencrypted keys (openssl pkey -in KEY -out PLAIN, then chmod 600 PLAIN)`;
	}
	if (code.startsWith('ERR_OSSL_PEM_') || code === 'ERR_OSSL_UNSUPPORTED') {
		return `${noKey(keyWhat)} (${code})`;
	}
	return `${certWhat} and ${keyWhat} cannot be used together: ${error instanceof Error ? error.message : String(error)}`;
}

function noKey(keyWhat: string): string {
	return `${keyWhat} holds no PEM private key (a "-----BEGIN ... PRIVATE KEY-----" block): check the file`;
}
