/** Min, median and max of one metric's repetitions. */
export interface Spread {
	readonly min: number;
	readonly median: number;
	readonly max: number;
	readonly n: number;
}

export function median(values: readonly number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = sorted.length >> 1;
	return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function spread(values: readonly number[] | undefined): Spread | undefined {
	const finite = (values ?? []).filter((v) => Number.isFinite(v));
	if (finite.length === 0) {
		return undefined;
	}
	return { min: Math.min(...finite), median: median(finite), max: Math.max(...finite), n: finite.length };
}
