import { randomUUID } from 'node:crypto';
import {
	DEV_MODE_AUTH,
	HEADER_BYTES,
	MAX_CONTROL_MESSAGE_BYTES,
	NO_TOKEN_AUTH,
	SIGN_REPLY_TIMEOUT_MS,
	TOKEN_PROOF_AUTH,
} from '../../protocol/constants';
import { BerthError, ClientHandshakeReason, HandshakeReason } from '../../protocol/errors';
import type { Timers } from '../../protocol/timers';
import type { Transport } from '../../protocol/transport';
import { isJwtShaped } from '../../protocol/jwt-shape';
import { isFinalTokenRefusal } from '../../protocol/token-refusal';
import { encodeControl, parseServerReply, type SignRequest } from '../../protocol/wire';
import { agentKeyFingerprint, verifyAgentKeyProof } from '../shared/agent-key-proof';
import { ControlReader } from '../shared/control-reader';
import { sign, verifySignature } from '../shared/sign';

/**
 * Whom the client talks to: a Berth agent (each side proves it knows the token by signing the
 * other's challenge, and the token never crosses the wire), or a real VS Code server (the token
 * is sent, as VS Code's clients do, and the server proves nothing).
 */
export type PeerKind = 'berth' | 'vscode';

export interface ClientHandshakeOptions {
	/** The agent's connection token; undefined for an agent started without one. */
	readonly token: string | undefined;
	readonly connectionType: number;
	readonly args?: unknown;
	/** Sent for the agent's version check; leave out to skip the check. */
	readonly commit?: string;
	readonly peer: PeerKind;
	readonly timers: Timers;
	/** Time allowed for each reply (VS Code: 10 s). */
	readonly replyTimeoutMs?: number;
	/** `timers.now()` by which the whole handshake must be over: no reply waits past it. */
	readonly deadline?: number;
	/**
	 * The agent key's fingerprint (`SHA256:…`, an init URL's `k`) that a user token's agent must
	 * prove it holds; without it, a user token trusts the transport (TLS) to name the agent.
	 */
	readonly agentKeyPin?: string;
}

/**
 * The client's side of the handshake. Against a Berth agent it sends TOKEN_PROOF_AUTH, not the
 * token: it signs the agent's fresh challenge, and the agent answers `ok` with its signature of
 * the client's, which the client checks before it uses the connection. An impostor learns no
 * token, only one signature of a challenge it chose (guessing a weak token from it offline is
 * why tokens have 16 characters at least). What this does not do: keep an active relay out of an
 * unencrypted connection (use TLS or SSH for that; docs/ARCHITECTURE.md, "What the handshake
 * proves").
 * Against a VS Code server (`peer: 'vscode'`) the token is sent, as VS Code's clients do.
 * Resolves with the bytes that arrived after the last handshake message; the transport is left
 * paused for the next owner.
 * @throws BerthError BERTH_ERR_HANDSHAKE_REFUSED (the agent answered `error`: permanent),
 *   BERTH_ERR_SERVER_UNVERIFIED, BERTH_ERR_HANDSHAKE_TIMEOUT, BERTH_ERR_PROTOCOL, BERTH_ERR_CLOSED.
 */
