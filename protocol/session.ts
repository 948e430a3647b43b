import {
	ACK_DELAY_MS,
	ACK_EVERY_BYTES,
	DEFAULT_MAX_UNACKED_BYTES,
	HEADER_BYTES,
	KEEPALIVE_MS,
	REPLAY_REQUEST_INTERVAL_MS,
	TIMEOUT_MS,
} from './constants';
import { BerthError, errorMessage } from './errors';
import { Disposable, DisposableStore, Emitter, type IDisposable } from './lifecycle';
import { allocBytes, concatBytes } from './bytes';
import {
	DEFAULT_MESSAGE_LIMITS,
	MessageReader,
	type MessageLimits,
	type SegmentedMessage,
} from './message-reader';
import type { Timers } from './timers';
import type { Transport } from './transport';
import { encodeMessage, MessageType, writeU32 } from './wire';

export interface SessionOptions {
	readonly timers: Timers;
	readonly limits?: MessageLimits;
	/** Unacknowledged outgoing bytes past which the session is given up. */
	readonly maxUnackedBytes?: number;
	readonly keepAliveMs?: number;
	readonly timeoutMs?: number;
	readonly ackDelayMs?: number;
}

export type TransportLossReason = 'closed' | 'timeout' | 'protocol-error';

export interface TransportLostEvent {
	readonly reason: TransportLossReason;
	readonly error?: Error;
}

/** A LatencyRequest is answered only while less than this waits in the write buffer. */
const LATENCY_REPLY_BACKLOG_BYTES = 64 * 1024;
/** The replay queue's acknowledged prefix is dropped once it is this long (and half the array). */
const COMPACT_AFTER_MESSAGES = 1024;
/** What an acknowledged slot of the replay queue holds until it is compacted away. */
const ACKNOWLEDGED: Outgoing = { id: 0, header: new Uint8Array(0), chunks: [], bytes: 0 };

interface Outgoing {
	readonly id: number;
	/** The 13-byte message header followed by the sender's prefix; its ack is rewritten on each send. */
	readonly header: Uint8Array;
	readonly chunks: readonly Uint8Array[];
	readonly bytes: number;
}

/**
 * A session that outlives its sockets: VS Code's PersistentProtocol, in Berth's words.
 *
 * Regular messages carry a sequence id and the highest in-order id received (the ack). Every
 * message sent stays queued until the peer acknowledges it, so when a socket drops and a new one
 * is attached, each side replays what the other has not acknowledged and drops what it has seen
 * twice: no message is lost or delivered twice. KeepAlive goes out every 5 s; a socket from which
 * nothing arrives for 20 s is declared lost. The owner decides what a lost transport means (wait
 * for a reconnection, or give up) and disposes the session when it is over.
 *
 * Payloads handed to `send` are kept (not copied) until acknowledged: do not change them.
 * Payloads are delivered as segments: views into the socket's read buffers (a message usually
 * spans two reads), never copied and never overwritten later, so they may be kept.
 */
export class Session extends Disposable {
	// A listener that throws fails this session only (logged by its owner through onDidFail), never
	// the process and never another session: everything a session's peer can trigger runs inside
	// one of these emitters or the guarded timers below.
	private readonly contain = (error: unknown): void => this.failWithBug(error);
	private readonly _onDidReceiveMessage = this._register(new Emitter<readonly Uint8Array[]>(this.contain));
	/** A Regular message's payload (as segments), in order, exactly once. */
	readonly onDidReceiveMessage = this._onDidReceiveMessage.event;
	private readonly _onDidLoseTransport = this._register(new Emitter<TransportLostEvent>(this.contain));
	/** The socket closed, timed out or sent bad bytes; the session itself lives on. */
	readonly onDidLoseTransport = this._onDidLoseTransport.event;
	private readonly _onDidReceiveDisconnect = this._register(new Emitter<void>(this.contain));
	/** The peer ended the session for good (Disconnect message). */
	readonly onDidReceiveDisconnect = this._onDidReceiveDisconnect.event;
	private readonly _onDidFail = this._register(new Emitter<BerthError>());
	/** The session cannot go on (too much unacknowledged data, a handler that threw); it is disposed after. */
	readonly onDidFail = this._onDidFail.event;
	private readonly _onDidDrain = this._register(new Emitter<void>(this.contain));
	/** The transport's write buffer drained after `send` returned false, or a transport was attached. */
	readonly onDidDrain = this._onDidDrain.event;
	private readonly _onDidAcknowledge = this._register(new Emitter<void>(this.contain));
	/** The peer acknowledged messages: `unackedBytes` went down. */
	readonly onDidAcknowledge = this._onDidAcknowledge.event;

