import { assertNever } from '../../../protocol/errors';
import { ResetCode } from '../../../protocol/mux-frames';
import { SocksReply } from '../../../protocol/socks5';

/**
 * What a proxy client is told when its target could not be reached, from the stream's reset
 * code: a SOCKS5 reply (RFC 1928) and an HTTP status (403 when policy forbids, 502 otherwise,
 * 504 for a timeout).
 */
export function socksReplyFor(code: ResetCode): SocksReply {
	switch (code) {
		case ResetCode.Refused:
			return SocksReply.ConnectionRefused;
		case ResetCode.Unreachable:
		case ResetCode.NameNotFound:
		case ResetCode.Timeout:
			return SocksReply.HostUnreachable;
		case ResetCode.PolicyDenied:
			return SocksReply.NotAllowed;
		case ResetCode.Error:
		case ResetCode.Closed:
		case ResetCode.ProtocolError:
		case ResetCode.SessionClosed:
		case ResetCode.Rejected:
			return SocksReply.GeneralFailure;
		default:
			return assertNever(code, 'reset code');
	}
}

export function httpStatusFor(code: ResetCode): number {
	switch (code) {
		case ResetCode.PolicyDenied:
			return 403;
		case ResetCode.Timeout:
			return 504;
		case ResetCode.Refused:
		case ResetCode.Unreachable:
		case ResetCode.NameNotFound:
		case ResetCode.Error:
		case ResetCode.Closed:
		case ResetCode.ProtocolError:
		case ResetCode.SessionClosed:
		case ResetCode.Rejected:
			return 502;
		default:
			return assertNever(code, 'reset code');
	}
}
