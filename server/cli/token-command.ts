import { BerthError } from '../../protocol/errors';
import { isObject, isString } from '../../protocol/guards';
import { formatInitUrl } from '../../protocol/init-url';
import { parseDuration } from '../../protocol/proxy-config';
import { AgentKey } from '../auth/agent-key';
import { openAccounts } from '../auth/open-accounts';
import { isTokenRole } from '../auth/token-store';
import { callAgentApi, type ApiAnswer } from '../client/agent-api';
import { describe as describeToken, DEFAULT_TOKEN_TTL } from '../http/tokens-api';
import { defaultConfigDir } from '../shared/config-dir';
import { createLogger, type Logger } from '../shared/log';
import { createNodeTimers } from '../shared/transport/node-timers';
import { COMMON_OPTIONS, parseFlags, parseLogFlags } from './args';
import { resolveClientCredentials } from './client-credentials';
import { ExitCode } from './exit-codes';
import { TOKEN_HELP } from './help';
import { readClientTls } from './read-client-tls';

/** A token row as the API (and `--json`) shows it. */
type TokenRow = Record<string, string | null>;

/** What a created token comes back as. */
interface Created {
	readonly row: TokenRow;
	readonly token: string;
	readonly initUrl?: string;
}

/** Where `berth token` acts: a running agent's API, or the database itself (`--db`, agent stopped). */
interface TokenBackend {
	create(request: CreateFlags): Promise<Created>;
	list(): Promise<TokenRow[]>;
	revoke(id: string): Promise<TokenRow>;
	dispose(): void;
}

interface CreateFlags {
	readonly email: string;
	readonly name: string;
	readonly role: string;
	readonly ttl: string;
	readonly prefix: string;
}

function parseTokenFlags(argv: string[]) {
	return parseFlags('token', argv, {
		...COMMON_OPTIONS,
		url: { type: 'string', short: 'u' },
		'token-file': { type: 'string' },
		'ca-file': { type: 'string' },
		insecure: { type: 'boolean' },
		db: { type: 'string' },
		'jwt-secret-file': { type: 'string' },
		'public-url': { type: 'string' },
		email: { type: 'string' },
		name: { type: 'string' },
		role: { type: 'string' },
		ttl: { type: 'string' },
		prefix: { type: 'string' },
		json: { type: 'boolean' },
	});
}
type TokenValues = ReturnType<typeof parseTokenFlags>;

/**
 * `berth token create|list|revoke`: user tokens, through a running agent (`-u URL` and the
 * connection token, or a user token for its own tokens) or, with `--db`, in the database of a
 * stopped agent.
 */
export async function runTokenCommand(argv: string[]): Promise<number> {
	const [action, ...afterAction] = argv;
	// `revoke ID`: the id comes first, then the flags.
	const id =
		action === 'revoke' && afterAction[0] !== undefined && !afterAction[0].startsWith('-')
			? afterAction[0]
			: undefined;
	const values = parseTokenFlags(id === undefined ? afterAction : afterAction.slice(1));
	if (values.help || action === undefined || action === '--help' || action === '-h') {
		process.stdout.write(TOKEN_HELP);
		return ExitCode.Ok;
	}
	const log = createLogger({ ...parseLogFlags(values), timers: createNodeTimers() });
	const backend =
		values.db !== undefined ? await databaseBackend(values, log) : await agentBackend(values, log);
	try {
		switch (action) {
			case 'create':
				return printCreated(await backend.create(createFlags(values)), values.json === true);
			case 'list':
				return printList(await backend.list(), values.json === true);
			case 'revoke':
				return printRevoked(await backend.revoke(tokenIdArgument(id)), values.json === true);
			default:
				throw new BerthError(
					'BERTH_ERR_USAGE',
					`token: unknown action ${JSON.stringify(action)}: create, list or revoke`,
				);
		}
	} finally {
		backend.dispose();
		log.dispose();
	}
}

/** The flags of `create`, checked here so that both backends refuse the same mistakes the same way. */
function createFlags(values: TokenValues): CreateFlags {
	if (values.email === undefined) {
		throw new BerthError('BERTH_ERR_USAGE', 'token create: --email is required (the user the token is for)');
	}
	const role = values.role ?? 'client';
	if (!isTokenRole(role)) {
		throw new BerthError('BERTH_ERR_USAGE', `token create: --role ${role}: client, provider or connector`);
	}
	const ttl = values.ttl ?? DEFAULT_TOKEN_TTL;
	if (parseDuration(ttl) === undefined) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			`token create: --ttl ${ttl}: a duration such as 90s, 15m, 48h or 30d`,
		);
	}
	return { email: values.email, name: values.name ?? '', role, ttl, prefix: values.prefix ?? '' };
}

function tokenIdArgument(id: string | undefined): string {
	if (id === undefined) {
		throw new BerthError('BERTH_ERR_USAGE', 'token revoke: give the token id (berth token list shows it)');
	}
	return id;
}

