#!/usr/bin/env bash
# Installs deskphone-agent on a Raspberry Pi (Raspberry Pi OS Lite, 64-bit) from this checkout:
# Node.js and alsa-utils from Debian, the app under /opt/deskphone-agent, a system user,
# the device-tree overlay for the pi-deskphone board, and the systemd unit.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "run as root (sudo $0)"; exit 1; }
cd "$(dirname "$0")/.."
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm alsa-utils device-tree-compiler
npm ci --no-audit --no-fund
npm run build
npm prune --omit=dev
install -d /opt/deskphone-agent
cp -a package.json dist board node_modules README.md /opt/deskphone-agent/
id deskphone >/dev/null 2>&1 || useradd --system --home /var/lib/deskphone-agent --shell /usr/sbin/nologin deskphone
for g in input audio gpio; do getent group "$g" >/dev/null && usermod -aG "$g" deskphone; done
if [ -d /boot/firmware/overlays ]; then
  dtc -@ -I dts -O dtb -o /boot/firmware/overlays/deskphone.dtbo board/pi-deskphone-overlay.dts
  grep -q '^dtoverlay=deskphone' /boot/firmware/config.txt || echo 'dtoverlay=deskphone' >> /boot/firmware/config.txt
fi
install -m 0644 systemd/deskphone-agent.service /etc/systemd/system/deskphone-agent.service
systemctl daemon-reload
systemctl enable --now deskphone-agent
echo "installed; set the admin password with: sudo -u deskphone node /opt/deskphone-agent/dist/src/cli.js admin set-password --data-dir /var/lib/deskphone-agent"
echo "a reboot applies the device-tree overlay"
