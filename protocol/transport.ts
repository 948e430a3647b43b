import type { Event, IDisposable } from './lifecycle';

/** Why a transport closed. */
export interface TransportCloseEvent {
	/** Set when the close was caused by an error (reset, timeout, protocol error). */
	readonly error?: Error;
}

/**
 * A reliable, ordered byte pipe: a TCP socket after the HTTP upgrade, a WebSocket (each binary
 * message a chunk), or an in-memory pair in tests. It is the only thing the layers above see of
 * the network. Disposing it destroys the connection.
 */
export interface Transport extends IDisposable {
	/** Bytes as they arrive; chunk boundaries carry no meaning. */
	readonly onDidReceive: Event<Uint8Array>;
	/** The peer will send nothing more (TCP FIN). Not every transport can report this. */
	readonly onDidEnd: Event<void>;
	/** The connection is gone; fires once. */
	readonly onDidClose: Event<TransportCloseEvent>;
	/** The write buffer fell below its high-water mark after `write` returned false. */
	readonly onDidDrain: Event<void>;

	/**
	 * Queues chunks to send, in order. Chunks written in one turn of the event loop go out in one
	 * system call where the transport can. Returns false once the write buffer is over its
	 * high-water mark: stop writing until onDidDrain.
	 */
	write(chunks: readonly Uint8Array[]): boolean;
	/** Sends FIN after what is queued (half-close); a WebSocket closes instead. */
	end(): void;
	/** Stops and restarts onDidReceive (backpressure towards the peer). */
	pause(): void;
	resume(): void;

	/** Bytes queued and not yet handed to the kernel. */
	readonly bufferedBytes: number;
	/** Whether `end()` is a true half-close (raw TCP) or closes both directions (WebSocket). */
	readonly canHalfClose: boolean;
	/** Peer address for logs, e.g. `127.0.0.1:51234`. */
	readonly remoteAddress: string;
}
