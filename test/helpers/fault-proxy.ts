import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { IDisposable } from '../../protocol/lifecycle';
import { checkTimerDelay, type Timers } from '../../protocol/timers';
import { createNodeTimers } from '../../server/shared/transport/node-timers';
import { checkByteCount, type ByteBudget } from './byte-budget';
import { FaultConnection } from './fault-connection';
import type { FaultDirection } from './fault-pipe';

export type { FaultDirection } from './fault-pipe';
export type { FaultConnection, FaultSide } from './fault-connection';

/**
 * A TCP proxy that breaks the path on command, for the tests of streams that survive network
 * drops: client → FaultProxy → agent. Each accepted connection is carried to the target over a
 * connection of its own, and a test can, at any moment:
 *
 * - `cut()`: reset both directions at once (a NAT reboot, a proxy's idle cut, a cable pulled):
 *   both ends see ECONNRESET, never a clean FIN;
 * - `cutDirection(d)`: stop carrying one direction (a half-broken path, asymmetric routing);
 * - `blackhole(true)`: go silent without closing (a dead NAT entry, a laptop asleep, Wi-Fi out of
 *   range): nothing passes, nothing closes, and what is sent meanwhile is lost. Only a keepalive
 *   can notice: neither end waits on TCP's own timeout in these tests;
 * - `delay(ms)`: add latency to every chunk both ways (a long path);
 * - `cutAfterBytes(n)`: cut once n more bytes have passed, so a test cuts "at a random point"
 *   of a transfer by choosing n, without timers;
 * - `refuse(true)`: accept and reset each new connection at once (an agent that is not there);
 * - `pauseAccepting(true)`: hold new connections unread and undialled (a connect into an outage).
 *
 * The faults act on the connections open now; `blackhole`, `delay`, `refuse` and `pauseAccepting`
 * are also states that new connections get while they are on. The same faults exist per
 * connection (FaultConnection, from `connections` or `nextConnection()`).
 *
 * Where it differs from a real path, because the proxy ends TCP on each side: during a black
 * hole the proxy's kernel still acknowledges what a sender writes, so the sender's socket keeps
 * taking bytes (on a real dead path its send buffer would fill); the only sign of the hole is the
 * peer's silence, which is what a keepalive must notice. A refused connection is reset after
 * its TCP handshake, so the client sees ECONNRESET, not ECONNREFUSED.
 *
 * Why a proxy of our own: the kernel's tools (iptables, tc netem) need root, and a process that
 * sits on the path sees exactly what a test needs to wait on: bytes carried and dropped per
 * direction. Memory stays bounded: each direction pauses its source while its sink is full.
 * Tests wait on the counters (`waitFor(() => proxy.dropped('toTarget') >= n)`), never on time.
 */
export class FaultProxy implements IDisposable {
	private readonly live = new Set<FaultConnection>();
	/** Every connection carried, by id - 1 (tests are short: kept for nextConnection and counters). */
	private readonly history: FaultConnection[] = [];
	private readonly sharedBudgets: ByteBudget[] = [];
	private readonly waiters = new Map<number, ((connection: FaultConnection) => void)[]>();
	private refusedCount = 0;
	private refusing = false;
	private blackholed = false;
	private holding = false;
	private delayMs = 0;
	private disposed = false;

	private constructor(
		private readonly server: Server,
		private readonly targetHost: string,
		private readonly targetPort: number,
		private readonly timers: Timers,
	) {
		server.on('connection', (socket) => this.onConnection(socket));
	}

