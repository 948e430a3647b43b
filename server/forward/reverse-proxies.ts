import { BerthError } from '../../protocol/errors';
import { isObject, isPort, isString } from '../../protocol/guards';
import { formatHostPort } from '../../protocol/host-port';
import { Disposable } from '../../protocol/lifecycle';
import type { Mux } from '../../protocol/mux';
import type { Timers } from '../../protocol/timers';
import type { Logger } from '../shared/log';
import { openAnswered } from '../shared/proxy/await-open';
import { ProxyListener } from '../shared/proxy/proxy-listener';
import type { ProxyOpenResult, ProxyRequest, ProxyRoute } from '../shared/proxy/proxy-route';
import { resolveBindAddress, systemBindLookup } from './bind-address';

/** Where a reverse proxy listens on the agent when the client names no address. */
const DEFAULT_BIND = '127.0.0.1';
/** Reverse proxies one session may hold. */
const MAX_REVERSE_PROXIES = 16;

export interface ReverseProxiesOptions {
	readonly mux: Mux;
	readonly allowRemoteBind: boolean;
	readonly timers: Timers;
	readonly log: Logger;
}

/**
 * One session's dynamic reverse forwards (ssh's `-R [BIND:]PORT` without a target): SOCKS5 +
 * HTTP proxy ports on the agent whose connections become streams towards the client, where the
 * traffic leaves (the client chose to provide egress to ask for one). They live as long as their
 * session, and bind loopback unless the agent allows remote binds.
 */
export class ReverseProxies extends Disposable implements ProxyRoute {
	private count = 0;

	constructor(private readonly options: ReverseProxiesOptions) {
		super();
	}

	/**
	 * Opens a proxy port; returns where it listens.
	 * @throws BerthError BERTH_ERR_USAGE (bad params, a non-loopback bind without
	 *   --allow-remote-bind, too many), BERTH_ERR_LISTEN (the port is taken).
	 */
	async add(raw: unknown): Promise<{ bindHost: string; bindPort: number }> {
		const bindHost = isObject(raw) && isString(raw['bindHost']) ? raw['bindHost'] : DEFAULT_BIND;
		const bindPort = isObject(raw) ? raw['bindPort'] : undefined;
		if (!(bindPort === 0 || isPort(bindPort))) {
			throw new BerthError('BERTH_ERR_USAGE', 'addReverseProxy: bindPort must be 0-65535');
		}
		if (this.count >= MAX_REVERSE_PROXIES) {
			throw new BerthError('BERTH_ERR_USAGE', `at most ${MAX_REVERSE_PROXIES} reverse proxies per session`);
		}
		const address = await resolveBindAddress(bindHost, bindPort, {
			allowRemoteBind: this.options.allowRemoteBind,
			lookup: systemBindLookup,
		});
		const proxy = await ProxyListener.listen({
			bind: address,
			port: bindPort,
			route: this,
			credentials: {},
			timers: this.options.timers,
			log: this.options.log,
		});
		if (this.isDisposed) {
			proxy.dispose();
			throw new BerthError('BERTH_ERR_CLOSED', 'the session ended while the proxy port opened');
		}
		this.count++;
		this._register(proxy);
		this.options.log.info('reverse proxy listening', { at: formatHostPort(address, proxy.port) });
		return { bindHost: address, bindPort: proxy.port };
	}

	/** Each proxied connection: a stream towards the client, answered there. */
	async open(request: ProxyRequest): Promise<ProxyOpenResult> {
		const stream = this.options.mux.open(
			request.kind === 'tcp'
				? { kind: 'tcp', host: request.target.host, port: request.target.port }
				: { kind: 'udp' },
		);
		return openAnswered(stream);
	}
}
