import { type Event } from '../../protocol/lifecycle';
import { ResetCode, type OpenTarget } from '../../protocol/mux-frames';
import type { MuxStream } from '../../protocol/mux-stream';
import type { Timers } from '../../protocol/timers';
import { openAnswered } from '../shared/proxy/await-open';
import type { ProxyOpenResult, ProxyRequest, ProxyRoute } from '../shared/proxy/proxy-route';
import type { StreamSession } from './stream-session';
import { UNREACHABLE_WHILE_RECONNECTING } from './link-state';

/** How long a proxied connection made while the agent is unreachable waits for it (as -L's do). */
export const PROXY_HOLD_WHILE_RECONNECTING_MS = 10_000;

export interface SessionProxyRouteOptions {
	/** The session to open streams on; undefined while the agent is unreachable. */
	readonly session: () => StreamSession | undefined;
	/** Fires when a new session is up. */
	readonly onDidConnect: Event<unknown>;
	readonly timers: Timers;
}

/**
 * Forward mode (`berth forward -D`, `berth client -p`): each proxied connection becomes a stream
 * of the client's one session, and the traffic leaves from the agent, as `ssh -D`'s does. The
 * agent resolves names (so socks5h works) and applies its --allow/--deny; its answer (OpenOk, or
 * a Reset with a code) decides the SOCKS reply or the HTTP status.
 */
export class SessionProxyRoute implements ProxyRoute {
	constructor(private readonly options: SessionProxyRouteOptions) {}

	async open(request: ProxyRequest): Promise<ProxyOpenResult> {
		const session = this.options.session() ?? (await this.nextSession());
		if (!session) {
			return {
				ok: false,
				code: ResetCode.Unreachable,
				reason: UNREACHABLE_WHILE_RECONNECTING,
			};
		}
		// `via` matters only to an agent relaying for a connector: it picks the provider.
		const via = request.config.via === undefined ? {} : { via: request.config.via };
		const target: OpenTarget =
			request.kind === 'tcp'
				? { kind: 'tcp', host: request.target.host, port: request.target.port, ...via }
				: { kind: 'udp', ...via };
		let stream: MuxStream;
		try {
			stream = session.open(target);
		} catch {
			return { ok: false, code: ResetCode.SessionClosed, reason: 'the session with the agent closed' };
		}
		return openAnswered(stream);
	}

	/** The next session, or undefined when none comes within PROXY_HOLD_WHILE_RECONNECTING_MS. */
	private nextSession(): Promise<StreamSession | undefined> {
		return new Promise((resolve) => {
			const done = (session: StreamSession | undefined) => {
				timer.dispose();
				listener.dispose();
				resolve(session);
			};
			const timer = this.options.timers.timeout(() => done(undefined), PROXY_HOLD_WHILE_RECONNECTING_MS);
			const listener = this.options.onDidConnect(() => done(this.options.session()));
		});
	}
}
