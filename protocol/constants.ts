/**
 * Every timing, size and limit of the wire, with its unit. The VS Code values are read from its
 * source (src/vs/base/parts/ipc/common/ipc.net.ts, remoteAgentConnection.ts); Berth's own are
 * marked as such.
 */

/** Size of a protocol message header: type u8, id u32, ack u32, length u32. */
export const HEADER_BYTES = 13;

/** VS Code sends a KeepAlive this often, from both ends, from the moment a protocol exists. */
export const KEEPALIVE_MS = 5_000;
/** A peer from which nothing at all arrived for this long is timed out. */
export const TIMEOUT_MS = 20_000;
/** After a Regular message arrives, an explicit Ack goes out if nothing else did within this time. */
export const ACK_DELAY_MS = 2_000;
/** An explicit Ack goes out at once after this many bytes arrived unacknowledged (Berth's), so a
 * peer's replay queue stays small even when this side has nothing to send for a while. */
export const ACK_EVERY_BYTES = 1024 * 1024;
/** At most one ReplayRequest per this interval. */
export const REPLAY_REQUEST_INTERVAL_MS = 10_000;

/** How long a disconnected Management session waits for its client (VS Code: 3 h). */
export const RECONNECTION_GRACE_MS = 3 * 60 * 60 * 1_000;
/** The grace left to disconnected sessions once any other client connects (VS Code: 5 min). */
export const RECONNECTION_SHORT_GRACE_MS = 5 * 60 * 1_000;

/** Client: wait before each reconnection attempt, then the last value for every further one. */
export const RECONNECT_DELAYS_MS: readonly number[] = [
	0, 5_000, 5_000, 10_000, 10_000, 10_000, 10_000, 10_000, 30_000,
];
/** Client: one reconnection attempt, connect to `ok`, must finish within this time. */
export const RECONNECT_ATTEMPT_TIMEOUT_MS = 30_000;
/** Client: the server's `sign` reply must arrive within this time. */
export const SIGN_REPLY_TIMEOUT_MS = 10_000;

/** Server: a connection has this long from TCP accept to the end of its handshake (Berth's). */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Server: handshakes in progress at once; past it the oldest is dropped (Berth's). */
export const MAX_PENDING_HANDSHAKES = 128;

/** A Control message longer than this is a protocol error (1 MiB). */
export const MAX_CONTROL_MESSAGE_BYTES = 1024 * 1024;
/** Default bound for any other message: a longer one is a protocol error (Berth's, 4 MiB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** A session whose unacknowledged outgoing bytes exceed this is given up (Berth's, 32 MiB). */
export const DEFAULT_MAX_UNACKED_BYTES = 32 * 1024 * 1024;

/** Wire value of `auth` when a client has no connection token (VS Code's placeholder). */
export const NO_TOKEN_AUTH = '00000000000000000000';
/**
 * Wire value of `auth` from a Berth client that proves it knows the token without sending it
 * (Berth's): the client signs the agent's challenge in `connectionType`, where the agent checks it,
 * and only then does the agent sign the client's challenge, in its `ok`. The agent thus never
 * signs anything for a client that has not proved the token (no offline-guessing oracle for
 * whoever can reach it). The `:` is outside the token alphabet, so no token is mistaken for it.
 */
export const TOKEN_PROOF_AUTH = 'berth:token-proof';

/**
 * Wire value of `auth` from a client run with `--dev`: a `--dev-mode` agent (loopback only)
 * accepts it as the user testing@testing.local; any other agent refuses it like a wrong token.
 */
export const DEV_MODE_AUTH = 'berth:dev';

/** A connection token may hold only these characters (VS Code's rule). */
export const CONNECTION_TOKEN_PATTERN = /^[0-9A-Za-z_-]+$/;

// ---------------------------------------------------------------------------------------------
// Streams (Berth's Mux connection type)
// ---------------------------------------------------------------------------------------------

/**
 * Credit a new stream starts with, each way: what the opener may send before the reader grants
 * more (a request, a greeting). Small, because every open stream may hold it whatever the
 * session's budget says: it is also the window a stream is always guaranteed.
 */
export const STREAM_INITIAL_WINDOW_BYTES = 64 * 1024;
/**
 * A reader's first Window frame waits until the peer has sent this much: an exchange of a few
 * small messages (a SOCKS connect's first bytes, most HTTP requests and answers) then costs no
 * Window frame, one write and one wake-up of each process fewer, and a bulk sender is granted its
 * full window while it still has the other half of the initial one to send.
 */
export const STREAM_FIRST_GRANT_AFTER_BYTES = STREAM_INITIAL_WINDOW_BYTES / 2;
/** A stream's window never shrinks below this, however full the session is: no stream starves. */
export const STREAM_MIN_WINDOW_BYTES = STREAM_INITIAL_WINDOW_BYTES;
/** The most a reader lets be in flight or buffered on one stream (its full receive window). */
export const STREAM_WINDOW_BYTES = 1024 * 1024;
/** Readers grant credit in steps of at least this much, so Window frames stay rare. */
export const STREAM_WINDOW_STEP_BYTES = STREAM_WINDOW_BYTES / 4;
/**
 * A session's receive budget: the bytes its streams may have in flight towards it or held
 * unwritten, summed. Past it, streams get only their minimum window, so memory stays bounded by
 * this plus STREAM_MIN_WINDOW_BYTES per stream, however many streams stop reading.
 */
export const MUX_RECEIVE_BUDGET_BYTES = 32 * 1024 * 1024;
/**
 * Data a session may have sent and not yet seen acknowledged before its streams wait: kept well
 * under DEFAULT_MAX_UNACKED_BYTES, whatever the credit its streams hold, so a busy peer is never
 * mistaken for a dead one. (The kernel alone may hold 32 MiB in a loopback socket's buffers.)
 */
export const MUX_UNACKED_HIGH_WATER_BYTES = 8 * 1024 * 1024;
/** Bytes waiting in a session's stream queues, summed, past which each stream queues at most one chunk. */
export const MUX_SEND_QUEUE_CAP_BYTES = 16 * 1024 * 1024;
/** The most one read of a source socket brings (Node reads 64 KiB at a time). */
export const MUX_MAX_READ_BYTES = 64 * 1024;
/** Queued socket bytes past which streams wait their turn instead of writing at once. */
export const MUX_WRITE_HIGH_WATER_BYTES = 256 * 1024;
/** What one stream may send per turn when streams wait their turn (round robin). */
export const MUX_QUANTUM_BYTES = 64 * 1024;
/** Largest Data frame; larger writes are split. */
export const MUX_MAX_DATA_FRAME_BYTES = 256 * 1024;
/** Streams open at once in one session (each costs at least its minimum window while busy). */
export const MUX_MAX_STREAMS = 16_384;

// ---------------------------------------------------------------------------------------------
// Bounds before authentication, durations, throttling (Berth issue 7, "Hardening")
// ---------------------------------------------------------------------------------------------

/**
 * A Control message longer than this is a protocol error until the client's token was accepted
 * (Berth's, 16 KiB). `auth` needs about 2 KiB today (its `data` is at most 1,024 characters);
 * the rest leaves room for the signed user tokens a later version sends in it. Once the token is
 * accepted, MAX_CONTROL_MESSAGE_BYTES applies again.
 */
export const MAX_PREAUTH_CONTROL_MESSAGE_BYTES = 16 * 1024;
/** The longest delay a timer can hold: setTimeout turns anything longer into 1 ms (2^31 − 1 ms, 24.8 days). */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;
