/**
 * Summaries of the V8 CPU profiles that `--profile` makes Berth's processes write: self time per
 * function, so a run shows where the relay's CPU went without opening DevTools.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

interface CpuProfile {
	nodes: {
		id: number;
		callFrame: { functionName: string; url: string; lineNumber: number };
		hitCount?: number;
	}[];
	startTime: number;
	endTime: number;
	samples?: number[];
	timeDeltas?: number[];
}

export interface ProfileSummary {
	readonly file: string;
	readonly totalMs: number;
	/** Share of non-idle time per category: GC, program (native/C++), and JavaScript. */
	readonly busyMs: number;
	readonly top: { name: string; ms: number; share: number }[];
}

function shortUrl(url: string): string {
	if (url === '') {
		return '';
	}
	const path = url.replace(/^file:\/\//, '');
	return path.startsWith('node:') ? path : path.split('/').slice(-2).join('/');
}

/** Self time per function of one .cpuprofile, largest first (idle left out of the shares). */
export function summarizeProfile(file: string, topN = 15): ProfileSummary {
	const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
	const names = new Map<number, string>();
	for (const node of profile.nodes) {
		const { functionName, url, lineNumber } = node.callFrame;
		const where = shortUrl(url);
		names.set(node.id, `${functionName || '(anonymous)'}${where ? ` ${where}:${lineNumber + 1}` : ''}`);
	}
	const self = new Map<string, number>();
	const samples = profile.samples ?? [];
	const deltas = profile.timeDeltas ?? [];
	// timeDeltas[i] is the time before sample i; attribute it to the sample that follows it.
	for (let i = 0; i < samples.length; i++) {
		const name = names.get(samples[i]!) ?? '?';
		self.set(name, (self.get(name) ?? 0) + (deltas[i + 1] ?? 0) / 1000);
	}
	const totalMs = (profile.endTime - profile.startTime) / 1000;
	const idle = self.get('(idle)') ?? 0;
	const busyMs = [...self.values()].reduce((a, b) => a + b, 0) - idle;
	const top = [...self.entries()]
		.filter(([name]) => name !== '(idle)')
		.sort((a, b) => b[1] - a[1])
		.slice(0, topN)
		.map(([name, ms]) => ({ name, ms, share: busyMs > 0 ? ms / busyMs : 0 }));
	return { file, totalMs, busyMs, top };
}

/** Every .cpuprofile under `dir`, recursively. */
export function findProfiles(dir: string): string[] {
	const out: string[] = [];
	let entries: string[];
	try {
		entries = readdirSync(dir);
	} catch {
		return out;
	}
	for (const entry of entries.sort()) {
		const path = join(dir, entry);
		if (statSync(path).isDirectory()) {
			out.push(...findProfiles(path));
		} else if (entry.endsWith('.cpuprofile')) {
			out.push(path);
		}
	}
	return out;
}

export function formatSummary(summary: ProfileSummary, base: string): string {
	const lines = [
		`${relative(base, summary.file)}: ${(summary.busyMs / 1000).toFixed(2)} s busy of ${(summary.totalMs / 1000).toFixed(2)} s`,
	];
	for (const { name, ms, share } of summary.top) {
		lines.push(`  ${(share * 100).toFixed(1).padStart(5)}%  ${ms.toFixed(0).padStart(6)} ms  ${name}`);
	}
	return lines.join('\n');
}
