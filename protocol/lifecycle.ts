/**
 * Disposables and events, in VS Code's shape: everything that holds a socket, timer, process,
 * listener or UI item is a Disposable, and each event is a private Emitter with a public Event.
 */

/** Something that holds a resource until it is disposed. Disposing twice is harmless. */
export interface IDisposable {
	dispose(): void;
}

/** Wraps a function as a Disposable that runs it once. */
export function toDisposable(fn: () => void): IDisposable {
	let done = false;
	return {
		dispose() {
			if (!done) {
				done = true;
				fn();
			}
		},
	};
}

/** Disposes many things together; things added after it was disposed are disposed at once. */
export class DisposableStore implements IDisposable {
	private readonly items = new Set<IDisposable>();
	private disposed = false;

	get isDisposed(): boolean {
		return this.disposed;
	}

	add<T extends IDisposable>(item: T): T {
		if (this.disposed) {
			item.dispose();
		} else {
			this.items.add(item);
		}
		return item;
	}

	/** Forgets an item without disposing it. */
	delete(item: IDisposable): void {
		this.items.delete(item);
	}

	dispose(): void {
		if (this.disposed) {
			return;
		}
		this.disposed = true;
		const errors: unknown[] = [];
		for (const item of [...this.items].reverse()) {
			try {
				item.dispose();
			} catch (error) {
				errors.push(error);
			}
		}
		this.items.clear();
		if (errors.length > 0) {
			throw new AggregateError(errors, 'disposing a store threw');
		}
	}
}

/** Base class for owners of resources: `_register` ties a child's life to this object's. */
export abstract class Disposable implements IDisposable {
	protected readonly _store = new DisposableStore();

	protected get isDisposed(): boolean {
		return this._store.isDisposed;
	}

	protected _register<T extends IDisposable>(item: T): T {
		return this._store.add(item);
	}

	dispose(): void {
		this._store.dispose();
	}
}

/** A subscription function: call it with a listener, get back the Disposable that unsubscribes. */
export type Event<T> = (listener: (value: T) => void) => IDisposable;

/**
 * Fires values to listeners. Listeners added or removed while firing take effect from the next
 * fire; a listener that throws does not stop the others (the error goes to `onListenerError`).
 */
export class Emitter<T> implements IDisposable {
	private listeners: ((value: T) => void)[] = [];
	private disposed = false;

	constructor(private readonly onListenerError: (error: unknown) => void = onUnexpectedError) {}

	readonly event: Event<T> = (listener) => {
		if (this.disposed) {
			return toDisposable(() => undefined);
		}
		this.listeners = [...this.listeners, listener];
		return toDisposable(() => {
			this.listeners = this.listeners.filter((l) => l !== listener);
		});
	};

	get hasListeners(): boolean {
		return this.listeners.length > 0;
	}

	fire(value: T): void {
		for (const listener of this.listeners) {
			try {
				listener(value);
			} catch (error) {
				this.onListenerError(error);
			}
		}
	}

	dispose(): void {
		this.disposed = true;
		this.listeners = [];
	}
}

/**
 * Where errors nobody expected go: a listener that threw (in an Emitter without a handler of its
 * own) or a guarded callback. By default they are rethrown on a fresh stack so a bug is loud in
 * tests; the CLI and the extension install a handler that logs them and goes on (VS Code's
 * `onUnexpectedError` / `setUnexpectedErrorHandler`). The one process-wide hook in Berth, and
 * deliberately so: an error with no owner has nowhere else to go.
 */
let unexpectedErrorHandler: (error: unknown) => void = rethrowLater;

/** Reports an error nobody expected (see `setUnexpectedErrorHandler`). */
export function onUnexpectedError(error: unknown): void {
	try {
		unexpectedErrorHandler(error);
	} catch {
		// A handler that throws has nowhere to report to; the error is dropped rather than looping.
	}
}

/** Installs the process's handler for unexpected errors; disposing restores the previous one. */
export function setUnexpectedErrorHandler(handler: (error: unknown) => void): IDisposable {
	const previous = unexpectedErrorHandler;
	unexpectedErrorHandler = handler;
	return toDisposable(() => {
		unexpectedErrorHandler = previous;
	});
}

function rethrowLater(error: unknown): void {
	setTimeoutShim(() => {
		throw error;
	});
}

// Both runtimes have setTimeout; it is reached through globalThis so protocol/ needs neither
// Node's nor the DOM's declarations.
const setTimeoutShim = (fn: () => void): void => {
	(globalThis as unknown as { setTimeout(fn: () => void, ms: number): unknown }).setTimeout(fn, 0);
};

/** Resolves with the first value the event fires. */
export function once<T>(event: Event<T>): Promise<T> {
	return new Promise((resolve) => {
		const subscription = event((value) => {
			subscription.dispose();
			resolve(value);
		});
	});
}