	/**
	 * Starts a proxy on 127.0.0.1, on a port the OS chooses, that carries each connection to
	 * `targetHost` (default 127.0.0.1) : `targetPort`. `timers` times the delays (Node's by default).
	 */
	static async start(options: {
		readonly targetPort: number;
		readonly targetHost?: string;
		readonly timers?: Timers;
	}): Promise<FaultProxy> {
		const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true });
		await new Promise<void>((resolve, reject) => {
			server.once('error', reject);
			server.listen(0, '127.0.0.1', () => {
				server.off('error', reject);
				resolve();
			});
		});
		const { targetPort, targetHost = '127.0.0.1', timers = createNodeTimers() } = options;
		return new FaultProxy(server, targetHost, targetPort, timers);
	}

	/** The port the proxy listens on (127.0.0.1). */
	get port(): number {
		return (this.server.address() as AddressInfo).port;
	}

	/** Connections accepted and carried (or held) so far; refused ones are not counted. */
	get accepted(): number {
		return this.history.length;
	}

	/** Connections reset at accept while `refuse` was on. */
	get refused(): number {
		return this.refusedCount;
	}

	/** Connections with a socket still open, held ones included. */
	get open(): number {
		return this.live.size;
	}

	/** Connections a fault has cut so far. */
	get cuts(): number {
		return this.history.filter((c) => c.isCut).length;
	}

	/** The connections open now, oldest first. */
	get connections(): readonly FaultConnection[] {
		return [...this.live];
	}

	/** Bytes carried in `direction` so far, over all connections. */
	bytes(direction: FaultDirection): number {
		return this.history.reduce((sum, c) => sum + c.bytes(direction), 0);
	}

	/** Bytes read in `direction` and discarded by a fault so far, over all connections. */
	dropped(direction: FaultDirection): number {
		return this.history.reduce((sum, c) => sum + c.dropped(direction), 0);
	}

	/**
	 * The connection accepted after the first `after` (default: the next one from now on). Pass
	 * `proxy.accepted` read before the client connects to wait without a race.
	 */
	nextConnection(after = this.accepted): Promise<FaultConnection> {
		const known = this.history[after];
		if (known) {
			return Promise.resolve(known);
		}
		return new Promise((resolve) => {
			const id = after + 1;
			this.waiters.set(id, [...(this.waiters.get(id) ?? []), resolve]);
		});
	}

	/** Cuts every open connection both ways at once: both ends see ECONNRESET. */
	cut(): void {
		for (const connection of this.live) {
			connection.cut();
		}
	}

	/** Stops carrying `direction` on every open connection; the other direction still flows. */
	cutDirection(direction: FaultDirection): void {
		for (const connection of this.live) {
			connection.cutDirection(direction);
		}
	}

	/**
	 * Silences every open connection (nothing passes, nothing closes, bytes read meanwhile are
	 * lost), or ends the silence. While on, new connections are held as by `pauseAccepting`: a
	 * connect into a dead path does not get through until it comes back.
	 */
	blackhole(on: boolean): void {
		this.blackholed = on;
		for (const connection of this.live) {
			connection.blackhole(on);
		}
		this.releaseHeld();
	}

	/** Adds `ms` of latency to every chunk read from now on, both ways, on open and new connections. */
	delay(ms: number): void {
		this.delayMs = checkTimerDelay('the fault proxy delay', ms);
		for (const connection of this.live) {
			connection.delay(ms);
		}
	}

	/**
	 * Cuts every open connection once `bytes` more have passed through the proxy in `direction`
	 * (both together if undefined), counted over all connections, new ones included. The
	 * proxy passes exactly that many: the connection that carries the last byte is cut right after
	 * writing it (what its far end's kernel had not taken yet is lost, as on any cut), the others
	 * at the same moment. Resolves true at the cut,
	 * false if the proxy is disposed first.
	 */
	cutAfterBytes(bytes: number, direction?: FaultDirection): Promise<boolean> {
		if (checkByteCount(bytes) === 0) {
			this.cut();
			return Promise.resolve(true);
		}
		return new Promise((resolve) => {
			this.sharedBudgets.push({
				remaining: bytes,
				direction,
				onSpent: (crossing) => {
					for (const connection of this.live) {
						if (connection !== crossing) {
							connection.cut();
						}
					}
					resolve(true);
				},
				onAbandoned: () => resolve(false),
			});
		});
	}

	/** While on, each new connection is accepted and reset at once (the client sees ECONNRESET). */
	refuse(on: boolean): void {
		this.refusing = on;
	}

	/**
	 * While on, new connections are accepted (the kernel completes the handshake, as it does for
	 * a listen backlog) but held: their bytes wait unread and the target is not dialled. Turning it
	 * off carries them, their waiting bytes included.
	 */
	pauseAccepting(on: boolean): void {
		this.holding = on;
		this.releaseHeld();
	}

	/** Stops listening and closes every connection (plainly: this is teardown, not a fault). */
	async dispose(): Promise<void> {
		if (this.disposed) {
			return;
		}
		this.disposed = true;
		const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
		for (const connection of this.live) {
			connection.dispose();
		}
		for (const budget of this.sharedBudgets.splice(0)) {
			budget.onAbandoned();
		}
		await Promise.all([closed, ...this.history.map((c) => c.closed)]);
	}

	async [Symbol.asyncDispose](): Promise<void> {
		await this.dispose();
	}

	private onConnection(socket: Socket): void {
		if (this.refusing || this.disposed) {
			this.refusedCount++;
			socket.on('error', () => undefined);
			socket.resetAndDestroy();
			return;
		}
		const connection = new FaultConnection(this.history.length + 1, socket, {
			targetHost: this.targetHost,
			targetPort: this.targetPort,
			timers: this.timers,
			sharedBudgets: this.sharedBudgets,
			onDidClose: (c) => this.live.delete(c),
		});
		this.history.push(connection);
		this.live.add(connection);
		connection.delay(this.delayMs);
		if (!this.holding && !this.blackholed) {
			connection.start();
		}
		for (const resolve of this.waiters.get(connection.id) ?? []) {
			resolve(connection);
		}
		this.waiters.delete(connection.id);
	}

	private releaseHeld(): void {
		if (this.holding || this.blackholed) {
			return;
		}
		for (const connection of this.live) {
			connection.start();
		}
	}
}
