/** Hand-written help, one text per subcommand, each flag with its default and environment fallback. */

export const MAIN_HELP = `berth: secure tunnels and port forwarding to remote machines

Usage:
  berth ssh [user@]host[:port] [-L SPEC] [-R SPEC] [-D PORT] [flags]
                            install, start and reach the agent on a host with the system's
                            ssh, then forward as berth forward does (--stop: end it there)
  berth server [flags]      run the agent on this host
  berth forward [flags]     forward ports through an agent (-L, -R), or proxy through it (-D)
  berth client [flags]      a SOCKS5 + HTTP proxy here whose traffic leaves from the agent;
                            with -r, this host is the exit for the agent's proxy port
  berth provider [flags]    the same as berth client -r
  berth connector [flags]   berth client with a connector token: relay mode (its traffic
                            leaves from the agent's providers)
  berth login --init URL    check an agent's init URL (or a token) and save it for this
                            directory and those below it: client commands run there then
                            need no -u and no token
  berth login --server URL  sign in in a browser (the device flow) and save the token the
                            same way
  berth logout [--all]      remove the login that applies here (--all: every saved login)
  berth token create|list|revoke
                            user tokens of an agent with --accounts (its API, or --db)
  berth --version           print the version and the build's commit
  berth <command> --help    flags of one command

Exit codes:
  0  finished, or stopped by SIGINT/SIGTERM
  1  unexpected failure
  2  bad command line, or a token that is invalid, too short, unreadable, over 16 KiB, or
     (the stored one) a symbolic link; no token at all ("No cached credentials"); a bad
     init URL; a saved-logins file that does not parse (the message says what to fix)
  3  the agent refused the connection (berth login: the token; a revoked or expired user
     token), could not prove it knows the token, its key is not the one the login pinned,
     or its TLS certificate failed verification (untrusted, another name, expired)
  4  the agent could not be reached, or the connection was lost for good (berth server:
     the OpenID Connect issuer could not be reached; berth ssh: ssh could not reach or log
     in to the host, or the host's side failed)
  5  a listening port could not be opened
  6  every forward was refused: each would reach a listener of the same client (a loop)
  7  berth ssh: the host has no Node.js 20 or later (none on its PATH, --node is not an
     executable file there, or too old); no agent was started
`;

