import { BerthError } from '../../protocol/errors';
import type { ProxyCredentials } from '../shared/proxy/proxy-credentials';
import { readTokenFile } from '../shared/read-token-file';
import { stripOneNewline } from '../shared/token-rules';

export interface ProxyCredentialSources {
	/** `-n NAME`: the username's base a client must give (before its labels). */
	readonly name?: string;
	/** `--socks-password-file FILE`. */
	readonly passwordFile?: string;
	/** `-w PASS`, accepted for LinkSocks users: visible to every user of the host in the process list. */
	readonly password?: string;
	readonly env: NodeJS.ProcessEnv;
	readonly warn: (message: string) => void;
}

/**
 * The proxy's credentials, from (in order) --socks-password-file, $BERTH_SOCKS_PASSWORD, or -w
 * (with a warning: argv is public on the host). Without a password the proxy takes any username
 * (its labels still apply) and `-n` alone is refused, since nothing would check it.
 * @throws BerthError BERTH_ERR_USAGE for -n without a password or an empty password; BERTH_ERR_TOKEN
 *   when the file cannot be read.
 */
export function readProxyCredentials(sources: ProxyCredentialSources): ProxyCredentials {
	const password = readPassword(sources);
	if (password === undefined) {
		if (sources.name !== undefined) {
			throw new BerthError(
				'BERTH_ERR_USAGE',
				'-n NAME needs a password to check it against: give --socks-password-file FILE or $BERTH_SOCKS_PASSWORD',
			);
		}
		return {};
	}
	if (password === '') {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			'the proxy password is empty: put one in the file, or leave out the flag',
		);
	}
	return { password, ...(sources.name !== undefined ? { name: sources.name } : {}) };
}

function readPassword(sources: ProxyCredentialSources): string | undefined {
	if (sources.passwordFile !== undefined) {
		const what = `--socks-password-file ${sources.passwordFile}`;
		const { text, warnings } = readTokenFile(sources.passwordFile, { what });
		warnings.forEach(sources.warn);
		return stripOneNewline(text);
	}
	const fromEnv = sources.env['BERTH_SOCKS_PASSWORD'];
	if (fromEnv) {
		return fromEnv;
	}
	if (sources.password !== undefined) {
		sources.warn(
			'-w puts the proxy password in the process list, where every user of this host can read it: ' +
				'prefer --socks-password-file FILE or $BERTH_SOCKS_PASSWORD',
		);
		return sources.password;
	}
	return undefined;
}
