import { BerthError } from '../../protocol/errors';
import type { FaultConnection } from './fault-connection';
import type { FaultDirection } from './fault-pipe';

/**
 * A count of bytes after which the fault proxy cuts (`cutAfterBytes`): one direction's bytes, or
 * both directions' together when `direction` is undefined. A connection keeps its own budgets and
 * reads its proxy's, which count over all the proxy's connections.
 */
export interface ByteBudget {
	remaining: number;
	readonly direction: FaultDirection | undefined;
	/** The budget ran out in `crossing`, which has just been cut. */
	readonly onSpent: (crossing: FaultConnection) => void;
	/** The budget will never run out (its connection or proxy is gone). */
	readonly onAbandoned: () => void;
}

/**
 * Checks a byte count for `cutAfterBytes`.
 * @throws BerthError BERTH_ERR_USAGE when `bytes` is not a whole number from 0.
 */
export function checkByteCount(bytes: number): number {
	if (!Number.isSafeInteger(bytes) || bytes < 0) {
		throw new BerthError('BERTH_ERR_USAGE', `cutAfterBytes counts whole bytes from 0, not ${bytes}`);
	}
	return bytes;
}

/** How many of the next `length` bytes in `direction` may pass before one of `budgets` runs out. */
export function allowanceOf(
	budgets: readonly ByteBudget[],
	direction: FaultDirection,
	length: number,
): number {
	let allowed = length;
	for (const budget of budgets) {
		if (counts(budget, direction)) {
			allowed = Math.min(allowed, budget.remaining);
		}
	}
	return allowed;
}

/** Takes `bytes` passed in `direction` off each of `budgets` that counts them; returns those spent. */
export function spendFrom(
	budgets: readonly ByteBudget[],
	direction: FaultDirection,
	bytes: number,
): ByteBudget[] {
	const spent: ByteBudget[] = [];
	for (const budget of budgets) {
		if (counts(budget, direction)) {
			budget.remaining -= bytes;
			if (budget.remaining <= 0) {
				spent.push(budget);
			}
		}
	}
	return spent;
}

/** Removes `items` from `list`, in place. */
export function removeAll<T>(list: T[], items: readonly T[]): void {
	for (const item of items) {
		const at = list.indexOf(item);
		if (at >= 0) {
			list.splice(at, 1);
		}
	}
}

function counts(budget: ByteBudget, direction: FaultDirection): boolean {
	return budget.direction === undefined || budget.direction === direction;
}