export const SERVER_HELP = `berth server: run the remote agent

Usage: berth server [flags]

Its handshake is wire-compatible with VS Code's remote agent server. The first line on stdout is
exactly "Berth agent listening on ws://HOST:PORT" (wss:// with --tls-cert). Logs go to stderr. Neither stdout nor the logs
ever contain the token. SIGINT or SIGTERM stops it cleanly.

Flags:
  --host HOST                      address to listen on (default 127.0.0.1; on a loopback
                                   address only loopback Host headers are answered)
  --port PORT                      port to listen on; 0 picks a free one (default 8765)
  --tls-cert FILE                  serve https:// and wss:// on the port with this certificate
                                   chain (PEM, the agent's own certificate first); needs
                                   --tls-key. Clients check that a CA they trust signed it and
                                   that it names the host they connect to
  --tls-key FILE                   its private key (PEM, unencrypted); a FILE other users can
                                   read gets a warning. Without TLS on an address other than
                                   loopback, the agent warns that tokens and traffic cross the
                                   network in clear
  --connection-token-file FILE     read the connection token from FILE (at most 16 KiB; one
                                   trailing newline is stripped). A token has letters, digits,
                                   '-' and '_' only, and at least 16 characters (so that it
                                   cannot be guessed). A FILE other users can read, or a
                                   symbolic link, gets a warning
  --connection-token TOKEN         the connection token itself; prefer --connection-token-file,
                                   since argv is visible to every user of the host
  --without-connection-token       accept clients without a token (only behind another gate)
                                   With none of the three, a UUID token is generated once, kept
                                   mode 0600 in $BERTH_CONFIG_DIR/token (default
                                   ~/.config/berth/token) and reused. It is never printed:
                                   stdout shows a command that prints the status page's link
                                   with ?tkn=. A stored token that is a symbolic link or not
                                   valid stops the agent (exit 2) and is never replaced; one
                                   that others could read gets a warning and is made 0600.
  --reconnection-grace-time SECS   how long a disconnected session waits for its client
                                   (default 10800 = 3 h; 5 min once another client connects;
                                   at most 2147483 = 24.8 days, the longest a timer can wait)
  --allow HOST:PORTS               targets clients may reach (repeatable; default: any). HOST is
                                   a name (*.corp.example), an address, a CIDR block
                                   (10.0.0.0/8, [fd00::/8]) or *; PORTS is *, 5432, 8000-8100
                                   or a comma list. Names are matched as asked, addresses and
                                   blocks against every address a name resolves to.
  --deny HOST:PORTS                targets refused, even if allowed (repeatable; deny wins)
                                   With any rule, the unspecified addresses (0.0.0.0/8, [::],
                                   spelled 0, [::ffff:0.0.0.0] ...) are refused: the system
                                   connects them to one of its own addresses.
  --allow-remote-bind              let clients' reverse forwards (-R) listen on addresses other
                                   than loopback (without it, every address a bind name
                                   resolves to must be loopback)
  -a, --autonomy                   with -r: no proxy port on the agent; each provider declares
                                   its own connector tokens (berth provider
                                   --connector-token-file F), whose connectors reach it only
  -r, --reverse                    run a SOCKS5 + HTTP proxy port whose connections leave from
                                   the clients that provide egress (berth client -r), round
                                   robin; a username label via-NAME picks one by name. With
                                   none connected, a connection waits up to 10 s for one
  --socks-port PORT                the proxy port with -r (default 9870; 0 picks one)
  --socks-host HOST                its address (default 127.0.0.1)
  -n NAME                          the proxy username's base clients must give (needs a
                                   password)
  --socks-password-file FILE       the password proxy clients must give; also
                                   $BERTH_SOCKS_PASSWORD; -w PASS is accepted with a warning
  --upstream URL                   reach every target of clients' streams through this proxy:
                                   socks5://[user:pass@]host:port or http://host:port (CONNECT),
                                   where egress needs one; it resolves names, so --allow/--deny
                                   match names as asked (addresses only when given as such).
                                   UDP associations do not go through it
  --connector-token-file FILE      relay mode, with -r (repeatable): a client proving this
                                   token (berth connector) may only open proxy connections,
                                   which leave from the providers; -c TOKEN is accepted with a
                                   warning. More can be added and removed while the agent runs:
                                   POST /api/connectors {"token":...} -> {"id":...},
                                   DELETE /api/connectors/ID (its connectors are cut at once),
                                   GET /api/status; each with Authorization: Bearer TOKEN
                                   (the connection token)
  --accounts                       user tokens: signed tokens (HS256 JWTs) the agent issues to
                                   users (berth token create, POST /api/tokens), checked on every
                                   connection against the token database; revoking one (berth
                                   token revoke) cuts its live sessions within a second, and its
                                   expiry does too. The connection token still works as before.
                                   Web pages on the same port: /tokens (create, list, revoke;
                                   the owner signs in at /auth/login with the connection token)
                                   and the device flow (POST /auth/device/code, /auth/device/poll;
                                   people approve at /auth/device)
  --db PATH                        with --accounts: the token database (default
                                   $BERTH_DATA_DIR/tokens.db, else $XDG_DATA_HOME/berth/tokens.db,
                                   else ~/.local/share/berth/tokens.db; mode 0600; one process
                                   at a time)
  --oidc-issuer URL                with --accounts: users sign in on the agent's web pages through
                                   this OpenID Connect provider (https://accounts.google.com, a
                                   Keycloak realm ...; http:// only on loopback). Read at start:
                                   an issuer that cannot be reached stops it (exit 4), one that
                                   answers but not as an issuer too (exit 2). Register the
                                   redirect URI https://HOST:PORT/auth/callback (how browsers
                                   reach the agent) with the provider
  --oidc-client-id ID              the client id the provider gave the agent
  --oidc-client-secret-file FILE   its client secret (one line; never on the command line); a
                                   FILE other users can read gets a warning
  --allow-email PATTERN            who may sign in, by verified email (repeatable, required with
                                   --oidc-issuer): '*@example.com', 'alice@example.com',
                                   '*@*.example.com'; any case; '*' matches no '@'. '*' alone
                                   lets in everyone with a verified email at the issuer (warned)
  --public-url URL                 with --accounts: how browsers reach the agent
                                   (https://agent.example:8765) when a proxy in front of it
                                   changes that; default: each request's Host (https:// with
                                   --tls-cert). The redirect URI is URL/auth/callback
  --jwt-secret-file FILE           with --accounts: the signing secret (its text, at least 32
                                   bytes); default: generated once, kept 0600 beside the
                                   connection token. Replacing it ends every user token
  --owner-email EMAIL              with --accounts: the owner's email. Tokens the owner creates
                                   for itself on the web pages, and devices it approves, are
                                   issued to it (default owner@ + this host's name)
  --dev-mode                       any client in dev mode (berth forward's flag of that name)
                                   is testing@testing.local, without a token; refused unless
                                   every listener is loopback
  --log-format text|json           log line format on stderr (default text)
  --log-level LEVEL                debug, info, warn or error (default info)
  -h, --help                       this text

Target policy: a rule matches a spelling, not a service. --deny 127.0.0.1:5432 still lets
localhost, [::1] and 127.0.0.2 reach a service that listens on both loopbacks or on every
interface; --deny localhost:5432 does not stop 127.0.0.1:5432. To keep clients from a service,
allow a list of what they may reach, or deny every address it listens on:
  berth server --allow '127.0.0.1:3000,8080' --allow 'db.internal:5432'   only these
  berth server --deny '*:5432'                                             5432 on any host
  berth server --deny '127.0.0.0/8:5432' --deny '[::1]:5432'               5432 on every loopback
`;

