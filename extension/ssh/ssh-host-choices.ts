/**
 * The hosts Connect to Host via SSH... and Stop Agent on Host offer (pure): the ssh hosts this
 * window is connected to first, then the plain hosts of the ssh config, each once; and what the
 * user types, when it is not one of them.
 */

/** One entry of the host list. */
export interface SshHostChoice {
	/** As parseSshTarget takes it: a Host alias, or `[user@]host[:port]`. */
	readonly host: string;
	readonly description: string;
	/** The typed entry: shown whatever the filter. */
	readonly typed?: boolean;
}

/** An ssh host this window is connected to, and how it stands. */
export interface ConnectedSshHost {
	readonly host: string;
	readonly status: 'connected' | 'reconnecting' | 'failed';
}

/** The list: connected hosts (with their state), then the config's (`configName` says where from). */
export function sshHostChoices(
	connected: readonly ConnectedSshHost[],
	configHosts: readonly string[],
	configName: string,
): SshHostChoice[] {
	const choices: SshHostChoice[] = connected.map((c) => ({
		host: c.host,
		description: c.status === 'connected' ? 'connected' : c.status,
	}));
	for (const host of configHosts) {
		if (!choices.some((c) => c.host === host)) {
			choices.push({ host, description: configName });
		}
	}
	return choices;
}

/** The list with what the user typed first, when it is not listed already (`description` says what picking it does). */
export function withTypedHost(
	choices: readonly SshHostChoice[],
	value: string,
	description: string,
): SshHostChoice[] {
	const typed = value.trim();
	if (typed === '' || choices.some((c) => c.host === typed)) {
		return [...choices];
	}
	return [{ host: typed, description, typed: true }, ...choices];
}
