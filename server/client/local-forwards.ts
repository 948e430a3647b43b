import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { BerthError, errorMessage } from '../../protocol/errors';
import { Disposable, Emitter, type IDisposable } from '../../protocol/lifecycle';
import type { MuxStream } from '../../protocol/mux-stream';
import type { ForwardInfo } from '../../protocol/rpc';
import type { Timers } from '../../protocol/timers';
import { bridgeFailure } from '../shared/bridge-failure';
import { ForwardStats } from '../shared/forward-stats';
import { StreamSocketBridge, type BridgeObserver } from '../shared/stream-socket-bridge';
import type { LocalForwardSpec } from './forward-spec';
import type { ForwardFailure } from './forwarder';
import { listenLocal, type LocalListener } from './local-listener';
import type { StreamSession } from './stream-session';
import { UNREACHABLE_WHILE_RECONNECTING } from './link-state';
import type { OwnForwardReservation } from './own-forwards';

/** How long a local connection accepted while the agent is unreachable waits for it. */
const HOLD_WHILE_RECONNECTING_MS = 10_000;
/** Warn when open local connections reach this share of the open-files limit. */
const FD_WARNING_SHARE = 0.9;

/** The process's open-files limit and what it held apart from local connections, read at start. */
export interface OpenFiles {
	/** The soft limit, or undefined where it cannot be read. */
	readonly limit: number | undefined;
	/** Descriptors held apart from local connections (stdio, the session, listeners). */
	readonly baseline: number;
}

export interface LocalForwardsOptions {
	readonly timers: Timers;
	/** The stream session to carry connections on; undefined while the agent is unreachable. */
	readonly session: () => StreamSession | undefined;
	readonly openFiles: OpenFiles;
}

interface LocalEntry {
	readonly id: string;
	readonly spec: LocalForwardSpec;
	readonly listener: LocalListener;
	readonly stats: ForwardStats;
	/** Watches all of the forward's connections (one object per forward, not per connection). */
	readonly observer: BridgeObserver;
	/** Its place among this client's forwards (the loop check), released when it ends. */
	readonly reservation: OwnForwardReservation | undefined;
}

/** A local connection accepted while there is no session, waiting for one. */
interface Hold {
	readonly entry: LocalEntry;
	readonly socket: Socket;
	readonly timer: IDisposable;
}

/**
 * The -L forwards of a StreamForwarder: local listeners whose every connection becomes a stream
 * of the current session. The listeners outlive sessions: a connection accepted while the agent
 * is unreachable is held (up to 10 s) until `release` hands it the next session. Warns once when
 * open connections near the process's open-files limit, past which the kernel refuses new ones
 * without a word.
 */
export class LocalForwards extends Disposable {
	private readonly _onDidChange = this._register(new Emitter<ForwardInfo>());
	/** A forward was added or removed, or its counters moved (throttled). */
	readonly onDidChange = this._onDidChange.event;
	private readonly _onDidFailConnection = this._register(new Emitter<ForwardFailure>());
	readonly onDidFailConnection = this._onDidFailConnection.event;

	private readonly entries = new Map<string, LocalEntry>();
	private readonly held = new Set<Hold>();
	private openConnections = 0;
	private warnedFdLimit = false;

	constructor(private readonly options: LocalForwardsOptions) {
		super();
		this._register({
			dispose: () => {
				for (const hold of this.held) {
					hold.timer.dispose();
					hold.socket.destroy();
				}
				this.held.clear();
				for (const entry of this.entries.values()) {
					entry.listener.dispose();
					entry.stats.dispose();
					entry.reservation?.dispose();
				}
				this.entries.clear();
			},
		});
	}

	list(): ForwardInfo[] {
		return [...this.entries.values()].map((entry) => describe(entry, 'active'));
	}

