/** Percentiles of a load client's timings, the same for every mode and case. */

export function microseconds(from: bigint, to: bigint): number {
	return Number(to - from) / 1000;
}

/** Percentiles of the samples (nearest rank), their min, max and mean. */
export function summarize(samples: ArrayLike<number>): Record<string, number> {
	const sorted = Float64Array.from(samples).sort();
	const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
	let sum = 0;
	for (const v of sorted) {
		sum += v;
	}
	return {
		count: sorted.length,
		p50: at(0.5),
		p90: at(0.9),
		p99: at(0.99),
		min: sorted[0]!,
		max: sorted[sorted.length - 1]!,
		mean: sum / sorted.length,
	};
}
