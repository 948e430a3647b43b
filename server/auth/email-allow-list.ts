import { BerthError } from '../../protocol/errors';

/** The longest pattern or address (RFC 5321's path limit, as user-tokens.ts bounds emails). */
const MAX_EMAIL_CHARS = 254;
/** Letters, digits and what addresses use; `*` is the wildcard. No space, no control, one `@`. */
// eslint-disable-next-line no-control-regex -- the point is to find control characters
const PATTERN = /^[^\s@\u0000-\u001f\u007f]+@[^\s@\u0000-\u001f\u007f]+$/u;
/** The pattern that lets every address in: it must be written on its own, on purpose. */
export const EVERY_EMAIL = '*';

/**
 * Who may sign in through OpenID Connect (`--allow-email`, repeatable), as globs on the whole
 * address: `*@example.com`, `alice@example.com`, `*@*.example.com`, or `*` alone for everyone the
 * issuer vouches for. `*` matches any run of characters other than `@`, so `*@example.com` matches
 * neither `a@sub.example.com` nor a quoted local part that hides an `@` (`"x@example.com"@evil.test`).
 * Case does not matter: patterns and addresses are compared in lowercase, as tokens store emails.
 */
export class EmailAllowList {
	private constructor(
		private readonly patterns: readonly string[],
		private readonly matchers: readonly RegExp[],
	) {}

	/**
	 * Checks each pattern before the agent starts.
	 * @throws BerthError BERTH_ERR_USAGE naming the first pattern that is not `*` or `LOCAL@DOMAIN`.
	 */
	static parse(patterns: readonly string[]): EmailAllowList {
		const normalized = patterns.map((pattern) => pattern.trim().toLowerCase());
		normalized.forEach((pattern, i) => {
			if (pattern !== EVERY_EMAIL && (pattern.length > MAX_EMAIL_CHARS || !PATTERN.test(pattern))) {
				throw new BerthError(
					'BERTH_ERR_USAGE',
					`--allow-email ${JSON.stringify(patterns[i]!.slice(0, 80))} is not an address pattern: ` +
						"give one such as '*@example.com' or 'alice@example.com' ('*' alone: every verified address)",
				);
			}
		});
		return new EmailAllowList(normalized, normalized.map(compile));
	}

	/** Whether `*` is among the patterns: anyone with an account at the issuer may sign in. */
	get allowsEveryone(): boolean {
		return this.patterns.includes(EVERY_EMAIL);
	}

	/** Whether no pattern was given (nobody may sign in). */
	get isEmpty(): boolean {
		return this.patterns.length === 0;
	}

	/** Whether `email` (any case) matches a pattern. An address that is not `LOCAL@DOMAIN` never does. */
	allows(email: string): boolean {
		const address = email.toLowerCase();
		if (address.length > MAX_EMAIL_CHARS || !PATTERN.test(address)) {
			return false;
		}
		return this.allowsEveryone || this.matchers.some((matcher) => matcher.test(address));
	}

	/** The patterns, for the start banner and log lines. */
	toString(): string {
		return this.patterns.join(', ');
	}
}

/** A pattern as an anchored expression: literal text, with `*` as any run without `@`. */
function compile(pattern: string): RegExp {
	const parts = pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
	return new RegExp(`^${parts.join('[^@]*')}$`, 'u');
}
