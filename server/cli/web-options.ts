import { BerthError } from '../../protocol/errors';
import type { WebOptions } from '../http/web/web-context';

/**
 * Environment variables that shorten the device flow's times, for tests only (an end-to-end test
 * cannot wait 10 minutes for a code to expire). Whole seconds, at least 1.
 */
export const DEVICE_CODE_TTL_ENV = 'BERTH_TEST_DEVICE_CODE_TTL_S';
export const DEVICE_INTERVAL_ENV = 'BERTH_TEST_DEVICE_INTERVAL_S';
/** The longest value either takes (1 day): they shorten, they are not a setting. */
const MAX_TEST_SECONDS = 86_400;

/**
 * The web pages' options for `berth server --accounts`: the owner's email (`--owner-email`, by
 * default `owner@` + the host name, in lowercase) and the tests' overrides.
 * @throws BerthError BERTH_ERR_USAGE for an owner email or an override that does not parse.
 */
export function resolveWebOptions(
	ownerEmailFlag: string | undefined,
	hostName: string,
	env: NodeJS.ProcessEnv,
): WebOptions {
	const ownerEmail = (ownerEmailFlag ?? `owner@${hostName}`).trim().toLowerCase();
	if (ownerEmail.length > 254 || !/^[^\s@]+@[^\s@]+$/.test(ownerEmail)) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			ownerEmailFlag === undefined
				? `owner@${hostName} (the default owner email) is not an email address: give one with --owner-email`
				: `--owner-email ${ownerEmailFlag.slice(0, 80)} is not an email address: give one such as you@example.com`,
		);
	}
	const ttlS = testSeconds(env, DEVICE_CODE_TTL_ENV);
	const intervalS = testSeconds(env, DEVICE_INTERVAL_ENV);
	return {
		ownerEmail,
		...(ttlS !== undefined ? { deviceCodeTtlMs: ttlS * 1000 } : {}),
		...(intervalS !== undefined ? { devicePollIntervalMs: intervalS * 1000 } : {}),
	};
}

function testSeconds(env: NodeJS.ProcessEnv, name: string): number | undefined {
	const text = env[name];
	if (text === undefined || text === '') {
		return undefined;
	}
	const seconds = Number(text);
	if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_TEST_SECONDS) {
		throw new BerthError(
			'BERTH_ERR_USAGE',
			`${name} is whole seconds from 1 to ${MAX_TEST_SECONDS} (got ${text.slice(0, 20)})`,
		);
	}
	return seconds;
}
