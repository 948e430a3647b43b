/** Facts about the machine and the tools, recorded with every result. */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, totalmem } from 'node:os';
import { clockTicks, cpuSeconds, descendants, openFilesLimit } from './procs';

export interface MachineFacts {
	readonly date: string;
	readonly nproc: number;
	readonly cpu: string;
	readonly memory: string;
	readonly os: string;
	readonly node: string;
	readonly openssh: string;
	readonly iperf3: string;
	readonly commit: string;
	/** What `berth --version` of the measured bundle says (version and the commit it was built from). */
	readonly berth: string;
	/** Files changed in the working tree (dist/ was built from it, not from the commit alone). */
	readonly uncommitted: string[];
	readonly openFilesLimit: number;
	readonly loadAverageAtStart: string;
}

function text(command: string, args: readonly string[]): string {
	const result = spawnSync(command, args, { encoding: 'utf8' });
	return `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
}

function osName(): string {
	try {
		const match = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
		return `${match?.[1] ?? 'Linux'} / kernel ${release()}`;
	} catch {
		return `kernel ${release()}`;
	}
}

export function loadAverage(): string {
	return loadavg()
		.map((v) => v.toFixed(2))
		.join(' ');
}

export function machineFacts(repo: string, berthJs: string): MachineFacts {
	const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
	const flags = /^flags\s*:(.*)$/m.exec(cpuinfo)?.[1]?.split(/\s+/) ?? [];
	const features = ['aes', 'vaes', 'sha_ni', 'avx2', 'avx512f'].filter((f) => flags.includes(f));
	const mhz = /^cpu MHz\s*:\s*([\d.]+)/m.exec(cpuinfo)?.[1];
	const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
	const git = (args: string[]): string =>
		execFileSync('git', args, { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
	let commit = 'unknown';
	let uncommitted: string[] = [];
	try {
		commit = git(['rev-parse', 'HEAD']).trim();
		uncommitted = git(['status', '--porcelain', '--untracked-files=no'])
			.split('\n')
			.filter((l) => l.trim() !== '')
			.map((l) => l.slice(3));
	} catch {
		// not a git checkout
	}
	return {
		date: new Date().toISOString(),
		nproc: availableParallelism(),
		cpu: `${model}${mhz ? `, ${Math.round(Number(mhz))} MHz` : ''}${features.length ? ` (${features.join(', ')})` : ''}`,
		memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
		os: osName(),
		node: process.version,
		openssh: text('ssh', ['-V']),
		iperf3: text('iperf3', ['--version']).split('\n')[0] ?? '',
		commit,
		berth: text(process.execPath, [berthJs, '--version']).replace(/\s*\n\s*/g, ', '),
		uncommitted,
		openFilesLimit: openFilesLimit(),
		loadAverageAtStart: loadAverage(),
	};
}

/** CPU seconds spent on the whole machine, and by this process and its descendants (live or reaped). */
export interface CpuAccount {
	readonly machine: number;
	readonly ours: number;
	readonly at: number;
}

export function cpuAccount(): CpuAccount {
	const fields = (readFileSync('/proc/stat', 'latin1').split('\n')[0] ?? '')
		.trim()
		.split(/\s+/)
		.slice(1)
		.map(Number);
	// user nice system idle iowait irq softirq steal ...: busy = user + nice + system + irq + softirq
	const busyTicks =
		(fields[0] ?? 0) + (fields[1] ?? 0) + (fields[2] ?? 0) + (fields[5] ?? 0) + (fields[6] ?? 0);
	return {
		machine: busyTicks / clockTicks(),
		ours: cpuSeconds([process.pid, ...descendants(process.pid)]),
		at: Date.now(),
	};
}

/** Average cores other processes kept busy between two accounts. */
export function othersCores(from: CpuAccount, to: CpuAccount): number {
	const seconds = (to.at - from.at) / 1000;
	return seconds > 0 ? Math.max(0, to.machine - from.machine - (to.ours - from.ours)) / seconds : 0;
}
