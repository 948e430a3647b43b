import { BerthError, errorMessage } from '../../protocol/errors';
import { DisposableStore } from '../../protocol/lifecycle';
import { MessageReader, type MessageLimits } from '../../protocol/message-reader';
import type { Transport } from '../../protocol/transport';
import { MessageType } from '../../protocol/wire';

/**
 * Reads the handshake's Control messages off a transport, one at a time, and parses no further:
 * whatever arrives after the last one stays buffered for the connection's next owner (`detach`).
 * Other message types in between (KeepAlive, Ack) are skipped, as VS Code's handshake does.
 * Used by both the agent and the client.
 */
export class ControlReader {
	private readonly reader: MessageReader;
	private readonly store = new DisposableStore();
	private waiter: { resolve(payload: Uint8Array): void; reject(error: Error): void } | undefined;
	private failure: Error | undefined;

	constructor(
		private readonly transport: Transport,
		initial: readonly Uint8Array[],
		limits: MessageLimits,
	) {
		this.reader = new MessageReader(limits);
		for (const chunk of initial) {
			this.reader.feed(chunk);
		}
		this.store.add(
			transport.onDidReceive((chunk) => {
				this.reader.feed(chunk);
				this.pump();
			}),
		);
		this.store.add(transport.onDidEnd(() => this.fail(closedError())));
		this.store.add(transport.onDidClose((e) => this.fail(e.error ?? closedError())));
	}

	/** The next Control message's payload. Rejects when the connection closes or sends bad bytes. */
	next(): Promise<Uint8Array> {
		if (this.waiter) {
			throw new BerthError('BERTH_ERR_INTERNAL', 'ControlReader.next called twice without waiting');
		}
		return new Promise((resolve, reject) => {
			this.waiter = { resolve, reject };
			this.pump();
		});
	}

	/** Changes the bounds for the messages not read yet (see MessageReader.setLimits). */
	setLimits(limits: MessageLimits): void {
		this.reader.setLimits(limits);
	}

	/** Rejects the pending `next()` (deadline passed, agent stopping). */
	fail(error: Error): void {
		this.failure ??= error;
		this.pump();
	}

	/** Stops reading: pauses the transport and hands over every unparsed byte. */
	detach(): Uint8Array[] {
		this.store.dispose();
		this.transport.pause();
		return this.reader.drain();
	}

	private pump(): void {
		const waiter = this.waiter;
		if (!waiter) {
			return;
		}
		try {
			for (;;) {
				const message = this.reader.read();
				if (!message) {
					break;
				}
				if (message.type === MessageType.Control) {
					this.waiter = undefined;
					waiter.resolve(message.payload);
					return;
				}
			}
		} catch (error) {
			this.failure ??=
				error instanceof Error ? error : new BerthError('BERTH_ERR_PROTOCOL', errorMessage(error));
		}
		if (this.failure) {
			this.waiter = undefined;
			waiter.reject(this.failure);
		}
	}
}

function closedError(): BerthError {
	return new BerthError('BERTH_ERR_CLOSED', 'the connection closed during the handshake');
}
