/** bench/SOAK.md: what ran, the verdict, the samples, the first errors. */
import { describeLoad } from '../load/soak-workers';
import type { MachineFacts } from './machine';
import { RSS_GROWTH_LIMIT, renderSoakTable, type SoakOutcome, type Verdict } from './soak-report';
import type { SoakSettings } from './soak-options';

/** The soak issue 7 asks for; shorter runs are marked as checks. */
const ISSUE_MINUTES = 10;

export function soakMarkdown(
	settings: SoakSettings,
	facts: MachineFacts,
	outcome: SoakOutcome,
	verdict: Verdict,
	loadAverageAtEnd: string,
): string {
	const kind =
		settings.minutes >= ISSUE_MINUTES
			? `a ${settings.minutes}-minute run`
			: `a **${settings.minutes}-minute run**, shorter than the ${ISSUE_MINUTES} minutes issue 7 asks for: a check that the soak works, not its result`;
	const counters = outcome.final;
	const lines = [
		'# Berth soak',
		'',
		`Written by \`npm run soak\` (bench/soak.ts) on ${facts.date}, from ${kind}.`,
		'',
		`**Verdict: ${verdict.line}**`,
		'',
		'## What ran',
		'',
		'| item | value |',
		'|---|---|',
		`| cores (nproc) | ${facts.nproc} |`,
		`| CPU | ${facts.cpu} |`,
		`| Node.js | ${facts.node} |`,
		`| Berth build (\`berth --version\`) | ${facts.berth} |`,
		`| commit | ${facts.commit}${facts.uncommitted.length ? ` plus uncommitted changes in ${facts.uncommitted.length} file(s)` : ''} |`,
		`| transport | ${settings.transport === 'tcp' ? 'raw TCP after the upgrade' : 'WebSocket frames'} |`,
		`| load average at start / end | ${facts.loadAverageAtStart} / ${loadAverageAtEnd} |`,
		'',
		'One `berth server` and one `berth forward -L 0:127.0.0.1:BULK` (one session), started fresh; ' +
			'the load runs at once on that one forwarded port, against the bulk server ' +
			'(bench/load/bulk-server.ts), every byte checked against what was sent:',
		'',
		...describeLoad(settings.idle, settings.bulk, settings.churn).map((line) => `- ${line}`),
		'',
		`Every ${settings.sampleSeconds} s: VmRSS and VmHWM (peak RSS) from /proc/PID/status and the open file ` +
			'descriptors in /proc/PID/fd, of the agent and of the forward. The baseline is taken before the ' +
			'load starts, "after" once it has stopped and closed every connection (waiting up to 20 s for the ' +
			`descriptors to come back). The verdict: RSS at the end at most ${RSS_GROWTH_LIMIT * 100} % above RSS ` +
			`after the warm-up (the first ${outcome.warmupSeconds} s; each the median of the first and of the last ` +
			`tenth of the samples after it, at least 3), descriptors back to the baseline, no process ` +
			'exit, and 0 errors (failures the load did not cause itself: resets, early closes, timeouts, wrong ' +
			'bytes) with every idle connection still working at the end.',
		'',
		'## Samples',
		'',
		renderSoakTable(outcome),
		'',
	];
	if (counters !== undefined) {
		lines.push(
			`At the end: ${counters.connections.toLocaleString('en-US')} connections done ` +
				`(${counters.short} short, ${counters.aborted} aborted on purpose, ${counters.held} held, ` +
				`${counters.bulk} bulk transfers, ${counters.idleChecked} of ${counters.idleChecked + counters.idleFailed} idle ones checked).`,
			'',
		);
	}
	if (outcome.lingering !== undefined && outcome.lingering.length > 0) {
		lines.push(
			'## Descriptors still open after the load',
			'',
			'What the process(es) holding more descriptors than at the baseline held beyond it once the load had closed everything (bench/lib/fd-kinds.ts): the count by kind from the /proc/PID/fd link targets, then each socket opened since the baseline as `ss` showed it (family, state, receive and send queues, local and peer address; the bulk server is the target). A socket `ss` does not list is closed as far as the kernel goes (reset, or both FINs exchanged) but its descriptor is still held:',
			'',
			'```',
			...outcome.lingering,
			'```',
			'',
		);
	}
	const firstErrors = counters?.firstErrors ?? outcome.samples.at(-1)?.load?.firstErrors ?? [];
	if (firstErrors.length > 0 || outcome.failure !== undefined) {
		lines.push('## Errors', '');
		lines.push(...firstErrors.map((e) => `- ${e}`));
		if (outcome.failure !== undefined) {
			lines.push('', '```', outcome.failure, '```');
		}
		lines.push('');
	}
	return lines.join('\n');
}
