import type { TokenRefusal } from '../../protocol/token-refusal';
import type { AuthenticatedUser } from '../handshake/connection-types';

/** A user token's verdict: its holder, or why it was refused (with its id when it could be read). */
export type BearerVerdict =
	| { readonly type: 'accepted'; readonly user: AuthenticatedUser }
	| { readonly type: 'refused'; readonly why: TokenRefusal; readonly tokenId?: string };

/**
 * Where the handshake and HTTP check a bearer credential that is not the connection token: user
 * tokens (`--accounts`), or dev mode's `--dev`.
 */
export interface BearerVerifier {
	/** The verdict, or undefined when `auth` is not this verifier's kind of credential. */
	verify(auth: string): Promise<BearerVerdict> | undefined;
}