	private readonly timers: Timers;
	private readonly limits: MessageLimits;
	private readonly maxUnackedBytes: number;
	private readonly keepAliveMs: number;
	private readonly timeoutMs: number;
	private readonly ackDelayMs: number;

	private transport: Transport | undefined;
	private transportStore: DisposableStore | undefined;
	private reader: MessageReader;

	private outgoingId = 0;
	/** Highest Regular id delivered in order. */
	private incomingId = 0;
	private lastAckSent = 0;
	/** Bytes of Regular messages received since the last ack went out. */
	private bytesSinceAck = 0;
	private readonly unacked: Outgoing[] = [];
	private unackedHead = 0;
	private unackedBytesTotal = 0;

	private lastIncomingAt: number;
	private lastReplayRequestAt = Number.NEGATIVE_INFINITY;
	private ackTimer: IDisposable | undefined;
	/** The peer sent Pause: nothing but a Disconnect goes out until it sends Resume. */
	private peerPaused = false;
	/** Id of the first Regular message held back by the peer's Pause (it stays in `unacked`). */
	private pausedFromId: number | undefined;
	private lastReplayAt = Number.NEGATIVE_INFINITY;

	constructor(options: SessionOptions) {
		super();
		this.timers = options.timers;
		this.limits = options.limits ?? DEFAULT_MESSAGE_LIMITS;
		this.maxUnackedBytes = options.maxUnackedBytes ?? DEFAULT_MAX_UNACKED_BYTES;
		this.keepAliveMs = options.keepAliveMs ?? KEEPALIVE_MS;
		this.timeoutMs = options.timeoutMs ?? TIMEOUT_MS;
		this.ackDelayMs = options.ackDelayMs ?? ACK_DELAY_MS;
		this.reader = new MessageReader(this.limits);
		this.lastIncomingAt = this.timers.now();
		this._register({ dispose: () => this.dropTransport() });
	}

	get isAttached(): boolean {
		return this.transport !== undefined;
	}

	/** Outgoing bytes the peer has not yet acknowledged. */
	get unackedBytes(): number {
		return this.unackedBytesTotal;
	}

	/** Bytes waiting in the current transport's write buffer (0 when detached; see isAttached). */
	get bufferedBytes(): number {
		return this.transport?.bufferedBytes ?? 0;
	}

	get remoteAddress(): string | undefined {
		return this.transport?.remoteAddress;
	}

	/**
	 * Starts using a transport: the first one, or a new one after a reconnection. `initial` holds
	 * bytes already read from it. Sends an Ack and replays every unacknowledged message.
	 */
	attach(transport: Transport, initial: readonly Uint8Array[] = []): void {
		if (this.isDisposed) {
			transport.dispose();
			return;
		}
		this.dropTransport();
		const store = new DisposableStore();
		this.transport = transport;
		this.transportStore = store;
		this.reader = new MessageReader(this.limits);
		this.peerPaused = false;
		this.pausedFromId = undefined;
		this.lastIncomingAt = this.timers.now();
		store.add(transport.onDidReceive((chunk) => this.guard(() => this.receive(chunk))));
		store.add(transport.onDidEnd(() => this.guard(() => this.loseTransport('closed'))));
		store.add(transport.onDidClose((e) => this.guard(() => this.loseTransport('closed', e.error))));
		store.add(transport.onDidDrain(() => this._onDidDrain.fire()));
		store.add(this.timers.interval(() => this.guard(() => this.tick()), this.keepAliveMs));

		this.writeControlMessage(MessageType.Ack);
		for (let i = this.unackedHead; i < this.unacked.length; i++) {
			this.writeRegular(this.unacked[i]!);
		}
		for (const chunk of initial) {
			this.receive(chunk);
		}
		// Writers held back while detached (the Mux reads a detached channel as congested) may go on.
		if (this.transport === transport) {
			this._onDidDrain.fire();
		}
	}

