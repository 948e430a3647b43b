import { BerthError } from '../../protocol/errors';
import type { Timers } from '../../protocol/timers';
import { EmailAllowList } from '../auth/email-allow-list';
import { checkIssuerUrl } from '../auth/oidc-errors';
import { OidcSignIn } from '../auth/oidc-sign-in';
import type { Logger } from '../shared/log';
import { readTokenFile } from '../shared/read-token-file';
import { stripOneNewline } from '../shared/token-rules';

/** The longest client id taken (256 characters): providers' are far shorter. */
const MAX_CLIENT_ID_CHARS = 256;
// eslint-disable-next-line no-control-regex -- the point is to find control characters
const CONTROL = /[\u0000-\u001f\u007f\s]/u;

/** The sign-in flags of `berth server`, as parsed. */
export interface OidcFlags {
	readonly accounts: boolean;
	readonly issuer: string | undefined;
	readonly clientId: string | undefined;
	readonly clientSecretFile: string | undefined;
	readonly allowEmail: readonly string[];
	readonly publicUrl: string | undefined;
}

/**
 * `berth server --accounts --oidc-issuer URL --oidc-client-id ID --oidc-client-secret-file F
 * --allow-email PATTERN…`: checks the flags, reads the secret (from a file, never argv), and
 * discovers the issuer before the agent listens, so a wrong issuer stops the start with one line.
 * Undefined without --oidc-issuer.
 *
 * --allow-email is required: with an issuer such as Google's, "everyone the issuer vouches for"
 * is everyone on the internet, and each could then make tokens for this agent. `--allow-email '*'`
 * says that on purpose (for a private issuer), and is warned about at each start.
 * @throws BerthError BERTH_ERR_USAGE (exit 2): flags missing or without --accounts, a pattern or
 * URL that is wrong, an issuer that is not one; BERTH_ERR_TOKEN (exit 2): the secret file;
 * BERTH_ERR_CONNECT (exit 4): the issuer could not be reached.
 */
export async function readOidcSignIn(
	flags: OidcFlags,
	timers: Timers,
	log: Logger,
): Promise<OidcSignIn | undefined> {
	const checked = checkOidcFlags(flags);
	if (checked === undefined) {
		return undefined;
	}
	const { issuer, clientId, clientSecretFile, allowEmail, publicUrl } = checked;
	const clientSecret = readClientSecret(clientSecretFile, log);
	if (allowEmail.allowsEveryone) {
		log.warn(
			`--allow-email '*': everyone with a verified email at ${issuer} may sign in and make tokens for this agent; ` +
				"name who may instead, such as --allow-email '*@example.com'",
		);
	}
	return OidcSignIn.discover(
		{ issuer, clientId, clientSecret, allowEmail, ...(publicUrl !== undefined ? { publicUrl } : {}) },
		timers,
		log.fork('sign-in'),
	);
}

/** The flags, each checked and all together, before any file is read or request made. */
function checkOidcFlags(flags: OidcFlags) {
	const publicUrl = flags.publicUrl !== undefined ? checkPublicUrl(flags.publicUrl) : undefined;
	const signIn = flags.issuer ?? flags.clientId ?? flags.clientSecretFile ?? flags.allowEmail[0];
	if (!flags.accounts && (signIn ?? publicUrl) !== undefined) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			'--oidc-issuer, --oidc-client-id, --oidc-client-secret-file, --allow-email and --public-url go with --accounts ' +
				'(users who sign in get user tokens)',
		);
	}
	if (signIn === undefined) {
		return undefined;
	}
	if (flags.issuer === undefined) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			"--oidc-client-id, --oidc-client-secret-file and --allow-email go with --oidc-issuer URL (the provider's issuer)",
		);
	}
	checkIssuerUrl(flags.issuer);
	const clientId = checkClientId(flags.clientId);
	if (flags.clientSecretFile === undefined) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			'--oidc-issuer needs --oidc-client-secret-file FILE: the client secret the provider gave (in a file, never on the command line)',
		);
	}
	const allowEmail = EmailAllowList.parse(flags.allowEmail);
	if (allowEmail.isEmpty) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			"--oidc-issuer needs --allow-email PATTERN: who may sign in, such as '*@example.com' (repeatable; '*' lets in " +
				'everyone with a verified email at the issuer)',
		);
	}
	return { issuer: flags.issuer, clientId, clientSecretFile: flags.clientSecretFile, allowEmail, publicUrl };
}

function checkClientId(clientId: string | undefined): string {
	if (
		clientId === undefined ||
		clientId === '' ||
		clientId.length > MAX_CLIENT_ID_CHARS ||
		CONTROL.test(clientId)
	) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			clientId === undefined
				? '--oidc-issuer needs --oidc-client-id ID: the client id the provider gave this agent'
				: `--oidc-client-id must be 1 to ${MAX_CLIENT_ID_CHARS} characters without spaces: give the id the provider gave this agent`,
		);
	}
	return clientId;
}

function readClientSecret(file: string, log: Logger): string {
	const what = `--oidc-client-secret-file ${file}`;
	const { text, warnings } = readTokenFile(file, {
		what,
		noun: 'client secret',
		flag: '--oidc-client-secret-file',
	});
	warnings.forEach((warning) => log.warn(warning));
	const secret = stripOneNewline(text);
	if (secret === '' || CONTROL.test(secret)) {
		throw new BerthError(
			'BERTH_ERR_TOKEN',
			`${what} must hold the client secret on one line, without spaces: copy it from the provider's console`,
		);
	}
	return secret;
}

/**
 * `--public-url`: how browsers reach the agent (`https://agent.example:8765`), when a proxy in
 * front of it changes the scheme or the name. Only an origin: no path, query or credentials.
 */
function checkPublicUrl(text: string): string {
	let url: URL | undefined;
	try {
		url = new URL(text);
	} catch {
		url = undefined;
	}
	if (
		url === undefined ||
		(url.protocol !== 'https:' && url.protocol !== 'http:') ||
		url.username !== '' ||
		url.password !== '' ||
		url.pathname !== '/' ||
		url.search !== '' ||
		url.hash !== ''
	) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			`--public-url ${JSON.stringify(text.slice(0, 200))} is not an origin: give how browsers reach the agent, such as https://agent.example:8765`,
		);
	}
	return url.origin;
}
