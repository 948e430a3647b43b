import { BerthError } from '../../protocol/errors';
import { ResetCode } from '../../protocol/mux-frames';

/** Node's error codes (errno names, getaddrinfo's) and the reset each becomes on the wire. */
const ERRNO_RESETS: Readonly<Record<string, ResetCode>> = {
	ECONNREFUSED: ResetCode.Refused,
	EHOSTUNREACH: ResetCode.Unreachable,
	ENETUNREACH: ResetCode.Unreachable,
	EHOSTDOWN: ResetCode.Unreachable,
	ENETDOWN: ResetCode.Unreachable,
	EADDRNOTAVAIL: ResetCode.Unreachable,
	ENOTFOUND: ResetCode.NameNotFound,
	EAI_AGAIN: ResetCode.NameNotFound,
	EAI_NONAME: ResetCode.NameNotFound,
	EAI_NODATA: ResetCode.NameNotFound,
	ETIMEDOUT: ResetCode.Timeout,
	ECONNRESET: ResetCode.Closed,
	ECONNABORTED: ResetCode.Closed,
	EPIPE: ResetCode.Closed,
};

/**
 * The Reset code for why a target could not be reached or a socket failed: from a BerthError's
 * code, else from the Node error code it carries (or its cause carries).
 */
export function resetCodeFor(error: unknown): ResetCode {
	if (error instanceof BerthError) {
		switch (error.code) {
			case 'BERTH_ERR_POLICY':
				return ResetCode.PolicyDenied;
			case 'BERTH_ERR_TIMEOUT':
				return ResetCode.Timeout;
			case 'BERTH_ERR_LIMIT':
				return ResetCode.Rejected;
			default:
				return error.cause === undefined ? ResetCode.Error : resetCodeFor(error.cause);
		}
	}
	const code = (error as { code?: unknown } | undefined)?.code;
	return (typeof code === 'string' && ERRNO_RESETS[code]) || ResetCode.Error;
}
