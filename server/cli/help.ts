/** Hand-written help, one text per subcommand, each flag with its default and environment fallback. */

export const MAIN_HELP = `berth: secure tunnels and port forwarding to remote machines

Usage:
  berth server [flags]      run the agent on this host
  berth forward [flags]     forward local ports through an agent
  berth --version           print the version and the build's commit
  berth <command> --help    flags of one command

Exit codes:
  0  finished, or stopped by SIGINT/SIGTERM
  1  unexpected failure
  2  bad command line or invalid token (the message says what to fix)
  3  the agent refused the connection, or could not prove it knows the token
  4  the agent could not be reached, or the connection was lost for good
  5  a listening port could not be opened
`;

export const SERVER_HELP = `berth server: run the remote agent

Usage: berth server [flags]

Its handshake is wire-compatible with VS Code's remote agent server. The first line on stdout is
exactly "Berth agent listening on ws://HOST:PORT". Logs go to stderr and never contain a token.
SIGINT or SIGTERM stops it cleanly.

Flags:
  --host HOST                      address to listen on (default 127.0.0.1; on a loopback
                                   address only loopback Host headers are answered)
  --port PORT                      port to listen on; 0 picks a free one (default 8765)
  --connection-token-file FILE     read the connection token from FILE (one trailing newline is
                                   stripped; letters, digits, '-' and '_' only)
  --connection-token TOKEN         the connection token itself; prefer --connection-token-file,
                                   since argv is visible to every user of the host
  --without-connection-token       accept clients without a token (only behind another gate)
                                   With none of the three, a UUID token is generated once, kept
                                   mode 0600 in $BERTH_CONFIG_DIR/token (default
                                   ~/.config/berth/token), reused, and the status URL with
                                   ?tkn= is printed.
  --reconnection-grace-time SECS   how long a disconnected session waits for its client
                                   (default 10800 = 3 h; 5 min once another client connects)
  --log-format text|json           log line format on stderr (default text)
  --log-level LEVEL                debug, info, warn or error (default info)
  -h, --help                       this text
`;

export const FORWARD_HELP = `berth forward: forward local ports through an agent

Usage: berth forward -u URL -L [BIND:]LOCALPORT:HOST:PORT [-L ...] [flags]

Each connection accepted on a local port is carried to HOST:PORT as seen from the agent. The
agent must prove it knows the token (mutual HMAC), except with --peer vscode.

Flags:
  -u, --url URL              the agent: ws://HOST:PORT (also wss://, http://, https://); never
                             put the token in it
  -L SPEC                    [BIND:]LOCALPORT:HOST:PORT, ssh's syntax, repeatable; BIND is
                             127.0.0.1 unless given ('*' = every interface, IPv6 in brackets);
                             LOCALPORT 0 picks a free port
  --token-file FILE          read the connection token from FILE ('-' = stdin)
                             Without it: $BERTH_TOKEN, else one line from stdin (a prompt
                             without echo on a terminal). Never on the command line.
  --no-token                 the agent runs --without-connection-token
  --transport tcp|websocket  raw TCP after the HTTP upgrade (default, fastest) or WebSocket
                             frames (for proxies that only pass WebSocket)
  --peer berth|vscode        berth (default): a Berth agent, verified by its signature;
                             vscode: a real VS Code server (commit from its /version, raw TCP
                             Tunnel connections, NOT authenticated: a warning is printed)
  --skip-commit-check        do not send this build's commit (the agent then skips its
                             version check)
  --log-format text|json     log line format on stderr (default text)
  --log-level LEVEL          debug, info, warn or error (default info)
  -h, --help                 this text

Environment:
  BERTH_TOKEN                the connection token, when --token-file is not given
`;