/** Through a running agent's API. */
async function agentBackend(values: TokenValues, log: Logger): Promise<TokenBackend> {
	const { address, token } = await resolveClientCredentials({
		url: values.url,
		tokenFile: values['token-file'],
		noToken: false,
		sessionName: undefined,
		env: process.env,
		cwd: process.cwd(),
		configDir: defaultConfigDir(),
		log,
		now: () => new Date(),
	});
	if (token === undefined) {
		throw new BerthError(
			'BERTH_ERR_TOKEN',
			'token: the agent API needs a token: --token-file, $BERTH_TOKEN or a login',
		);
	}
	const tls = readClientTls({
		caFile: values['ca-file'],
		insecure: values.insecure,
		address,
		warn: (message) => log.warn(message),
	});
	const call = async (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<ApiAnswer> =>
		checkAnswer(await callAgentApi(address, token, method, path, body, tls), address.display);
	return {
		create: async (request) => {
			const { body } = await call('POST', '/api/tokens', request);
			return {
				row: body as TokenRow,
				token: String(body['token']),
				...(isString(body['init_url']) ? { initUrl: body['init_url'] } : {}),
			};
		},
		list: async () => ((await call('GET', '/api/tokens')).body['tokens'] ?? []) as TokenRow[],
		revoke: async (id) => (await call('DELETE', `/api/tokens/${encodeURIComponent(id)}`)).body as TokenRow,
		dispose: () => undefined,
	};
}

/** An API refusal as the CLI reports it: its words, and an exit code for its kind. */
function checkAnswer(answer: ApiAnswer, agent: string): ApiAnswer {
	if (answer.status >= 200 && answer.status < 300) {
		return answer;
	}
	const error =
		isObject(answer.body) && isString(answer.body['error']) ? answer.body['error'] : `HTTP ${answer.status}`;
	const code =
		answer.status === 401 || answer.status === 403
			? 'BERTH_ERR_HANDSHAKE_REFUSED'
			: answer.status === 404 || answer.status === 400
				? 'BERTH_ERR_USAGE'
				: 'BERTH_ERR_CONNECT';
	throw new BerthError(code, `${agent}: ${error}`);
}

/** In the database itself: the agent must be stopped (one process holds a database). */
async function databaseBackend(values: TokenValues, log: Logger): Promise<TokenBackend> {
	if (values.url !== undefined) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			'token: -u (a running agent) and --db (its database) exclude each other',
		);
	}
	const configDir = defaultConfigDir();
	const open = await openAccounts(
		{
			configDir,
			env: process.env,
			dbPath: values.db!,
			...(values['jwt-secret-file'] !== undefined ? { jwtSecretFile: values['jwt-secret-file'] } : {}),
		},
		createNodeTimers(),
		log,
	);
	return {
		create: async (request) => {
			const { jwt, record } = await open.tokens.issue({
				email: request.email,
				name: request.name,
				role: request.role as 'client',
				ttlMs: parseDuration(request.ttl)!,
			});
			const origin = values['public-url'];
			const initUrl =
				origin === undefined
					? undefined
					: formatInitUrl(origin, {
							token: jwt,
							sessionPrefix: request.prefix,
							agentKey: AgentKey.loadOrCreate(configDir).fingerprint,
						});
			return { row: describeToken(record), token: jwt, ...(initUrl !== undefined ? { initUrl } : {}) };
		},
		list: async () => (await open.store.list()).map(describeToken),
		revoke: async (id) => {
			const record = await open.tokens.revoke(id);
			if (!record) {
				throw new BerthError('BERTH_ERR_USAGE', `token revoke: no token with id ${id} in ${open.dbPath}`);
			}
			return describeToken(record);
		},
		dispose: () => open.dispose(),
	};
}

function printCreated(created: Created, json: boolean): number {
	if (json) {
		process.stdout.write(
			JSON.stringify({ ...created.row, token: created.token, init_url: created.initUrl ?? null }) + '\n',
		);
		return ExitCode.Ok;
	}
	const { row } = created;
	const lines = [
		`Token ${row['id']} for ${row['email']} (${row['role']}, expires ${row['expires_at']}). It is shown once: keep it secret.`,
		created.token,
	];
	if (created.initUrl !== undefined) {
		lines.push(
			'',
			'Init URL (the agent, the token and the agent key in one):',
			created.initUrl,
			'',
			`On the user's machine: berth login --init '${created.initUrl}'`,
		);
	} else {
		lines.push(
			'',
			'No init URL: give --public-url https://HOST:PORT (how users reach the agent) to have one made',
		);
	}
	process.stdout.write(lines.join('\n') + '\n');
	return ExitCode.Ok;
}

const COLUMNS = [
	'id',
	'email',
	'name',
	'role',
	'created_at',
	'last_used_at',
	'expires_at',
	'revoked_at',
] as const;
const HEADINGS = ['ID', 'EMAIL', 'NAME', 'ROLE', 'CREATED', 'LAST USED', 'EXPIRES', 'REVOKED'];

function printList(rows: readonly TokenRow[], json: boolean): number {
	if (json) {
		process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
		return ExitCode.Ok;
	}
	const cells = rows.map((row) => COLUMNS.map((column) => shortTime(row[column] ?? null) || '-'));
	const widths = HEADINGS.map((heading, i) => Math.max(heading.length, ...cells.map((r) => r[i]!.length)));
	const format = (r: readonly string[]) =>
		r
			.map((cell, i) => cell.padEnd(widths[i]!))
			.join('  ')
			.trimEnd();
	process.stdout.write([format(HEADINGS), ...cells.map(format)].join('\n') + '\n');
	return ExitCode.Ok;
}

/** `2026-11-30T21:50:12.000Z` → `2026-11-30 21:50Z`: a table column a person reads. */
function shortTime(value: string | null): string {
	if (value === null) {
		return '';
	}
	const match = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d):\d\d(?:\.\d+)?Z$/.exec(value);
	return match ? `${match[1]} ${match[2]}Z` : value;
}

function printRevoked(row: TokenRow, json: boolean): number {
	process.stdout.write(
		json
			? JSON.stringify(row) + '\n'
			: `Revoked ${row['id']} (${row['email']}); its sessions on the agent were cut.\n`,
	);
	return ExitCode.Ok;
}
