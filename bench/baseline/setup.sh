#!/bin/bash
# One-time setup of the baseline target (Debian 12 Postfix + Dovecot, loopback only).
# Usage: bench/baseline/setup.sh [NUM_USERS]   (default 13000; password "benchpass")
# Installs packages, writes /etc/dovecot/dovecot.conf, /etc/postfix/{main,master}.cf,
# the self-signed cert in /etc/ssl/bench, the passwd-file /etc/dovecot/bench-users,
# and the vmail user. Does not start anything (see start.sh).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
NUM_USERS="${1:-13000}"
PASS="${BENCH_PASSWORD:-benchpass}"
SCHEME="${BENCH_PASS_SCHEME:-SHA512-CRYPT}"   # chatmail stores SHA512-CRYPT hashes

if ! dpkg -s postfix dovecot-core dovecot-imapd dovecot-lmtpd >/dev/null 2>&1; then
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  echo "postfix postfix/mailname string bench.test" | debconf-set-selections
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postfix dovecot-core dovecot-imapd dovecot-lmtpd openssl
fi

getent group vmail >/dev/null || groupadd -g 5000 vmail
getent passwd vmail >/dev/null || useradd -u 5000 -g vmail -d /var/vmail -s /usr/sbin/nologin -M vmail
mkdir -p /var/vmail && chown vmail:vmail /var/vmail

mkdir -p /etc/ssl/bench
if [ ! -s /etc/ssl/bench/cert.pem ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=bench.test" \
    -addext "subjectAltName=DNS:bench.test,DNS:mx.bench.test,IP:127.0.0.1" \
    -keyout /etc/ssl/bench/key.pem -out /etc/ssl/bench/cert.pem 2>/dev/null
  chmod 600 /etc/ssl/bench/key.pem
fi

for f in /etc/dovecot/dovecot.conf /etc/postfix/main.cf /etc/postfix/master.cf; do
  [ -e "$f" ] && [ ! -e "$f.orig-bench" ] && cp -a "$f" "$f.orig-bench"
done
install -m 644 "$HERE/dovecot.conf" /etc/dovecot/dovecot.conf
install -m 644 "$HERE/main.cf" /etc/postfix/main.cf
install -m 644 "$HERE/master.cf" /etc/postfix/master.cf
: > /etc/dovecot/bench-extra.conf

# passwd-file userdb/passdb: one shared hash (same password for everyone)
HASH="$(doveadm pw -s "$SCHEME" -p "$PASS")"
awk -v n="$NUM_USERS" -v h="$HASH" 'BEGIN { for (i = 1; i <= n; i++) printf "u%05d@bench.test:%s::::::\n", i, h }' \
  > /etc/dovecot/bench-users.tmp
mv /etc/dovecot/bench-users.tmp /etc/dovecot/bench-users
chown root:dovecot /etc/dovecot/bench-users && chmod 640 /etc/dovecot/bench-users

newaliases 2>/dev/null || true
postfix check
doveconf -n >/dev/null
echo "setup done: $NUM_USERS users u00001..u$(printf %05d "$NUM_USERS")@bench.test / $PASS ($SCHEME)"