export async function runClientHandshake(
	transport: Transport,
	initial: readonly Uint8Array[],
	options: ClientHandshakeOptions,
): Promise<Uint8Array[]> {
	const control = new ControlReader(transport, initial, {
		maxControlBytes: MAX_CONTROL_MESSAGE_BYTES,
		maxMessageBytes: HEADER_BYTES,
	});
	const nextReply = async (what: string) => {
		const replyTimeoutMs = Math.max(
			0,
			Math.ceil(
				Math.min(
					options.replyTimeoutMs ?? SIGN_REPLY_TIMEOUT_MS,
					(options.deadline ?? Infinity) - options.timers.now(),
				),
			),
		);
		const timer = options.timers.timeout(
			() =>
				control.fail(
					new BerthError(
						'BERTH_ERR_HANDSHAKE_TIMEOUT',
						`no ${what} from the agent within ${replyTimeoutMs} ms`,
					),
				),
			replyTimeoutMs,
		);
		try {
			const reply = parseServerReply(await control.next());
			if (reply?.type === 'error' && reply.code !== undefined && isFinalTokenRefusal(reply.code)) {
				throw new BerthError(
					'BERTH_ERR_TOKEN_REVOKED',
					`Connection error: ${reply.reason}: get a new token (berth login --init URL, or from the agent's owner)`,
					reply.reason,
				);
			}
			if (reply?.type === 'error') {
				throw new BerthError(
					'BERTH_ERR_HANDSHAKE_REFUSED',
					`Connection error: ${reply.reason}${refusalHint(reply.reason, options)}`,
					reply.reason,
				);
			}
			return reply;
		} finally {
			timer.dispose();
		}
	};

	try {
		const challenge = randomUUID();
		// A user token is a bearer token (and so is `--dev`): sent, as the agent cannot know it in advance.
		const bearer =
			options.token !== undefined && (isJwtShaped(options.token) || options.token === DEV_MODE_AUTH);
		const verify = options.peer === 'berth' && options.token !== undefined && !bearer;
		const auth = verify ? TOKEN_PROOF_AUTH : (options.token ?? NO_TOKEN_AUTH);
		transport.write([encodeControl({ type: 'auth', auth, data: challenge })]);
		const signReply = await nextReply('sign reply');
		if (signReply?.type !== 'sign') {
			throw new BerthError('BERTH_ERR_PROTOCOL', ClientHandshakeReason.UnexpectedMessage);
		}
		if (bearer && options.agentKeyPin !== undefined) {
			checkAgentKey(signReply, challenge, options.agentKeyPin);
		}
		transport.write([
			encodeControl({
				type: 'connectionType',
				...(options.commit !== undefined ? { commit: options.commit } : {}),
				// A VS Code client without vsda echoes the challenge; a Berth client signs it.
				signedData: verify ? sign(options.token!, signReply.data) : signReply.data,
				desiredConnectionType: options.connectionType,
				...(options.args !== undefined ? { args: options.args } : {}),
			}),
		]);
		// VS Code's server too answers every type, Tunnel included (once it reached the target), and
		// bytes sent before that answer would be parsed as protocol messages: always wait for it.
		const okReply = await nextReply('answer to the connection request');
		if (okReply?.type !== 'ok') {
			throw new BerthError('BERTH_ERR_PROTOCOL', ClientHandshakeReason.UnexpectedMessage);
		}
		if (verify && !verifySignature(options.token!, challenge, okReply.signedData ?? '')) {
			throw new BerthError(
				'BERTH_ERR_SERVER_UNVERIFIED',
				`${ClientHandshakeReason.UnsupportedServer}: it did not prove it knows the connection token ` +
					'(not a Berth agent of this token: for a VS Code server, use --peer vscode)',
			);
		}
		return control.detach();
	} catch (error) {
		control.detach();
		transport.dispose();
		throw error;
	}
}

/**
 * A pinned agent: the `sign` reply must carry the pinned key and its signature of our challenge.
 * @throws BerthError BERTH_ERR_SERVER_UNVERIFIED otherwise (another agent, or a stand-in).
 */
function checkAgentKey(reply: SignRequest, challenge: string, pin: string): void {
	const key = reply.key;
	if (key === undefined || agentKeyFingerprint(key) !== pin) {
		throw new BerthError(
			'BERTH_ERR_SERVER_UNVERIFIED',
			`${ClientHandshakeReason.UnsupportedServer}: its key ${key ? agentKeyFingerprint(key) : '(none)'} is not ` +
				`the one your login pinned (${pin}): this is another agent, or one that was reinstalled. ` +
				'If you trust it, log in again with a new init URL from its owner',
		);
	}
	if (!verifyAgentKeyProof(key, challenge, reply.signedData)) {
		throw new BerthError(
			'BERTH_ERR_SERVER_UNVERIFIED',
			`${ClientHandshakeReason.UnsupportedServer}: it sent the pinned key but could not sign with it`,
		);
	}
}

/** What to do about a refusal, where the reason alone does not say. */
function refusalHint(reason: string, options: ClientHandshakeOptions): string {
	if (reason === HandshakeReason.AuthMismatch && options.peer === 'berth' && options.token !== undefined) {
		// A VS Code server also refuses a Berth client this way: it wants the token itself.
		return ' (a wrong token; or, if this is a VS Code server, connect with --peer vscode)';
	}
	return '';
}
