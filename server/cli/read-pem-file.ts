import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { BerthError } from '../../protocol/errors';

/**
 * The most bytes read from a certificate, key or CA file (4 MiB): a system CA bundle holds about
 * 200 KiB; anything longer (`/dev/zero`, a wrong path) is refused before it is held in memory.
 */
export const MAX_PEM_FILE_BYTES = 4 * 1024 * 1024;
/** Permission bits that let anyone but the owner in (group and others). */
const OPEN_TO_OTHERS = 0o077;
/** One PEM certificate, markers included. */
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

export interface PemFileOptions {
	/** Names the file in messages: `--tls-key /etc/berth/key.pem`. */
	readonly what: string;
	/**
	 * A private key: a regular file that other users can read gets a warning (whoever reads it can
	 * pose as the agent), as token files do.
	 */
	readonly secret?: boolean;
	/** Receives that warning: one line. */
	readonly warn?: (message: string) => void;
}

/**
 * Reads a PEM file with a bound (MAX_PEM_FILE_BYTES).
 * @throws BerthError BERTH_ERR_USAGE naming the file and the errno, or the bound.
 */
export function readPemFile(path: string, options: PemFileOptions): Buffer {
	const { what } = options;
	const fd = attempt(what, () => openSync(path, 'r'));
	try {
		const stats = attempt(what, () => fstatSync(fd));
		const mode = stats.mode & 0o777;
		if (options.secret && stats.isFile() && (mode & OPEN_TO_OTHERS) !== 0) {
			options.warn?.(
				`${what} is open to other users (mode ${mode.toString(8).padStart(4, '0')}): whoever can read ` +
					'it can pose as this agent. Make it 0600 (chmod 600), and replace the key if others could read it',
			);
		}
		const buffer = Buffer.alloc(MAX_PEM_FILE_BYTES + 1);
		let length = 0;
		for (;;) {
			const count = attempt(what, () => readSync(fd, buffer, length, buffer.length - length, null));
			if (count === 0) {
				return buffer.subarray(0, length);
			}
			length += count;
			if (length > MAX_PEM_FILE_BYTES) {
				throw new BerthError(
					'BERTH_ERR_USAGE',
					`${what} holds more than ${MAX_PEM_FILE_BYTES / 1024 / 1024} MiB, which no PEM file does: check the path`,
				);
			}
		}
	} finally {
		closeSync(fd);
	}
}

/**
 * The certificates of a PEM text, parsed, in order.
 * @throws BerthError BERTH_ERR_USAGE when it holds none, or one that does not parse.
 */
export function parsePemCertificates(pem: Buffer, what: string): X509Certificate[] {
	const blocks = pem.toString('latin1').match(PEM_CERTIFICATE) ?? [];
	if (blocks.length === 0) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			`${what} holds no PEM certificate (a "-----BEGIN CERTIFICATE-----" block): check the file`,
		);
	}
	return blocks.map((block, i) => {
		try {
			return new X509Certificate(block);
		} catch (error) {
			const code = (error as NodeJS.ErrnoException).code ?? String(error);
			throw new BerthError(
				'BERTH_ERR_USAGE',
				`${what}: certificate ${i + 1} does not parse (${code}): check the file`,
				undefined,
				{ cause: error },
			);
		}
	});
}

/** Runs a file system call, turning its error into a usage error that names the file and errno. */
function attempt<T>(what: string, call: () => T): T {
	try {
		return call();
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code ?? String(error);
		throw new BerthError('BERTH_ERR_USAGE', `cannot read ${what}: ${code}`, undefined, { cause: error });
	}
}
