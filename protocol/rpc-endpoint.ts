import { decodeUtf8, encodeUtf8 } from './bytes';
import { BerthError, errorMessage, type ErrorCode } from './errors';
import { Disposable, Emitter, type IDisposable } from './lifecycle';
import {
	parseRpcMessage,
	type EventTable,
	type MethodTable,
	type RpcErrorBody,
	type RpcMessage,
} from './rpc';
import type { Timers } from './timers';

const UNKNOWN_METHOD: ErrorCode = 'BERTH_ERR_RPC_UNKNOWN_METHOD';

/** Default time a request waits for its answer. */
export const RPC_REQUEST_TIMEOUT_MS = 30_000;

type Handler<M extends MethodTable, K extends keyof M> = (
	params: unknown,
) => Promise<M[K]['result']> | M[K]['result'];

export interface RpcEndpointOptions {
	/** Sends one encoded message to the peer. */
	readonly send: (bytes: Uint8Array) => void;
	readonly timers: Timers;
	readonly requestTimeoutMs?: number;
}

interface Pending {
	resolve(value: unknown): void;
	reject(error: Error): void;
	timer: IDisposable;
}

/**
 * One end of Berth's RPC: calls methods of the peer (`request`), serves its own (`handle`), and
 * sends and receives events. `Local` is the table this end serves, `Remote` the peer's, and
 * `RemoteEvents` what the peer sends. Bytes in and out go through `receive` and `send`, so the
 * endpoint rides on any message channel: a Management session, or a stream session's RPC lane.
 *
 * Handlers get raw params and validate them before use. A request that is not answered in time
 * rejects with BERTH_ERR_TIMEOUT; disposing rejects every open request with BERTH_ERR_CLOSED.
 */
export class RpcEndpoint<
	Local extends MethodTable,
	Remote extends MethodTable,
	LocalEvents extends EventTable,
	RemoteEvents extends EventTable,
> extends Disposable {
	private readonly _onDidReceiveEvent = this._register(
		new Emitter<{ [K in keyof RemoteEvents]: { event: K; data: RemoteEvents[K] } }[keyof RemoteEvents]>(),
	);
	/** Events from the peer; `data` is as sent and must be validated before use. */
	readonly onDidReceiveEvent = this._onDidReceiveEvent.event;
	private readonly _onDidReceiveInvalid = this._register(new Emitter<string>());
	/** A message that was not valid RPC arrived (for logs); it was dropped. */
	readonly onDidReceiveInvalid = this._onDidReceiveInvalid.event;

	private readonly handlers = new Map<string, Handler<Local, keyof Local>>();
	private readonly pending = new Map<number, Pending>();
	private nextId = 1;

	constructor(private readonly options: RpcEndpointOptions) {
		super();
		this._register({
			dispose: () => this.rejectAll(new BerthError('BERTH_ERR_CLOSED', 'the connection closed')),
		});
	}

	/** Serves `method`. The handler's thrown errors go back to the caller as RPC errors. */
	handle<K extends keyof Local & string>(method: K, handler: Handler<Local, K>): void {
		this.handlers.set(method, handler as Handler<Local, keyof Local>);
	}

	request<K extends keyof Remote & string>(
		method: K,
		params: Remote[K]['params'],
	): Promise<Remote[K]['result']> {
		if (this.isDisposed) {
			return Promise.reject(new BerthError('BERTH_ERR_CLOSED', 'the connection closed'));
		}
		const id = this.nextId++;
		return new Promise((resolve, reject) => {
			const timeoutMs = this.options.requestTimeoutMs ?? RPC_REQUEST_TIMEOUT_MS;
			const timer = this.options.timers.timeout(() => {
				this.pending.delete(id);
				reject(new BerthError('BERTH_ERR_TIMEOUT', `request ${method} got no answer within ${timeoutMs} ms`));
			}, timeoutMs);
			this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
			this.post({ type: 'request', id, method, params });
		});
	}

	emit<K extends keyof LocalEvents & string>(event: K, data: LocalEvents[K]): void {
		if (!this.isDisposed) {
			this.post({ type: 'event', event, data });
		}
	}

	/** Feeds one inbound message (one Regular payload). */
	receive(bytes: Uint8Array): void {
		let message: RpcMessage | undefined;
		try {
			message = parseRpcMessage(JSON.parse(decodeUtf8(bytes)));
		} catch {
			message = undefined;
		}
		if (!message) {
			this._onDidReceiveInvalid.fire(`not an RPC message (${bytes.byteLength} bytes)`);
			return;
		}
		switch (message.type) {
			case 'request':
				void this.serve(message.id, message.method, message.params);
				return;
			case 'response':
			case 'error': {
				const pending = this.pending.get(message.id);
				if (!pending) {
					this._onDidReceiveInvalid.fire(`answer to unknown request ${message.id}`);
					return;
				}
				this.pending.delete(message.id);
				pending.timer.dispose();
				if (message.type === 'response') {
					pending.resolve(message.result);
				} else {
					pending.reject(rpcError(message.error));
				}
				return;
			}
			case 'event':
				this._onDidReceiveEvent.fire({ event: message.event, data: message.data } as never);
				return;
		}
	}

	private async serve(id: number, method: string, params: unknown): Promise<void> {
		const handler = this.handlers.get(method);
		if (!handler) {
			this.post({
				type: 'error',
				id,
				error: { code: UNKNOWN_METHOD, message: `unknown method: ${method}` },
			});
			return;
		}
		try {
			const result = await handler(params);
			this.post({ type: 'response', id, result });
		} catch (error) {
			const code = error instanceof BerthError ? error.code : 'BERTH_ERR_RPC';
			this.post({ type: 'error', id, error: { code, message: errorMessage(error) } });
		}
	}

	private post(message: RpcMessage): void {
		if (!this.isDisposed) {
			this.options.send(encodeUtf8(JSON.stringify(message)));
		}
	}

	private rejectAll(error: Error): void {
		for (const pending of this.pending.values()) {
			pending.timer.dispose();
			pending.reject(error);
		}
		this.pending.clear();
	}
}

/**
 * The error a request rejects with when the peer answered `error`: BERTH_ERR_RPC with the peer's
 * code as the reason, except for an unknown method, which callers tell apart by its own code (an
 * older agent lacks a newer method).
 */
function rpcError(body: RpcErrorBody): BerthError {
	return new BerthError(
		body.code === UNKNOWN_METHOD ? UNKNOWN_METHOD : 'BERTH_ERR_RPC',
		body.message,
		body.code,
	);
}