	/**
	 * Sends one Regular message: `prefix` (small, copied at once into the message's header buffer,
	 * so a caller may reuse it) then `payload` (kept uncopied). Returns false when the transport is
	 * congested (see onDidDrain). A closed session drops the message and returns false: a session
	 * that failed in the middle of a caller's loop must not throw into it.
	 */
	send(payload: Uint8Array | readonly Uint8Array[], prefix?: Uint8Array): boolean {
		if (this.isDisposed) {
			return false;
		}
		const chunks = payload instanceof Uint8Array ? [payload] : payload;
		const prefixBytes = prefix?.byteLength ?? 0;
		let bytes = prefixBytes;
		for (const c of chunks) {
			bytes += c.byteLength;
		}
		const id = ++this.outgoingId;
		const header = allocBytes(HEADER_BYTES + prefixBytes);
		header[0] = MessageType.Regular;
		writeU32(header, 1, id);
		writeU32(header, 9, bytes);
		if (prefix) {
			header.set(prefix, HEADER_BYTES);
		}
		const message: Outgoing = { id, header, chunks, bytes };
		this.unacked.push(message);
		this.unackedBytesTotal += bytes;
		if (this.unackedBytesTotal > this.maxUnackedBytes) {
			this.fail(
				new BerthError(
					'BERTH_ERR_PROTOCOL',
					`the peer left ${this.unackedBytesTotal} bytes unacknowledged, over the bound of ${this.maxUnackedBytes}`,
				),
			);
			return false;
		}
		return this.writeRegular(message);
	}

	/** Tells the peer the session is over (even while it paused us), then closes the transport. The caller disposes. */
	sendDisconnect(): void {
		if (this.transport) {
			this.write([encodeMessage(MessageType.Disconnect, 0, 0)]);
			this.transport.end();
		}
	}

	/** Closes the current transport (if any) as lost; the session waits for `attach`. */
	detach(): void {
		this.loseTransport('closed');
	}

	private receive(chunk: Uint8Array): void {
		this.lastIncomingAt = this.timers.now();
		this.reader.feed(chunk);
		let message: SegmentedMessage | undefined;
		for (;;) {
			try {
				message = this.reader.readSegments();
			} catch (error) {
				this.loseTransport('protocol-error', error as Error);
				return;
			}
			if (!message || !this.transport) {
				return;
			}
			this.handle(message);
		}
	}

	private handle(message: SegmentedMessage): void {
		this.acknowledge(message.ack);
		switch (message.type) {
			case MessageType.Regular:
				if (message.id === this.incomingId + 1) {
					this.incomingId = message.id;
					this.bytesSinceAck += message.length;
					if (this.bytesSinceAck >= ACK_EVERY_BYTES) {
						this.writeControlMessage(MessageType.Ack);
					} else {
						this.armAckTimer();
					}
					this._onDidReceiveMessage.fire(message.segments);
				} else if (message.id > this.incomingId + 1) {
					this.requestReplay();
				}
				// An id at or below the last one is a duplicate from a replay: dropped.
				return;
			case MessageType.ReplayRequest:
				this.replay();
				return;
			case MessageType.Pause:
				this.peerPaused = true;
				return;
			case MessageType.Resume:
				this.resumeWrites();
				return;
			case MessageType.LatencyRequest:
				// An echo is a courtesy: a peer that asks faster than it reads gets no more of them, so
				// it cannot grow this side's write buffer (the bound is small; a real probe is tiny).
				if (!this.peerPaused && this.bufferedBytes <= LATENCY_REPLY_BACKLOG_BYTES) {
					const payload = concatBytes(message.segments, message.length);
					this.write([encodeMessage(MessageType.LatencyResponse, 0, this.noteAckSent(), payload)]);
				}
				return;
			case MessageType.Disconnect:
				this._onDidReceiveDisconnect.fire();
				return;
			default:
				// Ack, KeepAlive, LatencyResponse: nothing beyond their ack. Control after the handshake,
				// None and unknown types: ignored, as VS Code does.
				return;
		}
	}

	private acknowledge(ack: number): void {
		const head = this.unackedHead;
		while (this.unackedHead < this.unacked.length && this.unacked[this.unackedHead]!.id <= ack) {
			this.unackedBytesTotal -= this.unacked[this.unackedHead]!.bytes;
			this.unacked[this.unackedHead] = ACKNOWLEDGED;
			this.unackedHead++;
		}
		// Compact once the acknowledged prefix is long and at least half the array.
		if (this.unackedHead > COMPACT_AFTER_MESSAGES && this.unackedHead * 2 > this.unacked.length) {
			this.unacked.splice(0, this.unackedHead);
			this.unackedHead = 0;
		}
		if (this.unackedHead !== head) {
			this._onDidAcknowledge.fire();
		}
	}

