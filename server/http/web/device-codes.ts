import { randomBytes } from 'node:crypto';
import { BerthError } from '../../../protocol/errors';
import { Disposable, type IDisposable } from '../../../protocol/lifecycle';
import type { Timers } from '../../../protocol/timers';
import { newUserCode } from './user-code';

/**
 * The device authorization grant's pending requests (RFC 8628), in memory:
 *
 *     create ──► pending ──approve──► approved ──poll──► (used: invalid from then on)
 *                   │  └──deny────► denied
 *                   └──(expires_in passes)──► expired
 *
 * A device polls with its device code; a person approves or denies on the agent's page with the
 * user code. A code is answered for REMEMBER_AFTER_EXPIRY_MS past its expiry (so a late poll
 * learns "expired" or "denied"), then forgotten (then "invalid", like a code never issued). At
 * most MAX_DEVICE_CODES are kept; past it the oldest is forgotten.
 */

/** How long a device code and its user code last (RFC 8628's `expires_in`): 10 minutes. */
export const DEVICE_CODE_TTL_MS = 600_000;
/** The least time between two polls of one code (RFC 8628's `interval`): 5 s. */
export const DEVICE_POLL_INTERVAL_MS = 5_000;
/** A poll this much early still counts as on time: requests do not arrive exactly as sent. */
export const DEVICE_POLL_TOLERANCE_MS = 500;
/** How long a finished or expired code is still answered before it is forgotten. */
export const REMEMBER_AFTER_EXPIRY_MS = 600_000;
/** Device codes kept at once (about 300 B each); past it the oldest is forgotten. */
export const MAX_DEVICE_CODES = 1_000;
/** Random bytes in a device code: it is the device's secret until the token is handed over. */
const DEVICE_CODE_BYTES = 32;
/** New user codes drawn before giving up: with 887 million codes and 1,000 in use, one clash in a million. */
const MAX_USER_CODE_TRIES = 16;

/** Who approved a request: the token is issued to this user. */
export interface DeviceApproval {
	readonly email: string;
	readonly userId: string;
}

/** What a device polling its code learns. */
export type DevicePoll =
	| { readonly status: 'pending' | 'slow_down' | 'expired' | 'denied' | 'invalid' }
	| { readonly status: 'complete'; readonly approval: DeviceApproval; readonly sessionName: string };

/** A request as the approval page shows it. */
export interface PendingDevice {
	readonly userCode: string;
	readonly sessionName: string;
	/** `timers.now()` when the device asked. */
	readonly createdAt: number;
}

/** What `create` gives the device (the endpoint adds the URLs). */
export interface NewDeviceCode {
	readonly deviceCode: string;
	readonly userCode: string;
	readonly expiresInS: number;
	readonly intervalS: number;
}

export interface DeviceCodesOptions {
	readonly timers: Timers;
	readonly ttlMs?: number;
	readonly intervalMs?: number;
	readonly max?: number;
	/** Makes user codes (tests give fixed ones). */
	readonly newUserCode?: () => string;
}

type State = 'pending' | 'approved' | 'denied';

interface Entry extends PendingDevice {
	readonly deviceCode: string;
	readonly expiresAt: number;
	state: State;
	approval?: DeviceApproval;
	lastPollAt?: number;
	forget: IDisposable;
}

export class DeviceCodes extends Disposable {
	/** By device code, oldest first (the Map's order). */
	private readonly byDevice = new Map<string, Entry>();
	private readonly byUser = new Map<string, Entry>();
	private readonly ttlMs: number;
	private readonly intervalMs: number;
	private readonly max: number;
	private readonly makeUserCode: () => string;

	constructor(private readonly options: DeviceCodesOptions) {
		super();
		this.ttlMs = options.ttlMs ?? DEVICE_CODE_TTL_MS;
		this.intervalMs = options.intervalMs ?? DEVICE_POLL_INTERVAL_MS;
		this.max = options.max ?? MAX_DEVICE_CODES;
		this.makeUserCode = options.newUserCode ?? (() => newUserCode());
		this._register({ dispose: () => this.forgetAll() });
	}