export const FORWARD_HELP = `berth forward: forward ports through an agent

Usage: berth forward [-u URL] (-L SPEC | -R SPEC | -D [BIND:]PORT)... [flags]

Against a Berth agent every forwarded connection is a stream inside one authenticated session:
no new socket or handshake per connection. If the session drops, its connections close, the
listeners stay up and a new session is opened (0, 5, 5, 10 ... 30 s apart); connections made
meanwhile wait up to 10 s for it. The token never crosses the wire: this client proves it knows
it by signing the agent's challenge, and the agent must prove it too before any forward is
carried (an impostor on the agent's port learns nothing). With --peer vscode the token is sent,
as VS Code's clients do, and the server proves nothing.

Flags:
  -u, --url URL              the agent: ws://HOST:PORT, or wss://HOST:PORT for an agent that
                             serves TLS (http:// and https:// are read as ws:// and wss://);
                             never put the token in it (?tkn=, ?token=, ?connectionToken= and
                             a password are refused). Without it: the agent of the login saved
                             for this directory (berth login), else the default_backend_url
                             preference of the saved-logins file
  --ca-file FILE             with wss://: trust the CAs in FILE (PEM) instead of Node's store
                             (its bundled CAs, plus $NODE_EXTRA_CA_CERTS). The certificate must
                             also name the URL's host. A certificate that fails is a refusal
                             (exit 3) that says why, and is not retried
  --insecure                 with wss://: do not check the certificate at all (encrypted, but
                             anyone on the path can pose as the agent); warns at each start
  --dev                      dev mode: be testing@testing.local on an agent started with
                             --dev-mode (loopback only), without a token
  -L SPEC                    local forward, ssh's syntax [BIND:]LOCALPORT:HOST:PORT, repeatable:
                             listen here on BIND:LOCALPORT, connect to HOST:PORT from the agent.
                             BIND is 127.0.0.1 unless given ('localhost' = 127.0.0.1 and ::1,
                             '*' = every interface, IPv6 in brackets); LOCALPORT 0 picks one
  -R SPEC                    reverse forward [BIND:]REMOTEPORT:HOST:PORT, repeatable: the agent
                             listens on BIND:REMOTEPORT (loopback unless it runs with
                             --allow-remote-bind) and connects come back to HOST:PORT from here.
                             -R [BIND:]PORT (no target; ssh's dynamic reverse forward): a SOCKS5
                             and HTTP proxy port on the agent whose traffic leaves from here
  -D [BIND:]PORT             a SOCKS5 and HTTP proxy on one port, ssh's dynamic forward,
                             repeatable: listen here on BIND:PORT (127.0.0.1 unless given;
                             PORT 0 picks one); every connection it carries leaves from the
                             agent, which resolves names (socks5h) and applies --allow/--deny.
                             SOCKS5 CONNECT and UDP ASSOCIATE; HTTP CONNECT and GET http://...
                             A proxy username NAME-idle-30s-ttl-1h closes a connection after
                             30 s idle or 1 h in all (also x-berth-config: idle=30s on CONNECT)
  -n NAME                    the proxy username's base a client must give (needs a password)
  --socks-password-file FILE the proxy's password: clients must give it (SOCKS5 RFC 1929 or
                             Proxy-Authorization: Basic); also $BERTH_SOCKS_PASSWORD. -w PASS is
                             accepted, with a warning: argv is public on the host
  --token-file FILE          read the token from FILE ('-' = stdin), at most 16 KiB: the
                             connection token, or a signed user token (a JWT); a FILE other
                             users can read, or a symbolic link, gets a warning. Never on the
                             command line. The token is looked for in this order, and one log
                             line says which was used:
                               1. --token-file  2. $BERTH_TOKEN
                               3. the login saved for this directory or the nearest folder
                                  above it (berth login; only for its own agent)
                               4. a prompt without echo on a terminal; else the first line of
                                  stdin, however slowly it comes (ssh host cat
                                  .config/berth/token | berth forward ...)
                             With none: "No cached credentials" (exit 2)
  --session-name NAME        the session's name on the agent, shown beside its user (default:
                             the login's session-name prefix, then this host's name)
  --no-token                 the agent runs --without-connection-token
  --transport MODE           auto (default): raw TCP after the HTTP upgrade (fastest), falling
                             back to WebSocket frames when the path (a proxy) breaks raw bytes;
                             tcp or websocket: only that one
  --peer berth|vscode        berth (default): a Berth agent, verified by its signature;
                             vscode: a real VS Code server (commit from its /version, one Tunnel
                             connection per forwarded connection, -L only, NOT authenticated: a
                             warning is printed)
  --skip-commit-check        do not send this build's commit (the agent then skips its
                             version check)
  --connect-timeout SECS     time for each connection to the agent, from TCP connect to the
                             end of the handshake, WebSocket fallback included (default 30;
                             1 to 2147483)
  --upstream URL             with berth client -r / berth provider: the connections this host
                             carries out go through this proxy (socks5://[user:pass@]host:port
                             or http://host:port)
  --log-format text|json     log line format on stderr (default text)
  --log-level LEVEL          debug, info, warn or error (default info)
  -h, --help                 this text

Environment:
  BERTH_TOKEN                the token, when --token-file is not given
  BERTH_CONFIG_DIR           where the saved logins are (config.json; default
                             $XDG_CONFIG_HOME/berth, else ~/.config/berth)
  BERTH_SOCKS_PASSWORD       the proxy's password, when --socks-password-file is not given

Forwarding loops: a forward never leads to a listener of this client. Against an agent on
this machine (same kernel and network namespace, from its serverInfo) -L 8080:localhost:8080
would reach itself and is refused, as is a forward to another forward's listener, or a listener
on a port another forward leads to; against a remote agent it is the usual ssh -L. LOCALPORT 0
never picks a port a forward leads to. An agent on this machine is told which ports this client
listens on, and leaves them out of the ports it reports (so nothing auto-forwards them). With
--peer vscode, the first forward to a loopback target probes once where the server runs.
The agent lists this client as "berth forward on HOSTNAME".

Exit codes: 0 stopped by SIGINT/SIGTERM; 2 bad command line, or a token that is invalid,
unreadable or over 16 KiB; 3 the agent refused us (wrong token, version mismatch), could not
prove it knows the token, or its TLS certificate failed verification; 4 the agent could not be reached; 5 no forward could be opened;
6 every forward was refused as a loop (it would reach a listener of this client).
`;

