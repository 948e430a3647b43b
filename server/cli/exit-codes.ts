import { BerthError } from '../../protocol/errors';

/** The CLI's exit codes, documented in `berth --help` and the README. */
export const ExitCode = {
	/** Finished, or stopped by SIGINT/SIGTERM. */
	Ok: 0,
	/** An unexpected failure (a bug: the message says what). */
	Failure: 1,
	/** Bad command line: unknown flag, bad value, conflicting flags, invalid token. */
	Usage: 2,
	/**
	 * The agent refused us (auth mismatch, version mismatch, bad signature), could not prove it knows
	 * the token, or its TLS certificate failed verification.
	 */
	Refused: 3,
	/** The agent could not be reached, or the connection was lost for good (berth ssh: ssh failed). */
	Unreachable: 4,
	/** A listening port could not be opened (in use, no permission). */
	Listen: 5,
	/** Every forward was refused because it would reach its own listener or another forward's (a loop). */
	Loop: 6,
	/** berth ssh: the host has no Node.js the agent can run on (none on PATH, --node not executable, too old). */
	NoNode: 7,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit code for an error that ends the CLI. */
export function exitCodeFor(error: unknown): ExitCode {
	if (!(error instanceof BerthError)) {
		return ExitCode.Failure;
	}
	switch (error.code) {
		case 'BERTH_ERR_USAGE':
		case 'BERTH_ERR_TOKEN':
			return ExitCode.Usage;
		case 'BERTH_ERR_HANDSHAKE_REFUSED':
		case 'BERTH_ERR_SERVER_UNVERIFIED':
		case 'BERTH_ERR_TOKEN_REVOKED':
		case 'BERTH_ERR_TLS_UNTRUSTED':
		case 'BERTH_ERR_POLICY':
			return ExitCode.Refused;
		case 'BERTH_ERR_CONNECT':
		case 'BERTH_ERR_SSH':
		case 'BERTH_ERR_CLOSED':
		case 'BERTH_ERR_TIMEOUT':
		case 'BERTH_ERR_HANDSHAKE_TIMEOUT':
		case 'BERTH_ERR_PROTOCOL':
		case 'BERTH_ERR_RPC':
		case 'BERTH_ERR_RPC_UNKNOWN_METHOD':
			return ExitCode.Unreachable;
		case 'BERTH_ERR_LISTEN':
			return ExitCode.Listen;
		case 'BERTH_ERR_LOOP':
			return ExitCode.Loop;
		case 'BERTH_ERR_NO_NODE':
			return ExitCode.NoNode;
		case 'BERTH_ERR_LIMIT':
		case 'BERTH_ERR_STORE':
		case 'BERTH_ERR_INTERNAL':
			return ExitCode.Failure;
	}
}
