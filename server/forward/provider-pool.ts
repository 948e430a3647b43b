import { BerthError } from '../../protocol/errors';
import { isObject, isString } from '../../protocol/guards';
import { Disposable, type Event, type IDisposable } from '../../protocol/lifecycle';
import type { Mux } from '../../protocol/mux';
import { ResetCode, type OpenTarget } from '../../protocol/mux-frames';
import type { Timers } from '../../protocol/timers';
import type { Logger } from '../shared/log';
import { openAnswered } from '../shared/proxy/await-open';
import type { ProxyOpenResult, ProxyRequest, ProxyRoute } from '../shared/proxy/proxy-route';

/** How long a proxied connection waits for a provider when none is connected (LinkSocks's habit). */
export const PROVIDER_WAIT_MS = 10_000;
/** A provider's name: what a `via` label names. */
const MAX_PROVIDER_NAME_CHARS = 64;
const PROVIDER_NAME = /^[A-Za-z0-9._]+$/;

/** A client session that provides egress: streams opened on its mux leave from its host. */
interface Provider {
	readonly name: string;
	readonly mux: Mux;
	readonly session: string;
	/** Whether its session has a socket now. */
	readonly isConnected: () => boolean;
}

/** A provider's session as the pool follows it: one whose network dropped waits to be resumed. */
export interface ProviderConnection {
	readonly isConnected: boolean;
	/** The session gained or lost its socket. */
	readonly onDidChangeConnection: Event<void>;
}

/** A provider that is always connected (tests, and sessions that cannot wait for their client). */
const ALWAYS_CONNECTED: ProviderConnection = {
	isConnected: true,
	onDidChangeConnection: () => ({ dispose() {} }),
};

/** Which providers may carry a connection: any, the one named `via`, and (autonomy) only `session`'s. */
export interface ProviderChoice {
	readonly via?: string;
	/** Autonomy mode: the provider session that declared the connector's token. */
	readonly session?: string;
}

interface Waiter {
	readonly choice: ProviderChoice;
	readonly resolve: (provider: Provider | undefined) => void;
}

/**
 * The agent's reverse proxy (`berth server -r`): each connection to its proxy port becomes a
 * stream towards one of the clients that provide egress (`berth client -r`), round robin; a
 * `via` label picks a provider by name. With none connected (or none of that name) a connection
 * waits up to PROVIDER_WAIT_MS for one, then fails (SOCKS 0x04, HTTP 502). A provider that drops
 * takes only its own streams with it, and gets no new connections.
 */
export class ProviderPool extends Disposable implements ProxyRoute {
	private readonly providers: Provider[] = [];
	private readonly waiters = new Set<Waiter>();
	private next = 0;
	/** Connections handed to providers so far (numbers the debug lines, which are not coalesced then). */
	private carried = 0;

	constructor(
		private readonly timers: Timers,
		private readonly log: Logger,
	) {
		super();
		this._register({
			dispose: () => {
				for (const waiter of this.waiters) {
					waiter.resolve(undefined);
				}
				this.waiters.clear();
			},
		});
	}

	get size(): number {
		return this.providers.length;
	}

	/** The providers connected now, in turn order (not those whose session waits to be resumed). */
	list(): { name: string; session: string }[] {
		return this.providers.filter((p) => p.isConnected()).map((p) => ({ name: p.name, session: p.session }));
	}

	/**
	 * A session offers egress; it stays a provider until the returned disposable is disposed (its
	 * session ended).
	 * @throws BerthError BERTH_ERR_USAGE for a name that is not `[A-Za-z0-9._]{1,64}`.
	 */
	add(
		raw: unknown,
		mux: Mux,
		session: string,
		connection: ProviderConnection = ALWAYS_CONNECTED,
	): IDisposable {
		const name = parseProviderName(raw) ?? session;
		const provider: Provider = { name, mux, session, isConnected: () => connection.isConnected };
		this.providers.push(provider);
		this.log.info('a provider joined', { name, session, providers: this.providers.length });
		this.serveWaiters(provider);
		// A provider whose session was resumed takes the connections that waited meanwhile.
		const followed = connection.onDidChangeConnection(() => this.serveWaiters(provider));
		return {
			dispose: () => {
				followed.dispose();
				const index = this.providers.indexOf(provider);
				if (index >= 0) {
					this.providers.splice(index, 1);
					this.log.info('a provider left', { name, session, providers: this.providers.length });
				}
			},
		};
	}