export const CLIENT_HELP = `berth client: a SOCKS5 + HTTP proxy whose traffic leaves from the agent

Usage: berth client [-u URL] [-p PORT] [flags]
       berth client -r [-u URL] [--name NAME] [flags]

LinkSocks's forward mode under Berth's name; the same as berth forward -u URL -D PORT. One port
speaks SOCKS5 (CONNECT, UDP ASSOCIATE; names resolved on the agent, so socks5h works) and HTTP
proxying (CONNECT, and GET http://... with keep-alive). Every connection is a stream of one
session with the agent.

  curl --socks5-hostname 127.0.0.1:1080 http://intranet.example/
  curl -x http://127.0.0.1:1080 http://intranet.example/
  curl --proxy-user 'app-idle-30s:' --socks5-hostname 127.0.0.1:1080 https://example.org/

Flags:
  -u, --url URL              the agent (as berth forward; without it, the saved login's)
  -p, --port PORT            the proxy's port (default 1080; 0 picks one)
  --host HOST                the address it listens on (default 127.0.0.1)
  -n NAME                    the username's base a client must give (needs a password)
  --socks-password-file FILE the password clients must give; also $BERTH_SOCKS_PASSWORD; -w PASS
                             is accepted with a warning (argv is public on the host)
  --token-file FILE          the token (as berth forward: then $BERTH_TOKEN, the login saved
                             for this directory, a prompt or stdin)
  --session-name, --no-token, --transport, --skip-commit-check, --connect-timeout,
  --ca-file, --insecure, --dev,
  --log-format, --log-level  as berth forward
  -r, --reverse              reverse mode: no proxy here; this host is an exit for the agent's
                             proxy port (berth server -r): each connection made to that port
                             leaves from here, names resolved here (also: berth provider)
  --name NAME                with -r: this provider's name, for via labels (letters, digits,
                             '.', '_'; default: the session's id)
  --connector-token-file F   with -r, against an agent in autonomy mode (-r -a), repeatable:
                             connectors proving this token reach this provider and no other
  --upstream URL             with -r: the connections this host carries out go through this
                             proxy (socks5://[user:pass@]host:port or http://host:port)
  -h, --help                 this text

Username labels: NAME-idle-30s closes a connection after 30 s without a byte, NAME-ttl-2h after
2 h in all (durations 90s, 15m, 48h, 2d, 12h_30m); unknown parts are skipped, a label that does
not parse leaves the connection without limits (logged at debug level).

Exit codes: as berth forward.
`;

