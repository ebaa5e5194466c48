#!/usr/bin/env bash
# Installs the Debian packages whose programs the tests run as real processes:
# docker-registry (distribution 2.8), mariadb-server, haproxy (the log's front-ends), softhsm2,
# openssl, chromium (headless),
# GNU time (peak memory of the binary's processes), and the signing tools whose signatures the
# Rekor v1 entry types are checked on (minisign, gpg, ssh-keygen).
# Does nothing when they are already present; needs root (or sudo) otherwise.
set -euo pipefail
need=()
command -v docker-registry >/dev/null 2>&1 || [ -x /usr/bin/docker-registry ] || need+=(docker-registry)
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
[ -e /usr/lib/softhsm/libsofthsm2.so ] || need+=(softhsm2)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -x /usr/bin/time ] || need+=(time)
command -v minisign >/dev/null 2>&1 || need+=(minisign)
command -v gpg >/dev/null 2>&1 || need+=(gnupg)
command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing: ${need[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
