#!/usr/bin/env bash
# Start a one-node Slurm cluster on this machine, to run workflow/profiles/slurm for real
# (tests/test_slurm_profile.py). Run as root; needs Debian's slurmctld, slurmd,
# slurm-client and munge (`make slurm` installs them). No systemd: the daemons are
# started by hand and stopped by PID with tests/slurm/stop_local_cluster.sh.
#
#   tests/slurm/start_local_cluster.sh [STATE_DIR]     # default /tmp/sahel-eval-slurm
#   sinfo; srun hostname
#
# Idempotent: when this cluster is already up it only says so ("already running").
# The configuration goes to /etc/slurm/slurm.conf, where every Slurm command looks
# (snakemake-executor-plugin-slurm-jobstep drops SLURM_CONF before its inner srun, so a
# configuration elsewhere is not found inside the jobs); an existing slurm.conf that
# this script did not write is never overwritten. Spool, logs and PID files are in
# STATE_DIR; munged uses its usual places (/run/munge; a key in /etc/munge is made only
# if the package left none).
#
# The cluster: one node named `hostname -s` (CPUs and memory as `slurmd -C` detects
# them), two partitions on it: `main` (the default) and `pipeline` (to test choosing a
# partition). No cgroups, no accounting (no slurmdbd): `sacct` does not work, so the
# profile asks for job states with `squeue`; MinJobAge=600 keeps finished jobs visible
# to squeue for 10 minutes.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

STATE="${1:-${SAHEL_EVAL_SLURM_DIR:-/tmp/sahel-eval-slurm}}"
CONF=/etc/slurm/slurm.conf
MARK="# Written by tests/slurm/start_local_cluster.sh"
unset SLURM_CONF
HOST="$(hostname -s)"

say() { echo "start_local_cluster: $*"; }
die() {
  echo "start_local_cluster: $*" >&2
  exit 1
}

# A PID file whose process is alive and is the named daemon (guards against PID reuse).
alive() {
  local pidfile=$1 name=$2 pid
  [ -s "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$name" ]
}

node_state() { sinfo -h -N -n "$HOST" -o %T 2>/dev/null | head -n1; }

[ "$(id -u)" = 0 ] || die "must run as root (it starts munged, slurmctld and slurmd)"
for exe in munged munge unmunge slurmctld slurmd sinfo sbatch squeue scontrol srun; do
  command -v "$exe" >/dev/null ||
    die "$exe not found: apt-get install slurmctld slurmd slurm-client munge (make slurm)"
done
if [ -e "$CONF" ] && ! grep -qxF "$MARK: a one-node test cluster." "$CONF"; then
  die "$CONF exists and was not written by this script: not touching a real cluster"
fi
mkdir -p "$STATE/spool/slurmctld" "$STATE/spool/slurmd" "$STATE/log" /etc/slurm

if alive "$STATE/slurmctld.pid" slurmctld && alive "$STATE/slurmd.pid" slurmd; then
  case "$(node_state)" in
    idle* | mixed* | allocated* | completing*)
      say "already running (node $HOST: $(node_state))"
      exit 0
      ;;
  esac
fi
# Half up (one daemon died, or the node is down): start again from a clean state.
bash "$(dirname "$0")/stop_local_cluster.sh" "$STATE" >/dev/null

# --- munge: Slurm's authentication. Reuse a running munged (e.g. the system's). -------
munge_ok() { munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; }
if ! munge_ok; then
  if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  mkdir -p /run/munge /var/lib/munge /var/log/munge
  chown munge:munge /etc/munge /etc/munge/munge.key /run/munge /var/lib/munge /var/log/munge
  chmod 0700 /etc/munge /var/lib/munge /var/log/munge
  chmod 0400 /etc/munge/munge.key
  chmod 0755 /run/munge
  runuser -u munge -- munged --pid-file=/run/munge/munged.pid
  for _ in $(seq 50); do munge_ok && break || sleep 0.2; done
  munge_ok || die "munged does not answer (see /var/log/munge/munged.log)"
  cp /run/munge/munged.pid "$STATE/munged.pid" # ours: the stop script ends it
  say "munged started (pid $(cat "$STATE/munged.pid"))"
fi

# --- slurm.conf ------------------------------------------------------------------------
# The node as slurmd detects it (a configured size larger than the real one drains it).
NODE="$(slurmd -C | head -n1)"
case "$NODE" in
  NodeName=*) ;;
  *) NODE="NodeName=$HOST CPUs=$(nproc) RealMemory=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024))" ;;
esac
NODE="$(echo "$NODE" | sed -E "s/^NodeName=[^ ]+/NodeName=$HOST/")"

cat >"$CONF" <<EOF
$MARK: a one-node test cluster.
# Stopped (and this file removed) by tests/slurm/stop_local_cluster.sh.
ClusterName=sahelevaltest
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$STATE/spool/slurmctld
SlurmdSpoolDir=$STATE/spool/slurmd
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
# No cgroups, no accounting database.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
# Finished jobs stay visible to squeue (the profile's status command) for 10 minutes.
MinJobAge=600
$NODE NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=main Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
PartitionName=pipeline Nodes=$HOST Default=NO MaxTime=INFINITE State=UP
EOF

# --- daemons -----------------------------------------------------------------------------
# -c: forget the state of a previous run of this test cluster (it was not running).
slurmctld -f "$CONF" -c
slurmd -f "$CONF"

state=""
for _ in $(seq 60); do
  state="$(node_state)"
  case "$state" in
    idle*) break ;;
    down* | drain*) scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 || true ;;
  esac
  sleep 0.5
done
case "$state" in
  idle*) ;;
  *) die "node $HOST is '${state:-unknown}' after 30 s; see $STATE/log/slurmctld.log and slurmd.log" ;;
esac
# One real job step, end to end (munge, slurmctld, slurmd, slurmstepd).
timeout 60 srun --quiet -N1 -n1 -t 1 true || die "srun of a trivial job failed; see $STATE/log/"
say "running: node $HOST idle, partitions main (default) and pipeline ($CONF)"
