import { ResetCode, type StreamReset } from '../../../protocol/mux-frames';
import type { MuxStream, StreamHandler } from '../../../protocol/mux-stream';
import type { ProxyOpenResult } from './proxy-route';

/** How an Open ended: the far side reached the target, or it reset the stream (with why). */
export type OpenOutcome = { readonly ok: true } | { readonly ok: false; readonly reset: StreamReset };

/**
 * Waits until the far side of a just-opened stream reached its target (OpenOk) or refused it
 * (Reset). A proxy must know before it answers its client: SOCKS5's reply and HTTP's 200 mean
 * "connected". On OpenOk the stream is detached: the Data and End that follow it (a target that
 * speaks first, or answers and closes at once, has them in the same read) wait in the stream for
 * the bridge the proxy attaches once its client is answered. Data cannot come before OpenOk.
 */
export function awaitOpen(stream: MuxStream): Promise<OpenOutcome> {
	return new Promise((resolve) => {
		const waiting: StreamHandler = {
			onData: () => undefined,
			onEnd: () => undefined,
			onReset: (reset) => resolve({ ok: false, reset }),
			onDrain: () => undefined,
			onOpened: () => {
				stream.detach();
				resolve({ ok: true });
			},
		};
		stream.attach(waiting);
		if (stream.closed) {
			resolve({ ok: false, reset: { code: ResetCode.SessionClosed, reason: 'the session closed' } });
		}
	});
}

/** Opens a stream and waits for the far side's answer, as a proxy route reports it. */
export async function openAnswered(stream: MuxStream): Promise<ProxyOpenResult> {
	const outcome = await awaitOpen(stream);
	return outcome.ok
		? { ok: true, stream }
		: { ok: false, code: outcome.reset.code, reason: outcome.reset.reason };
}
