#!/usr/bin/env bash
# Makes sure the bench's outside tools are present: iperf3, the OpenSSH client and server,
# proxychains4 (iperf3 through the SOCKS5 proxies), and sshd's privilege separation directory. Installs with apt-get only what is missing (running
# `apt-get update` first only then). Changes no sshd configuration: the bench runs its own sshd
# with a private config on a loopback port.
set -euo pipefail

missing=()
command -v iperf3 >/dev/null 2>&1 || missing+=(iperf3)
command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)
command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v proxychains4 >/dev/null 2>&1 || missing+=(proxychains4)

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	sudo=(sudo)
fi

if [ "${#missing[@]}" -gt 0 ]; then
	# shellcheck disable=SC2207
	packages=($(printf '%s\n' "${missing[@]}" | sort -u))
	echo "bench/setup.sh: installing ${packages[*]}" >&2
	"${sudo[@]}" apt-get update -qq
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}"
fi

# sshd refuses to start without it; the Debian service creates it at boot, a container may not.
if [ ! -d /run/sshd ]; then
	"${sudo[@]}" mkdir -p -m 0755 /run/sshd
fi