	/**
	 * Listens for `spec` and carries its connections; takes over `reservation` (updated with the
	 * addresses bound, released when the forward ends).
	 * @throws BerthError BERTH_ERR_LISTEN when the local port cannot be opened.
	 */
	async add(spec: LocalForwardSpec, reservation?: OwnForwardReservation): Promise<ForwardInfo> {
		const id = randomUUID();
		const listener = await listenLocal(
			spec.bind,
			spec.localPort,
			(socket) => this.accept(id, socket),
			(message) => this._onDidFailConnection.fire({ id, message }),
		);
		if (this.isDisposed) {
			listener.dispose();
			throw new BerthError('BERTH_ERR_CLOSED', 'the forwarder was closed while the forward was opening');
		}
		const stats = new ForwardStats(() => this.announce(id), this.options.timers);
		const observer: BridgeObserver = {
			toSocket: (n) => stats.carriedIn(n),
			toStream: (n) => stats.carriedOut(n),
			closed: (end) => this.connectionClosed(id, stats, bridgeFailure(end)),
		};
		const entry: LocalEntry = { id, spec, listener, stats, observer, reservation };
		this.entries.set(id, entry);
		reservation?.listening(listener.addresses, listener.port);
		const info = describe(entry, 'active');
		this._onDidChange.fire(info);
		return info;
	}

	/** Closes the listener (open and held connections go on); false when there is no such forward. */
	remove(id: string): boolean {
		const entry = this.entries.get(id);
		if (!entry) {
			return false;
		}
		this.entries.delete(id);
		entry.listener.dispose();
		entry.stats.dispose();
		entry.reservation?.dispose();
		this._onDidChange.fire(describe(entry, 'closed'));
		return true;
	}

	/** A session is up: the connections held meanwhile go onto it. */
	release(): void {
		for (const hold of [...this.held]) {
			this.held.delete(hold);
			hold.timer.dispose();
			this.carry(hold.entry, hold.socket);
		}
	}

	private accept(id: string, socket: Socket): void {
		const entry = this.entries.get(id);
		if (!entry) {
			socket.destroy();
			return;
		}
		entry.stats.opened();
		this.countOpen(id);
		this.carry(entry, socket);
	}

	/** Carries one accepted (paused) local connection as a stream, or holds it until the agent is back. */
	private carry(entry: LocalEntry, socket: Socket): void {
		const session = this.options.session();
		if (!session) {
			this.hold(entry, socket);
			return;
		}
		let stream: MuxStream;
		try {
			// The bridge starts at once: the first bytes follow the Open, and nothing here waits for
			// OpenOk (a refusal comes as a Reset, which resets the local connection).
			stream = session.open({ kind: 'tcp', host: entry.spec.host, port: entry.spec.port, openOk: false });
		} catch (error) {
			socket.destroy();
			this.connectionClosed(entry.id, entry.stats, errorMessage(error));
			return;
		}
		new StreamSocketBridge(stream, socket, entry.observer).start();
	}

	private hold(entry: LocalEntry, socket: Socket): void {
		const hold: Hold = {
			entry,
			socket,
			timer: this.options.timers.timeout(() => {
				this.held.delete(hold);
				socket.destroy();
				this.connectionClosed(entry.id, entry.stats, UNREACHABLE_WHILE_RECONNECTING);
			}, HOLD_WHILE_RECONNECTING_MS),
		};
		this.held.add(hold);
	}

	/** Counts open local connections, and warns once they near the open-files limit. */
	private countOpen(id: string): void {
		this.openConnections++;
		const { limit, baseline } = this.options.openFiles;
		if (
			limit === undefined ||
			this.warnedFdLimit ||
			baseline + this.openConnections < limit * FD_WARNING_SHARE
		) {
			return;
		}
		this.warnedFdLimit = true;
		this._onDidFailConnection.fire({
			id,
			message:
				`${this.openConnections} local connections are open, close to this process's limit of ${limit} open files: ` +
				'past it the kernel refuses new ones without notice; raise the limit with ulimit -n',
		});
	}

	/** One local connection is over: counted, and reported when it failed. */
	private connectionClosed(id: string, stats: ForwardStats, failure: string | undefined): void {
		this.openConnections--;
		stats.closed(failure);
		if (failure !== undefined) {
			this._onDidFailConnection.fire({ id, message: failure });
		}
	}

	private announce(id: string): void {
		const entry = this.entries.get(id);
		if (entry) {
			this._onDidChange.fire(describe(entry, 'active'));
		}
	}
}

function describe(entry: LocalEntry, state: ForwardInfo['state']): ForwardInfo {
	return {
		id: entry.id,
		direction: 'local',
		bindHost: entry.spec.bind,
		bindPort: entry.listener.port,
		targetHost: entry.spec.host,
		targetPort: entry.spec.port,
		state,
		counters: entry.stats.counters,
	};
}
