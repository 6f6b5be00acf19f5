#!/usr/bin/env bash
# Stop the test cluster of tests/slurm/start_local_cluster.sh, by the PIDs it recorded:
# slurmd, slurmctld, and munged only if that script started it. Jobs still in the
# cluster are cancelled first, and /etc/slurm/slurm.conf is removed if that script wrote
# it. Idempotent: a daemon that is not running is skipped.
#
#   tests/slurm/stop_local_cluster.sh [STATE_DIR]      # default /tmp/sahel-eval-slurm
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

STATE="${1:-${SAHEL_EVAL_SLURM_DIR:-/tmp/sahel-eval-slurm}}"
CONF=/etc/slurm/slurm.conf
MARK="# Written by tests/slurm/start_local_cluster.sh: a one-node test cluster."
unset SLURM_CONF

# The PID in a PID file, if that process is alive and is the named daemon.
live_pid() {
  local pidfile=$1 name=$2 pid
  [ -s "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$name" ] && echo "$pid"
}

stop() {
  local pidfile=$1 name=$2 pid
  pid=$(live_pid "$pidfile" "$name") || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    [ -d "/proc/$pid" ] || break
    sleep 0.2
  done
  [ -d "/proc/$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  echo "stop_local_cluster: stopped $name (pid $pid)"
}

ours=false
[ -f "$CONF" ] && grep -qxF "$MARK" "$CONF" && ours=true
if $ours && live_pid "$STATE/slurmctld.pid" slurmctld >/dev/null; then
  jobs=$(timeout 10 squeue -h -t PENDING,RUNNING,CONFIGURING,COMPLETING -o %i 2>/dev/null || true)
  if [ -n "$jobs" ]; then
    # shellcheck disable=SC2086 # one argument per job id
    timeout 10 scancel $jobs 2>/dev/null || true
    sleep 1
  fi
fi
stop "$STATE/slurmd.pid" slurmd
stop "$STATE/slurmctld.pid" slurmctld
stop "$STATE/munged.pid" munged
if $ours; then rm -f "$CONF"; fi