	/** Codes kept now. */
	get size(): number {
		return this.byDevice.size;
	}

	/** A new request from a device that calls itself `sessionName`. */
	create(sessionName: string): NewDeviceCode {
		while (this.byDevice.size >= this.max) {
			this.forget(this.byDevice.values().next().value as Entry);
		}
		const deviceCode = randomBytes(DEVICE_CODE_BYTES).toString('base64url');
		const userCode = this.uniqueUserCode();
		const now = this.options.timers.now();
		const entry: Entry = {
			deviceCode,
			userCode,
			sessionName,
			createdAt: now,
			expiresAt: now + this.ttlMs,
			state: 'pending',
			forget: this.options.timers.timeout(() => this.forget(entry), this.ttlMs + REMEMBER_AFTER_EXPIRY_MS),
		};
		this.byDevice.set(deviceCode, entry);
		this.byUser.set(userCode, entry);
		return {
			deviceCode,
			userCode,
			expiresInS: Math.round(this.ttlMs / 1000),
			intervalS: Math.round(this.intervalMs / 1000),
		};
	}

	/**
	 * A device's poll. Too early after its previous poll: slow_down. An approved code completes
	 * once and is then forgotten: a second poll is invalid.
	 */
	poll(deviceCode: string): DevicePoll {
		const entry = this.byDevice.get(deviceCode);
		if (!entry) {
			return { status: 'invalid' };
		}
		const now = this.options.timers.now();
		const last = entry.lastPollAt;
		entry.lastPollAt = now;
		if (last !== undefined && now - last < this.intervalMs - DEVICE_POLL_TOLERANCE_MS) {
			return { status: 'slow_down' };
		}
		if (entry.state === 'approved' && entry.approval) {
			this.forget(entry);
			return { status: 'complete', approval: entry.approval, sessionName: entry.sessionName };
		}
		if (entry.state === 'denied') {
			return { status: 'denied' };
		}
		return { status: now >= entry.expiresAt ? 'expired' : 'pending' };
	}

	/** The request a user code names, while it waits for an answer (pending, not expired). */
	pending(userCode: string): PendingDevice | undefined {
		const entry = this.byUser.get(userCode);
		return entry && this.isOpen(entry) ? entry : undefined;
	}

	/** Approves a pending request for `approval`'s user; false when it is no longer pending. */
	approve(userCode: string, approval: DeviceApproval): boolean {
		return this.answer(userCode, (entry) => {
			entry.state = 'approved';
			entry.approval = approval;
		});
	}

	/** Denies a pending request; false when it is no longer pending. */
	deny(userCode: string): boolean {
		return this.answer(userCode, (entry) => (entry.state = 'denied'));
	}

	private answer(userCode: string, apply: (entry: Entry) => void): boolean {
		const entry = this.byUser.get(userCode);
		if (!entry || !this.isOpen(entry)) {
			return false;
		}
		apply(entry);
		// Its user code has done its job: nobody else may look it up or answer it again.
		this.byUser.delete(userCode);
		return true;
	}

	private isOpen(entry: Entry): boolean {
		return entry.state === 'pending' && this.options.timers.now() < entry.expiresAt;
	}

	/** A user code no request in memory has (a clash is rare, but two devices must never share one). */
	private uniqueUserCode(): string {
		for (let i = 0; i < MAX_USER_CODE_TRIES; i++) {
			const code = this.makeUserCode();
			if (!this.byUser.has(code)) {
				return code;
			}
		}
		throw new BerthError('BERTH_ERR_INTERNAL', `no free user code after ${MAX_USER_CODE_TRIES} tries`);
	}

	private forget(entry: Entry): void {
		entry.forget.dispose();
		this.byDevice.delete(entry.deviceCode);
		if (this.byUser.get(entry.userCode) === entry) {
			this.byUser.delete(entry.userCode);
		}
	}

	private forgetAll(): void {
		for (const entry of [...this.byDevice.values()]) {
			this.forget(entry);
		}
	}
}
