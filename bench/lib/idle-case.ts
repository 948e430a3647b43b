/**
 * Idle connections, for the port forwards (issue 3's idle case) and through the proxies (issue 9's
 * proxy-idle): N concurrent connections to the echo server, each proven by a 1-byte echo, and the
 * RSS of each side of the relay before, at N/2 and at N. Goal: <= 4 KiB per connection per side.
 */
import { get, judge, type CaseEnv, type Collected } from './case-def';
import { sleep } from './net';
import type { Settings } from './options';
import { SIDE_ROLES, type PathDef, type PathId, type Relay, type SideRole } from './paths';
import { rssKiB } from './procs';
import { cell, ratio, type GoalResult, type Table } from './report';
import { runLoadClient, startIdleClient } from './services';
import type { Spread } from './stats';

const WARMUP_CONNECTIONS = 20;
const SETTLE_MS = 1_000;
/** The per-connection bar of issues 3 and 9, KiB of RSS per side. */
const IDLE_GOAL_KIB = 4;

/**
 * One measurement; with `socksTarget`, relay.port is a SOCKS5 proxy and every connection (the
 * warm-up ones too) asks it for 127.0.0.1:socksTarget.
 */
export async function measureIdle(
	env: CaseEnv,
	relay: Relay,
	socksTarget?: number,
): Promise<Record<string, number>> {
	const n = env.settings.idleConnections;
	const socks = socksTarget === undefined ? [] : [String(socksTarget)];
	// One-time costs (code loaded and compiled on the first connection) are not per-connection.
	await runLoadClient(
		env.benchDir,
		['connect', String(relay.port), '0', String(WARMUP_CONNECTIONS), ...socks],
		60_000,
	);
	await sleep(SETTLE_MS);
	const values: Record<string, number> = {};
	const measureSides = (suffix: string): void => {
		for (const side of relay.sides) {
			values[`${side.role}.${suffix}`] = rssKiB(side.pids());
		}
	};
	measureSides('before');
	const stages = [Math.ceil(n / 2), n];
	const client = startIdleClient(env.benchDir, relay.port, stages, env.settings.idleConcurrency, socksTarget);
	try {
		for (const [i, stage] of stages.entries()) {
			const line = await client.waitForLine(new RegExp(`^\\{"stage":${stage},`), 600_000);
			const report = JSON.parse(line.input) as { open: number; error?: string; seconds: number };
			await sleep(SETTLE_MS);
			const broken = relay.failure();
			if (broken !== undefined) {
				throw new Error(`a relay process died with ${report.open} connections open: ${broken}`);
			}
			const suffix = i === 0 ? 'half' : 'full';
			measureSides(suffix);
			values[`open.${suffix}`] = report.open;
			if (i === stages.length - 1) {
				values.seconds = report.seconds;
			}
			if (report.error !== undefined) {
				env.note(`stopped opening at ${report.open} of ${n}: ${report.error}`);
			}
			client.send('next');
		}
		await client.waitForLine(/^\{"closed":/, 120_000);
	} finally {
		await client.stop(5_000);
	}
	for (const side of relay.sides) {
		const r = side.role;
		values[`${r}.perConn`] = (values[`${r}.full`]! - values[`${r}.before`]!) / values['open.full']!;
		const added = values['open.full']! - values['open.half']!;
		values[`${r}.marginal`] = added > 0 ? (values[`${r}.full`]! - values[`${r}.half`]!) / added : NaN;
	}
	return values;
}

export interface IdleReportSpec {
	/** The path every ratio compares with, and its name in a column header. */
	readonly peer: PathId;
	readonly peerName: string;
	/** The goal's name, before " <= 4 KiB, client side". */
	readonly goal: string;
	/** The note that states the goal under the table. */
	readonly goalNote: string;
	/** What each side's processes are, per path (a path's rows: its sides here; else client and server). */
	readonly sideLabels: Partial<Record<PathId, Partial<Record<SideRole, string>>>>;
	/** "forwarded" or "proxied", for the title. */
	readonly what: string;
}

/** The table (one row per path and side) and the goal for each side of each Berth path. */
export function idleReport(
	collected: Collected,
	paths: readonly PathDef[],
	settings: Settings,
	spec: IdleReportSpec,
): { table: Table; goals: GoalResult[] } {
	const goals: GoalResult[] = [];
	const mib = (s: Spread | undefined): Spread | undefined =>
		s && { min: s.min / 1024, median: s.median / 1024, max: s.max / 1024, n: s.n };
	const rows: string[][] = [];
	for (const path of paths.filter((p) => p.kind !== 'none')) {
		const labels = spec.sideLabels[path.id];
		const roles = SIDE_ROLES.filter((r) => (labels ? labels[r] !== undefined : r !== 'middle'));
		for (const role of roles) {
			const sideLabel = labels?.[role] ?? role;
			const perConn = get(collected, path.id, `${role}.perConn`);
			if (path.product) {
				goals.push(
					judge(
						`${spec.goal} <= ${IDLE_GOAL_KIB} KiB, ${role} side`,
						path,
						perConn,
						IDLE_GOAL_KIB,
						(v, b) => v <= b,
						(v) => `${v.toFixed(1)} KiB (${sideLabel})`,
					),
				);
			}
			rows.push([
				path.label,
				sideLabel,
				cell(get(collected, path.id, 'open.full'), 0),
				cell(mib(get(collected, path.id, `${role}.before`)), 1),
				cell(mib(get(collected, path.id, `${role}.full`)), 1),
				cell(perConn, 1),
				cell(get(collected, path.id, `${role}.marginal`), 1),
				ratio(perConn, get(collected, spec.peer, `${role}.perConn`)),
			]);
		}
	}
	const n = settings.idleConnections;
	return {
		table: {
			title: `Idle connections: RSS with ${n} concurrent ${spec.what} connections, each proven by a 1-byte echo (min / median / max)`,
			headers: [
				'path',
				'side',
				'connections open',
				'RSS before, MiB',
				`RSS at ${n}, MiB`,
				'KiB per connection',
				`KiB per connection, ${Math.ceil(n / 2)} -> ${n}`,
				`per conn / ${spec.peerName}`,
			],
			rows,
			notes: [
				`"Before": fresh relay processes after ${WARMUP_CONNECTIONS} warm-up connections were opened and closed. KiB per connection = (RSS at N - before) / N; the next column is the slope between N/2 and N.`,
				spec.goalNote,
			],
			textColumns: 2,
		},
		goals,
	};
}