export const LOGIN_HELP = `berth login: save a login for this directory

Usage: berth login --init URL|TOKEN [--session-name NAME] [--reauth] [flags]
       berth login --init - ...     (reads the init URL or token from stdin)
       berth login --server URL ... (signs in in a browser: the device flow)

Checks the token against its agent (one connection through the whole handshake: a token the
agent refuses is never saved), then saves it for the working directory, in the saved-logins
file $BERTH_CONFIG_DIR/config.json (default ~/.config/berth/config.json; mode 0600, replaced
atomically). Client commands (berth forward, client, provider, connector) run in this
directory or below it then use it when given no --token-file and no $BERTH_TOKEN, and its
agent when given no -u; the nearest directory with a login wins. Prints
"✓ Configuration saved for EMAIL" and the agent.

An init URL is what the agent gives a user: https://HOST[:PORT]/p/CONFIG, where CONFIG is the
base64url of {"t": TOKEN, "n": SESSION-NAME PREFIX, "k": AGENT KEY FINGERPRINT}; the agent is
the URL's origin (https -> wss, http -> ws). A bad one gets a message that says which part is
wrong. The user and email shown come from the token (a signed user token's claims).

Flags:
  --init URL|TOKEN           the init URL, or a bare token (then -u names the agent, or the
                             file's default_backend_url preference does). On the command line
                             it is visible to other users of the host and kept in the shell's
                             history (a warning says so): '-' reads it from stdin instead (a
                             prompt without echo on a terminal)
  --server URL               sign in for a token instead of pasting one: prints a code and
                             where to enter it ("To authenticate, visit ... And enter code:
                             ABC-123"; the browser opens when the saved-logins file's
                             auto_open_browser preference is true), waits while you sign in
                             and approve this device, then saves the token like --init
  -u, --url URL              the agent, for a bare token; with an init URL it must be the same
  --ca-file FILE, --insecure with wss:// (or https://) agents, as berth forward
  --session-name NAME        the session's name on the agent, kept in the login (default: the
                             init URL's prefix, then this host's name)
  --reauth                   replace the login already saved for this directory (without it,
                             berth login refuses to)
  --transport MODE           auto (default), tcp or websocket, as berth forward
  --skip-commit-check        as berth forward
  --connect-timeout SECS     time for the check's connection (default 30)
  --log-format text|json     log line format on stderr (default text)
  --log-level LEVEL          debug, info, warn or error (default info)
  -h, --help                 this text

Exit codes: 0 saved; 2 bad command line, a bad init URL or token, or a login already saved
here (add --reauth); 3 the agent refused the token (its reason is shown), the sign-in was
denied, or the agent could not prove who it is; 4 the agent could not be reached, or the
device code expired. Nothing is saved unless the exit code is 0.
`;

