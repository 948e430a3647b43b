import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { BerthError, errorMessage } from '../../protocol/errors';
import type { TlsTrust } from '../../server/client/index';

/** Largest CA file read: a whole system bundle is about 200 KiB. */
const MAX_CA_FILE_BYTES = 1024 * 1024;
const PEM_CERTIFICATE = '-----BEGIN CERTIFICATE-----';

/**
 * How `wss://` agents' certificates are checked, from `berth.tls.caFile` (the CLI's `--ca-file`):
 * the CAs in that PEM file instead of Node's store; undefined (Node's store) when it is unset. Read
 * at each connect, so a replaced file applies without a reload. `~/` is the user's home.
 * @throws BerthError BERTH_ERR_USAGE when the file cannot be read, is too large, or holds no certificate.
 */
export async function readCaFile(path: string | undefined): Promise<TlsTrust | undefined> {
	if (path === undefined) {
		return undefined;
	}
	const file = path.startsWith('~/') ? join(homedir(), path.slice(2)) : path;
	const fail = (why: string): BerthError =>
		new BerthError('BERTH_ERR_USAGE', `the CA file ${file} (berth.tls.caFile) ${why}`);
	let text: string;
	try {
		if ((await stat(file)).size > MAX_CA_FILE_BYTES) {
			throw fail(`is larger than ${MAX_CA_FILE_BYTES / 1024} KiB: is it a CA certificate?`);
		}
		text = await readFile(file, 'utf8');
	} catch (error) {
		throw error instanceof BerthError ? error : fail(`cannot be read: ${errorMessage(error)}`);
	}
	if (!text.includes(PEM_CERTIFICATE)) {
		throw fail('holds no PEM certificate');
	}
	return { ca: text };
}
