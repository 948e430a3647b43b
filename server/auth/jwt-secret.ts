import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { BerthError } from '../../protocol/errors';
import { readTokenFile } from '../shared/read-token-file';
import { stripOneNewline } from '../shared/token-rules';
import { loadOrCreateStoredSecret } from '../stored-secret';
import { MIN_JWT_SECRET_BYTES } from './user-tokens';

/** Random bytes in a generated secret (32: HS256's hash length), kept as base64url text. */
const GENERATED_SECRET_BYTES = 32;
/** The most bytes read from a secret file (4 KiB): a secret is far shorter; a wrong path is refused. */
const MAX_SECRET_FILE_BYTES = 4 * 1024;

/** Where the signing secret came from, for the banner. */
export type JwtSecretSource = 'file' | 'stored' | 'generated';

export interface JwtSecret {
	/** The HMAC key: the UTF-8 bytes of the secret's text, as the file holds it. */
	readonly key: Uint8Array;
	readonly source: JwtSecretSource;
	readonly path: string;
}

export interface JwtSecretFlags {
	/** `--jwt-secret-file`: the secret is this file's text, one trailing newline stripped. */
	readonly secretFile?: string;
	/** Berth's config folder (defaultConfigDir): a generated secret is kept there, beside the token. */
	readonly configDir: string;
	/** Receives what the user should know (a loose mode, a link), one line each. */
	readonly warn?: (message: string) => void;
}

/**
 * The secret that signs user tokens: from `--jwt-secret-file`, else `<configDir>/jwt-secret`,
 * generated there (32 random bytes as base64url, mode 0600) the first time. Replacing it makes
 * every token issued before fail with `bad-signature`.
 * @throws BerthError BERTH_ERR_TOKEN when the file cannot be read, or holds fewer than
 * MIN_JWT_SECRET_BYTES bytes; the message says what to do.
 */
export function resolveJwtSecret(flags: JwtSecretFlags): JwtSecret {
	const warn = flags.warn ?? (() => undefined);
	if (flags.secretFile !== undefined) {
		const path = flags.secretFile;
		const what = `--jwt-secret-file ${path}`;
		const { text, warnings } = readTokenFile(path, {
			what,
			noun: 'signing secret',
			maxBytes: MAX_SECRET_FILE_BYTES,
		});
		warnings.forEach(warn);
		return { key: checkSecret(text, what, ''), source: 'file', path };
	}
	const path = join(flags.configDir, 'jwt-secret');
	const what = `the stored signing secret ${path}`;
	const stored = loadOrCreateStoredSecret(path, {
		what,
		noun: 'signing secret',
		flag: '--jwt-secret-file',
		generate: () => randomBytes(GENERATED_SECRET_BYTES).toString('base64url'),
		check: (text) => {
			checkSecret(
				text,
				what,
				'. Berth does not replace it (every user token would stop working): fix it, or delete it to have a new one generated, which also ends every user token',
			);
			return stripOneNewline(text);
		},
		warn,
	});
	const key = new TextEncoder().encode(stored.value);
	return { key, source: stored.generated ? 'generated' : 'stored', path };
}

/** The key in a secret file's text, or a BerthError saying how long it must be. */
function checkSecret(text: string, what: string, hint: string): Uint8Array {
	const key = new TextEncoder().encode(stripOneNewline(text));
	if (key.byteLength < MIN_JWT_SECRET_BYTES) {
		throw new BerthError(
			'BERTH_ERR_TOKEN',
			`${what} holds ${key.byteLength} bytes, and a signing secret needs at least ${MIN_JWT_SECRET_BYTES} ` +
				`(e.g. openssl rand -base64 48 > FILE)${hint}`,
		);
	}
	return key;
}
