/**
 * The accept queue of a forward's listener (the kernel caps it at net.core.somaxconn). Node's
 * default, 511, is too short for a browser or a package manager behind a proxy, which opens
 * hundreds of connections at once: past it the kernel drops SYNs, and each dropped one waits a
 * second for its retry.
 */
export const FORWARD_LISTEN_BACKLOG = 4096;
