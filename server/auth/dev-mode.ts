import { DEV_MODE_AUTH } from '../../protocol/constants';
import type { AuthenticatedUser } from '../handshake/connection-types';
import type { BearerVerdict, BearerVerifier } from './bearer-verifier';

/** The one user of dev mode: every client that says `--dev`. */
export const DEV_MODE_USER: AuthenticatedUser = {
	userId: 'dev',
	email: 'testing@testing.local',
	tokenId: 'dev-mode',
	// Dev mode tries everything out: forwards, proxies and providing (not a connector's limits).
	role: 'provider',
	expiresAt: Number.POSITIVE_INFINITY,
};

/**
 * `berth server --dev-mode`: any client that says `--dev` is `testing@testing.local`, without a
 * token. The agent refuses to start it on anything but loopback (server-command.ts).
 */
export const devModeVerifier: BearerVerifier = {
	verify: (auth) =>
		auth === DEV_MODE_AUTH
			? Promise.resolve<BearerVerdict>({ type: 'accepted', user: DEV_MODE_USER })
			: undefined,
};

/** Asks each verifier in turn; the first that knows the credential's kind answers. */
export function firstVerifier(verifiers: readonly BearerVerifier[]): BearerVerifier {
	return {
		verify: (auth) => {
			for (const verifier of verifiers) {
				const verdict = verifier.verify(auth);
				if (verdict) {
					return verdict;
				}
			}
			return undefined;
		},
	};
}
