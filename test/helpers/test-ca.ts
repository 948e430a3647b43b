import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './agent-process';

const run = promisify(execFile);

/** A certificate and its key, as files (the key mode 0600, as openssl writes it). */
export interface IssuedCertificate {
	readonly certFile: string;
	readonly keyFile: string;
}

export interface IssueOptions {
	/** subjectAltName entries: `DNS:localhost`, `IP:127.0.0.1` (default: both). */
	readonly names?: readonly string[];
	/** Days of validity; a negative number makes a certificate that has already expired. */
	readonly days?: number;
}

/** A certificate authority made for one test, in a folder of its own. */
export interface TestCa {
	/** The CA's certificate, PEM: what a client passes as --ca-file. */
	readonly certFile: string;
	/** Issues a server certificate signed by this CA. */
	issue(name: string, options?: IssueOptions): Promise<IssuedCertificate>;
}

/** One `openssl` run; its stderr, on failure, says why. */
async function openssl(args: readonly string[]): Promise<void> {
	await run('openssl', args);
}

/** A new key pair: P-256, which openssl makes in milliseconds (RSA takes longer). */
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * Creates a CA with the real openssl: a self-signed CA certificate (basicConstraints CA:TRUE,
 * keyCertSign) that issues server certificates for the names given. Everything lives in a fresh
 * temporary folder; nothing is trusted anywhere but where a test passes the CA's file.
 */
export async function createTestCa(commonName = 'Berth Test CA'): Promise<TestCa> {
	const dir = tempDir('berth-ca-');
	const certFile = join(dir, 'ca.pem');
	const keyFile = join(dir, 'ca.key');
	await openssl([
		'req',
		'-x509',
		'-new',
		...EC_KEY,
		'-keyout',
		keyFile,
		'-out',
		certFile,
		'-days',
		'2',
		'-subj',
		`/CN=${commonName}`,
		'-addext',
		'basicConstraints=critical,CA:TRUE',
		'-addext',
		'keyUsage=critical,keyCertSign,cRLSign',
	]);
	let serial = 0;
	return {
		certFile,
		issue: async (name, options = {}) => {
			serial++;
			const base = join(dir, `${name}-${serial}`);
			const issued = { certFile: `${base}.pem`, keyFile: `${base}.key` };
			const extFile = `${base}.ext`;
			const names = options.names ?? ['DNS:localhost', 'IP:127.0.0.1'];
			writeFileSync(
				extFile,
				`subjectAltName=${names.join(',')}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`,
			);
			await openssl([
				'req',
				'-new',
				...EC_KEY,
				'-keyout',
				issued.keyFile,
				'-out',
				`${base}.csr`,
				'-subj',
				`/CN=${name}`,
			]);
			await openssl([
				'x509',
				'-req',
				'-in',
				`${base}.csr`,
				'-CA',
				certFile,
				'-CAkey',
				keyFile,
				'-set_serial',
				String(serial),
				'-days',
				String(options.days ?? 2),
				'-extfile',
				extFile,
				'-out',
				issued.certFile,
			]);
			return issued;
		},
	};
}
