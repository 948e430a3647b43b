import { isSshAgentToken } from '../../../protocol/ssh-bootstrap';
import { BerthError, errorMessage } from '../../../protocol/errors';
import { isObject, isString } from '../../../protocol/guards';
import { readSecretFile, writeSecretFileAtomically } from '../../shared/secret-file';
import type { SshAgentToken, SshTokenStore } from './ssh-token-store';

/**
 * The CLI's tokens of its agents on ssh hosts, `<config dir>/ssh-hosts.json`:
 *
 *     { "hosts": { "devbox": { "commit": "<the agent's build>", "token": "…", "last_used": "<ISO 8601>" } } }
 *
 * A file of its own beside the saved logins (config.json): those are keyed by directory and
 * written by berth login, these by host and written by berth ssh; neither command rewrites what
 * the other owns. Like config.json it holds tokens: 0600 in a 0700 folder, never read through a
 * link, replaced whole and atomically. Members Berth does not know are kept.
 */
export const SSH_HOSTS_FILE = 'ssh-hosts.json';

/** One host's entry. */
interface SshHostEntry extends SshAgentToken {
	readonly last_used: string;
}

interface SshHostsConfig {
	readonly hosts: Readonly<Record<string, SshHostEntry>>;
}

/** The CLI's token store: ssh-hosts.json in Berth's config folder. */
export class SshHostsFile implements SshTokenStore {
	constructor(
		private readonly configDir: string,
		private readonly now: () => Date = () => new Date(),
		private readonly warn?: (message: string) => void,
	) {}

	async get(host: string): Promise<SshAgentToken | undefined> {
		const { hosts } = this.read();
		const entry = Object.hasOwn(hosts, host) ? hosts[host] : undefined;
		return entry && { commit: entry.commit, token: entry.token };
	}

	async set(host: string, value: SshAgentToken): Promise<void> {
		this.update((config) => ({
			...config,
			hosts: { ...config.hosts, [host]: { ...value, last_used: this.now().toISOString() } },
		}));
	}

	async delete(host: string): Promise<void> {
		this.update((config) => {
			if (!Object.hasOwn(config.hosts, host)) {
				return undefined;
			}
			const hosts = { ...config.hosts };
			delete hosts[host];
			return { ...config, hosts };
		});
	}

	private read(): SshHostsConfig {
		const file = readSecretFile(this.configDir, SSH_HOSTS_FILE, this.warn);
		return file === undefined ? { hosts: {} } : parseSshHosts(file.text, file.path);
	}

	private update(change: (config: SshHostsConfig) => SshHostsConfig | undefined): void {
		const changed = change(this.read());
		if (changed !== undefined) {
			writeSecretFileAtomically(this.configDir, SSH_HOSTS_FILE, JSON.stringify(changed, null, '\t') + '\n');
		}
	}
}

/**
 * Parses the file's text, checking every member Berth reads.
 * @throws BerthError BERTH_ERR_USAGE naming the file and what is wrong (never a token).
 */
export function parseSshHosts(text: string, path: string): SshHostsConfig {
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch (error) {
		throw corrupt(path, `it is not JSON (${errorMessage(error)})`);
	}
	if (!isObject(value) || !isObject(value['hosts'] ?? {})) {
		throw corrupt(path, 'it is not a JSON object with an object "hosts"');
	}
	const hosts: Record<string, SshHostEntry> = {};
	for (const [host, entry] of Object.entries((value['hosts'] ?? {}) as Record<string, unknown>)) {
		if (
			!isObject(entry) ||
			!isString(entry['commit']) ||
			!isSshAgentToken(entry['token']) ||
			!isString(entry['last_used'])
		) {
			throw corrupt(path, `hosts[${JSON.stringify(host)}] is not {"commit", "token", "last_used"}`);
		}
		hosts[host] = entry as unknown as SshHostEntry;
	}
	return { ...value, hosts };
}

function corrupt(path: string, problem: string): BerthError {
	return new BerthError(
		'BERTH_ERR_USAGE',
		`the ssh hosts file ${path} cannot be read: ${problem}; fix it, or delete it (berth ssh then gets each ` +
			"host's token from the host again)",
	);
}
