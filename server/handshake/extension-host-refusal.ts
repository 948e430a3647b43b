import { HandshakeReason } from '../../protocol/errors';
import { ConnectionType } from '../../protocol/wire';
import type {
	ConnectionOutcome,
	ConnectionRequest,
	ConnectionTypeHandler,
	HandshakeReply,
} from './connection-types';

/** ExtensionHost (2): a Berth agent runs no extensions, and says so instead of VS Code's "Unknown initial data". */
export const extensionHostRefusal: ConnectionTypeHandler = {
	id: ConnectionType.ExtensionHost,
	name: 'ExtensionHost',
	accept(_request: ConnectionRequest, reply: HandshakeReply): Promise<ConnectionOutcome> {
		return Promise.resolve(reply.refuse(HandshakeReason.ExtensionHostUnsupported));
	},
};