export const LOGOUT_HELP = `berth logout: remove saved logins

Usage: berth logout [--all]

Removes the login that applies to the working directory: the one client commands run here
would use (saved for this directory, or for the nearest folder above it that has one). It says
which directory's login it removed, and which login applies here now, if another does. The
token itself stays valid on the agent: its owner revokes it there.

Flags:
  --all                      remove every saved login (preferences stay)
  --log-format, --log-level  accepted, as every command
  -h, --help                 this text

Exit codes: 0 done (also when there was nothing to remove); 2 the saved-logins file does not
parse or cannot be written (the message names it).
`;

export const TOKEN_HELP = `berth token: user tokens of an agent run with --accounts

Usage:
  berth token create --email E [--name N] [--role R] [--ttl 30d] [--prefix P]
  berth token list [--json]
  berth token revoke ID

Through a running agent (its HTTP API), named and authenticated like every client command:
  -u, --url URL          the agent (without it: the saved login's); with the connection token
                         (--token-file, $BERTH_TOKEN, the saved login), every user's tokens; with
                         a user token, that user's own only
  --token-file FILE, --ca-file FILE, --insecure    as berth forward
Or in the database of a stopped agent (one process holds a database at a time):
  --db PATH              the token database
  --jwt-secret-file FILE the signing secret, if the agent was given one
  --public-url URL       how users reach the agent (https://HOST:PORT), for the init URL

create:
  --email E              the user (required)
  --name N               what the token is for ("laptop", "ci")
  --role R               client (forwards and proxies; the default), provider or connector
  --ttl D                lifetime: 90s, 15m, 48h, 30d (default 30d)
  --prefix P             the session-name prefix the init URL carries
  Prints the token and its init URL once: they are not kept (the database holds a hash).
list:                    the tokens: id, email, name, role, created, last used, expires, revoked
revoke ID:               revokes it; its sessions on the agent end within a second
--json                   machine-readable output

Exit codes: as berth --help; 3 when the agent refuses the token used, 2 for an unknown id.
`;

