#!/usr/bin/env bash
# Installs the Debian packages the full test suite needs (run as root; idempotent).
# Real peers: kamailio (registrar/proxy, with its Outbound module), SIPp (sip-tester), coturn (STUN/TURN), baresip (far-end
# phone), miniupnpd + miniupnpc (UPnP IGD, NAT-PMP/PCP), nftables + iproute2 (namespaces and NAT),
# alsa-utils (the ALSA null/file plugins), openssl (test certificates), device-tree-compiler
# (checks board/pi-deskphone-overlay.dts), tcpdump (the OPTIONS bench's WIRE=1 response times on the wire).
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "install-test-deps.sh must run as root"; exit 1; }

# binary → package
declare -A NEED=(
  [kamailio]=kamailio
  [sipp]=sip-tester
  [turnserver]=coturn
  [turnutils_natdiscovery]=coturn
  [baresip]=baresip
  [miniupnpd]=miniupnpd
  [upnpc]=miniupnpc
  [nft]=nftables
  [ip]=iproute2
  [aplay]=alsa-utils
  [openssl]=openssl
  [dtc]=device-tree-compiler
  [pgrep]=procps
  [tcpdump]=tcpdump
)

missing=()
for bin in "${!NEED[@]}"; do
  command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] || missing+=("${NEED[$bin]}")
done
# Files that come in their own package: kamailio's SIP Outbound module (RFC 5626 lab tests).
compgen -G '/usr/lib/*/kamailio/modules/outbound.so' >/dev/null || missing+=(kamailio-outbound-modules)
if [ "${#missing[@]}" -eq 0 ]; then
  echo "test dependencies already installed"
  exit 0
fi
mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "installing: ${pkgs[*]}"

# The packaged services (coturn, kamailio, miniupnpd) must not start: tests run their own
# instances in namespaces. policy-rc.d with exit 101 tells invoke-rc.d not to start anything.
policy=/usr/sbin/policy-rc.d
had_policy=0
[ -e "$policy" ] && had_policy=1
if [ "$had_policy" = 0 ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod +x "$policy"
fi
cleanup() { [ "$had_policy" = 0 ] && rm -f "$policy"; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# miniupnpd asks debconf questions; answer them with defaults (noninteractive does).
apt-get install -y -q --no-install-recommends "${pkgs[@]}"
if apt-cache show miniupnpd-nftables >/dev/null 2>&1; then
  apt-get install -y -q --no-install-recommends miniupnpd-nftables || true
fi
echo "installed: ${pkgs[*]}"
