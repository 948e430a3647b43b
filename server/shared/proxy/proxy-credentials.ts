import { parseProxyUsername, type ProxyUser } from '../../../protocol/proxy-config';
import { safeEqual } from '../sign';

/**
 * The proxy's optional credentials (`-n NAME`, `--socks-password-file`): without a password any
 * username is accepted and only carries labels; with one, the password must match (in constant
 * time) and, when a name is set, the username's base (before its labels) must be that name.
 */
export interface ProxyCredentials {
	readonly name?: string;
	readonly password?: string;
}

/** Whether credentials are required at all. */
export function requiresCredentials(credentials: ProxyCredentials): boolean {
	return credentials.password !== undefined;
}

/** The user a username/password names, or undefined when they are refused. */
export function checkProxyUser(
	credentials: ProxyCredentials,
	username: string,
	password: string,
): ProxyUser | undefined {
	const user = parseProxyUsername(username);
	if (credentials.password === undefined) {
		return user;
	}
	const passwordOk = safeEqual(password, credentials.password);
	const nameOk = credentials.name === undefined || safeEqual(user.name, credentials.name);
	return passwordOk && nameOk ? user : undefined;
}