export const SSH_HELP = `berth ssh: the agent on a host you reach with ssh, in one step

Usage: berth ssh [user@]host[:port] [-L SPEC]... [-R SPEC]... [-D [BIND:]PORT]... [flags]
       berth ssh [user@]host[:port] --stop

Runs the system's ssh, so ~/.ssh/config (Host aliases, keys, ssh-agent, ProxyJump,
ControlMaster), known_hosts and its prompts (host key, passphrase: on this terminal) all apply;
Berth never asks for or keeps an ssh password. On the host, with Node.js 20 or later (node on
the PATH of a non-interactive ssh session, or --node PATH):
  - the agent is installed as ~/.berth/server-<commit>.js (this build's full commit), uploaded
    through ssh when it is missing or its SHA-256 is not this build's;
  - it is started on 127.0.0.1 on a free port, in a session of its own (it outlives the ssh
    connection), with its token in ~/.berth/token-<commit> (mode 0600). The token is made here
    and sent on ssh's standard input, never on a command line, so it is in no process list;
  - an agent of this build that already runs is used (~/.berth/agent-<commit>.json says where;
    its process must be alive and its port must answer with this commit). Agents of other
    builds are left running: this client talks only to its own build's.
The agent is then reached through that ssh connection (a forward of 127.0.0.1 here to its
loopback port: it is never exposed on the host's network) and the -L, -R and -D forwards work
as berth forward's. If the ssh connection drops, it is made again (0, 5, 5, 10 ... 30 s apart)
to the same agent, and the forwards come back; local listeners stay up meanwhile. With no -L,
-R or -D, berth ssh makes sure the agent runs, says where, and exits.

The token is kept here in $BERTH_CONFIG_DIR/ssh-hosts.json (default ~/.config/berth; mode 0600,
replaced atomically), by host; without it (another machine, a deleted file) the running agent's
token comes from the host, over ssh.

Flags:
  -L SPEC, -R SPEC, -D [BIND:]PORT
                             forwards, as berth forward takes them (see berth forward --help)
  --stop                     end this build's agent on the host (SIGTERM) and remove its token
                             and state files there, and its token here
  --node PATH                the node to run on the host (default: node on its PATH)
  --remote-dir DIR           the folder on the host for the agent, its token, state and log
                             (default ~/.berth; relative to the home folder)
  -F FILE                    ssh's config file (ssh -F), instead of ~/.ssh/config
  --ssh PATH                 the ssh program (default: ssh on PATH)
  -n NAME, --socks-password-file FILE
                             -D's proxy credentials, as berth forward takes them
  --session-name NAME        the session's name on the agent (default: this host's name)
  --transport MODE           auto (default), tcp or websocket: as berth forward's
  --connect-timeout SECS     time for each connection to the agent (default 30)
  --log-format text|json     log line format on stderr (default text)
  --log-level LEVEL          debug, info, warn or error (default info)
  -h, --help                 this text

Environment:
  BERTH_CONFIG_DIR           where ssh-hosts.json is (default $XDG_CONFIG_HOME/berth, else
                             ~/.config/berth)

Exit codes: 0 stopped by SIGINT/SIGTERM (with no forwards: the agent runs); 2 bad command line;
3 the agent refused us; 4 ssh could not reach or log in to the host (its message is above),
the host's side failed, or the agent could not be reached; 5 no forward could be opened;
6 every forward was refused as a loop; 7 no Node.js 20 or later on the host (nothing started).
`;
