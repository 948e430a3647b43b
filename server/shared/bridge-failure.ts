import { ResetCode } from '../../protocol/mux-frames';
import type { BridgeEnd } from './stream-socket-bridge';

/**
 * Why a bridged connection failed, or undefined when it ended as connections do: both FINs, or a
 * socket at either end simply closing (a client that closes without a half-close, reset code
 * `Closed`). The one place that tells the two apart, on the code, never on the words.
 */
export function bridgeFailure(end: BridgeEnd): string | undefined {
	return end.kind === 'reset' && end.code !== ResetCode.Closed ? end.reason : undefined;
}
