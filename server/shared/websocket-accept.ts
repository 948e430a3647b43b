import { createHash } from 'node:crypto';

/** RFC 6455's fixed GUID, appended to the client's key before hashing. */
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: what the agent answers and the client checks. */
export function websocketAccept(key: string): string {
	return createHash('sha1')
		.update(key + WEBSOCKET_GUID)
		.digest('base64');
}
