#!/usr/bin/env bash
# A throw-away single-node Slurm cluster for the tests (Debian's slurm-wlm, authenticated by munge).
#   scripts/slurm.sh start   configures it in /tmp/sluice-test-slurm, starts munged, slurmctld and slurmd, and prints
#                            the SLURM_CONF path the Slurm commands need
#   scripts/slurm.sh stop    stops them and removes the directory
set -euo pipefail
dir=/tmp/sluice-test-slurm
conf=$dir/slurm.conf
host=$(hostname -s)

require() { command -v "$1" >/dev/null || { echo "$1 is not installed: scripts/setup-machine.sh --for-tests installs it" >&2; exit 69; }; }

stop_daemons() {
    for daemon in slurmd slurmctld munged; do
        [ -f "$dir/$daemon.pid" ] && kill "$(cat "$dir/$daemon.pid")" 2>/dev/null || true
    done
    # slurmd and slurmctld remove their pid files on exit; wait for that rather than a fixed time.
    for _ in $(seq 100); do
        [ -f "$dir/slurmd.pid" ] || [ -f "$dir/slurmctld.pid" ] || break
        sleep 0.1
    done
}

case "${1:-}" in
start)
    require slurmctld && require slurmd && require munged
    if [ -f "$dir/slurmd.pid" ] && kill -0 "$(cat "$dir/slurmd.pid")" 2>/dev/null; then echo "$conf"; exit 0; fi
    stop_daemons
    rm -rf "$dir" && mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
    chown munge: "$dir/munge" 2>/dev/null || true
    # Slurm checks the node's memory against RealMemory; declare a little less than there is.
    memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))
    cat > "$conf" <<EOF
ClusterName=sluicetest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CryptoType=crypto/munge
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPort=56817
SlurmdPort=56818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge=600
KillWait=5
# Every test job asks for one CPU; declaring more than the machine has lets a test's steps run side by side.
SlurmdParameters=config_overrides
NodeName=$host CPUs=8 RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    munged --socket="$dir/munge/munge.socket" --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" \
        --seed-file="$dir/munge/seed" --force
    SLURM_CONF=$conf slurmctld -f "$conf"
    SLURM_CONF=$conf slurmd -f "$conf"
    for _ in $(seq 300); do
        if SLURM_CONF=$conf sinfo --noheader --states=idle --format=%n 2>/dev/null | grep -q .; then echo "$conf"; exit 0; fi
        sleep 0.1
    done
    echo "Slurm did not become ready; see $dir/slurmctld.log and $dir/slurmd.log" >&2
    exit 1
    ;;
stop)
    stop_daemons
    rm -rf "$dir"
    ;;
*) echo "usage: $0 start|stop" >&2; exit 64 ;;
esac