	/**
	 * Sends every unacknowledged message again (the peer asked). At most once per
	 * REPLAY_REQUEST_INTERVAL_MS: each replay can write the whole replay queue, so a peer that floods
	 * requests must not multiply it.
	 */
	private replay(): void {
		const now = this.timers.now();
		if (now - this.lastReplayAt < REPLAY_REQUEST_INTERVAL_MS) {
			return;
		}
		this.lastReplayAt = now;
		for (let i = this.unackedHead; i < this.unacked.length; i++) {
			this.writeRegular(this.unacked[i]!);
		}
	}

	/** The peer sent Resume: an Ack, then the Regular messages its Pause held back, in order. */
	private resumeWrites(): void {
		if (!this.peerPaused) {
			return;
		}
		this.peerPaused = false;
		const from = this.pausedFromId;
		this.pausedFromId = undefined;
		this.writeControlMessage(MessageType.Ack);
		if (from === undefined) {
			return;
		}
		for (let i = this.unackedHead; i < this.unacked.length; i++) {
			if (this.unacked[i]!.id >= from) {
				this.writeRegular(this.unacked[i]!);
			}
		}
	}

	private requestReplay(): void {
		const now = this.timers.now();
		if (now - this.lastReplayRequestAt >= REPLAY_REQUEST_INTERVAL_MS) {
			this.lastReplayRequestAt = now;
			this.writeControlMessage(MessageType.ReplayRequest);
		}
	}

	private armAckTimer(): void {
		if (this.ackTimer) {
			return;
		}
		this.ackTimer = this.timers.timeout(() => {
			this.ackTimer = undefined;
			if (this.lastAckSent < this.incomingId) {
				this.writeControlMessage(MessageType.Ack);
			}
		}, this.ackDelayMs);
	}

	private tick(): void {
		if (this.timers.now() - this.lastIncomingAt >= this.timeoutMs) {
			this.loseTransport(
				'timeout',
				new BerthError('BERTH_ERR_TIMEOUT', `nothing received for ${this.timeoutMs} ms`),
			);
			return;
		}
		this.writeControlMessage(MessageType.KeepAlive);
	}

	private noteAckSent(): number {
		this.lastAckSent = this.incomingId;
		this.bytesSinceAck = 0;
		return this.incomingId;
	}

	private writeRegular(message: Outgoing): boolean {
		if (this.peerPaused) {
			// Held back, not copied: it stays in `unacked` (bounded by maxUnackedBytes) and goes out on Resume.
			this.pausedFromId ??= message.id;
			return false;
		}
		// Rewriting the ack in place is safe: a replay goes to a new transport, and whichever value a
		// pending write carries, either is a valid acknowledgement.
		writeU32(message.header, 5, this.noteAckSent());
		const chunks = message.chunks;
		return this.write(chunks.length === 1 ? [message.header, chunks[0]!] : [message.header, ...chunks]);
	}

	/** Ack, KeepAlive, ReplayRequest: header only, carrying the current ack. Dropped while paused (Resume sends an Ack). */
	private writeControlMessage(type: MessageType): void {
		if (!this.peerPaused) {
			this.write([encodeMessage(type, 0, this.noteAckSent())]);
		}
	}

	private write(chunks: readonly Uint8Array[]): boolean {
		if (!this.transport) {
			return false; // kept in `unacked` where it matters; replayed on attach
		}
		return this.transport.write(chunks);
	}

	/** Runs a transport or timer callback; a throw fails this session instead of escaping. */
	private guard(fn: () => void): void {
		try {
			fn();
		} catch (error) {
			this.failWithBug(error);
		}
	}

	private failWithBug(error: unknown): void {
		if (!this.isDisposed) {
			this.fail(
				new BerthError(
					'BERTH_ERR_INTERNAL',
					`a handler of this session failed: ${errorMessage(error)}`,
					undefined,
					{
						cause: error,
					},
				),
			);
		}
	}

	private loseTransport(reason: TransportLossReason, error?: Error): void {
		if (!this.transport) {
			return;
		}
		this.dropTransport();
		this._onDidLoseTransport.fire({ reason, ...(error ? { error } : {}) });
	}

	private dropTransport(): void {
		this.ackTimer?.dispose();
		this.ackTimer = undefined;
		const transport = this.transport;
		this.transport = undefined;
		this.transportStore?.dispose();
		this.transportStore = undefined;
		transport?.dispose();
	}

	private fail(error: BerthError): void {
		if (this.isDisposed) {
			return;
		}
		this._onDidFail.fire(error);
		this.dispose();
	}
}
