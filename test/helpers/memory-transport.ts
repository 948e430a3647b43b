import { Disposable, Emitter } from '../../protocol/lifecycle';
import type { Transport, TransportCloseEvent } from '../../protocol/transport';

/**
 * One end of an in-memory transport pair. Writes are delivered to the other end synchronously
 * (or held while `hold()` is on, to model a congested or silent network).
 */
export class MemoryTransport extends Disposable implements Transport {
	private readonly _onDidReceive = this._register(new Emitter<Uint8Array>());
	readonly onDidReceive: Transport['onDidReceive'] = (listener) => {
		const subscription = this._onDidReceive.event(listener);
		queueMicrotask(() => this.flush());
		return subscription;
	};
	private readonly _onDidEnd = this._register(new Emitter<void>());
	readonly onDidEnd = this._onDidEnd.event;
	private readonly _onDidClose = this._register(new Emitter<TransportCloseEvent>());
	readonly onDidClose = this._onDidClose.event;
	private readonly _onDidDrain = this._register(new Emitter<void>());
	readonly onDidDrain = this._onDidDrain.event;

	readonly canHalfClose = true;
	readonly remoteAddress = 'memory';
	peer: MemoryTransport | undefined;
	/** Every chunk this end wrote, in order. */
	readonly written: Uint8Array[] = [];
	private paused = false;
	private held = false;
	private inbox: Uint8Array[] = [];
	private closed = false;

	/** What this end wrote that the peer has not read yet (it holds or paused): a socket's backlog. */
	get bufferedBytes(): number {
		return this.peer?.unread ?? 0;
	}

	/** Bytes that arrived and wait to be read. */
	get unread(): number {
		return this.inbox.reduce((n, c) => n + c.byteLength, 0);
	}

	write(chunks: readonly Uint8Array[]): boolean {
		if (this.closed) {
			return false;
		}
		const copies = chunks.map((chunk) => chunk.slice());
		this.written.push(...copies);
		// One write's bytes arrive together, as a socket's do: were they delivered chunk by chunk, the
		// peer could answer (synchronously, in memory) between a message's header and its body, and
		// its answer would land in the middle of the message.
		this.peer?.deliver(copies);
		return true;
	}

	end(): void {
		this.peer?._onDidEnd.fire();
	}

	pause(): void {
		this.paused = true;
	}

	resume(): void {
		this.paused = false;
		this.flush();
	}

	/** Holds incoming bytes (as if the network stalled) until `release()`. */
	hold(): void {
		this.held = true;
	}

	release(): void {
		this.held = false;
		this.flush();
	}

	/** Both ends close, as a dropped connection does. */
	close(error?: Error): void {
		for (const end of [this, this.peer]) {
			if (end && !end.closed) {
				end.closed = true;
				end._onDidClose.fire(error ? { error } : {});
			}
		}
	}

	override dispose(): void {
		this.close();
		super.dispose();
	}

	private deliver(chunks: readonly Uint8Array[]): void {
		this.inbox.push(...chunks);
		this.flush();
	}

	private flush(): void {
		// Like a socket, bytes wait until someone reads them.
		while (
			!this.paused &&
			!this.held &&
			!this.closed &&
			this._onDidReceive.hasListeners &&
			this.inbox.length > 0
		) {
			this._onDidReceive.fire(this.inbox.shift()!);
		}
	}
}

/** Two connected in-memory transports. */
export function createTransportPair(): [MemoryTransport, MemoryTransport] {
	const a = new MemoryTransport();
	const b = new MemoryTransport();
	a.peer = b;
	b.peer = a;
	return [a, b];
}