	async open(request: ProxyRequest): Promise<ProxyOpenResult> {
		const target: OpenTarget =
			request.kind === 'tcp'
				? { kind: 'tcp', host: request.target.host, port: request.target.port }
				: { kind: 'udp' };
		return this.openTarget(
			target,
			request.config.via === undefined ? {} : { via: request.config.via },
			request.name,
		);
	}

	/**
	 * A stream towards a provider (the one named `via`, else the next in turn), answered: the
	 * agent's own proxy port, and a connector's streams in relay mode.
	 */
	async openTarget(
		target: Extract<OpenTarget, { kind: 'tcp' | 'udp' }>,
		choice: ProviderChoice,
		name = '',
	): Promise<ProxyOpenResult> {
		const provider = this.pick(choice) ?? (await this.waitFor(choice));
		if (!provider) {
			const whom =
				choice.session !== undefined
					? 'the provider that declared this connector token is not connected'
					: choice.via === undefined
						? 'no provider is connected'
						: `no provider named ${choice.via} is connected`;
			return {
				ok: false,
				code: ResetCode.Unreachable,
				reason: `${whom} (waited ${PROVIDER_WAIT_MS / 1000} s)`,
			};
		}
		const stream = provider.mux.open(
			target.kind === 'tcp' ? { kind: 'tcp', host: target.host, port: target.port } : { kind: 'udp' },
		);
		this.log.debug('proxied through a provider', {
			connection: ++this.carried,
			provider: provider.name,
			target: target.kind === 'tcp' ? `${target.host}:${target.port}` : 'udp',
			name,
		});
		return openAnswered(stream);
	}

	/** Hands a connected provider the connections waiting for one it fits. */
	private serveWaiters(provider: Provider): void {
		if (!provider.isConnected()) {
			return;
		}
		for (const waiter of [...this.waiters]) {
			if (fits(provider, waiter.choice)) {
				this.waiters.delete(waiter);
				waiter.resolve(provider);
			}
		}
	}

	/**
	 * The next connected provider in turn among those `choice` allows. A provider whose session
	 * waits to be resumed keeps the streams it has, but gets no new connection until it is back:
	 * it may never be (a provider that died looks the same), and a connection waits for the first
	 * provider that can take it.
	 */
	private pick(choice: ProviderChoice): Provider | undefined {
		const candidates = this.providers.filter((p) => p.isConnected() && fits(p, choice));
		if (candidates.length === 0) {
			return undefined;
		}
		const provider = candidates[this.next % candidates.length]!;
		this.next = (this.next + 1) % Number.MAX_SAFE_INTEGER;
		return provider;
	}

	private waitFor(choice: ProviderChoice): Promise<Provider | undefined> {
		if (this.isDisposed) {
			return Promise.resolve(undefined);
		}
		return new Promise((resolve) => {
			const waiter: Waiter = {
				choice,
				resolve: (provider) => {
					timer.dispose();
					resolve(provider);
				},
			};
			const timer = this.timers.timeout(() => {
				this.waiters.delete(waiter);
				resolve(undefined);
			}, PROVIDER_WAIT_MS);
			this.waiters.add(waiter);
		});
	}
}

function fits(provider: Provider, choice: ProviderChoice): boolean {
	return (
		(choice.via === undefined || provider.name === choice.via) &&
		(choice.session === undefined || provider.session === choice.session)
	);
}

/** The name in `provideEgress`'s params, or undefined when none is given. */
function parseProviderName(raw: unknown): string | undefined {
	const name = isObject(raw) ? raw['name'] : undefined;
	if (name === undefined) {
		return undefined;
	}
	if (!isString(name) || name.length > MAX_PROVIDER_NAME_CHARS || !PROVIDER_NAME.test(name)) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			`provideEgress: a provider's name has 1 to ${MAX_PROVIDER_NAME_CHARS} letters, digits, '.' or '_' (it is what a via label names)`,
		);
	}
	return name;
}
