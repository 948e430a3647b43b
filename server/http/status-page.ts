/** What the status page shows. */
export interface AgentStatus {
	readonly version: string;
	readonly commit: string;
	readonly host: string;
	readonly listening: string;
	readonly uptimeSeconds: number;
	readonly sessionsConnected: number;
	readonly sessionsWaiting: number;
	readonly tunnelsOpen: number;
	readonly streamSessions: number;
	/** Stream sessions whose client dropped, held within their grace time for it to resume them. */
	readonly streamSessionsWaiting: number;
	readonly streamsOpen: number;
	/** Signed-in users connected now (user tokens), each with its session's name when it gave one. */
	readonly users?: readonly string[];
}

/** The small HTML page a valid `GET /` answers: no script, no external resource. */
export function renderStatusPage(status: AgentStatus): string {
	const rows: [string, string][] = [
		['Version', status.version],
		['Commit', status.commit],
		['Host', status.host],
		['Listening on', status.listening],
		['Up for', formatDuration(status.uptimeSeconds)],
		['Sessions connected', String(status.sessionsConnected)],
		['Sessions waiting for their client', String(status.sessionsWaiting)],
		['Stream sessions', String(status.streamSessions)],
		[
			'Stream sessions reconnecting (their clients dropped; streams held)',
			String(status.streamSessionsWaiting),
		],
		['Streams open', String(status.streamsOpen)],
		['Tunnel connections open', String(status.tunnelsOpen)],
		...(status.users !== undefined
			? [['Signed-in users', status.users.join(', ') || 'none'] as [string, string]]
			: []),
	];
	const body = rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('\n');
	return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Berth agent</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}th{text-align:left;padding-right:1.5em;font-weight:600}td,th{padding:.2em 0}</style>
</head><body><h1>Berth agent</h1><table>
${body}
</table></body></html>
`;
}

export function formatDuration(totalSeconds: number): string {
	const s = Math.floor(totalSeconds);
	const days = Math.floor(s / 86_400);
	const hours = Math.floor((s % 86_400) / 3_600);
	const minutes = Math.floor((s % 3_600) / 60);
	const seconds = s % 60;
	const parts =
		days > 0
			? [`${days}d`, `${hours}h`]
			: hours > 0
				? [`${hours}h`, `${minutes}m`]
				: [`${minutes}m`, `${seconds}s`];
	return parts.join(' ');
}

export function escapeHtml(text: string): string {
	return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
