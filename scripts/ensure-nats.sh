#!/usr/bin/env bash
# Makes sure a NATS server with JetStream answers at 127.0.0.1:4222 (what the NATS relay tests
# expect): installs Debian's nats-server if it is missing, starts it if it is down. For CI and
# development machines, not for production.
set -euo pipefail

up() { (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null; }

if ! up; then
  if [ ! -x /usr/sbin/nats-server ]; then
    echo "ensure-nats: installing nats-server" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq nats-server >/dev/null
  fi
  echo "ensure-nats: starting nats-server with JetStream" >&2
  mkdir -p /var/lib/nats-server
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  for _ in $(seq 1 30); do up && break; sleep 1; done
fi

up
echo "ensure-nats: ready at 127.0.0.1:4222" >&2
