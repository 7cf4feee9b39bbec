#!/usr/bin/env bash
# The request budget of `kubectl storage-doctor` on a live cluster: how many
# API requests a scan and a single target cost, and how long they take, next
# to what kubectl spends reading the same lists or triaging by hand.
#
#   scripts/request-budget.sh          start a fresh control plane in a temp
#                                      dir, load it, measure, stop it
#   scripts/request-budget.sh DIR      use the cluster scripts/live-cluster.sh
#                                      started in DIR (loaded once; kept running;
#                                      measure (e) leaves it with more broken pods)
#
# Environment: RUNS (timed runs per measure, default 5), TRIAGE_RUNS (passes
# of the by-hand triage, default 3), PODS, CLAIMS, VOLUMES, NODES, EVENTS
# (the generated cluster, default 2000/800/800/20/10000), KEEP=1 (leave a
# cluster this script started running, and its files), BASELINE=PATH
# (another build of the tool, e.g. an earlier release, measured beside this
# one for the scan and the target). The Markdown table goes to stdout and
# to DIR/request-budget/results.md; progress to stderr.
#
# What it does, and why:
#   1. The cluster is scripts/live-cluster.sh's: a real kube-apiserver 1.20.2
#      (with an audit log of every request), etcd, controller-manager and
#      scheduler on loopback, no kubelet.
#   2. crates/synth's `synth` writes a cluster (--for-create: without the fields
#      only a server sets) that `kubectl create -f` loads in Lists of 500.
#      The controllers then do their part (the PV controller binds the claims,
#      the attach/detach controller creates the VolumeAttachments, the
#      scheduler places what has no node), and a helper plays the parts that
#      have no process here: the kubelet (node and pod status) and the CSI
#      external-attacher (VolumeAttachment status), with the statuses the
#      generator wrote for them.
#   3. Measures: (a) the scan, with the bytes its answers hold and its peak
#      memory, (b) kubectl's plain fetch of the same lists, (c) `kubectl
#      describe` of each broken pod and its claims, (d) one target against
#      one `kubectl describe pod`, (e) the scan again with more than twice
#      the broken pods, (f) how far the watch cache trails a write (see
#      BENCHMARKS.md, "Request budget on a live cluster").
#   4. Every measured command runs as the user `doctor`, who holds only the
#      ClusterRole of examples/rbac.yaml (kubectl included: that role covers
#      every list and describe below). Requests are counted twice for the
#      tool (its `-v` total, and the audit log) and from the audit log for
#      kubectl: the entries of user doctor at stage ResponseComplete between
#      two marker requests made by the admin around each run.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-5}
TRIAGE_RUNS=${TRIAGE_RUNS:-3}
PODS=${PODS:-2000}
CLAIMS=${CLAIMS:-800}
VOLUMES=${VOLUMES:-800}
NODES=${NODES:-20}
EVENTS=${EVENTS:-10000}
# The kinds the tool lists in a scan (src/source/live.rs), as kubectl names them.
KINDS=(pods pvc pv storageclasses nodes events volumeattachments csidrivers csinodes
    csistoragecapacities resourcequotas limitranges deployments replicasets
    statefulsets daemonsets jobs cronjobs leases)

log() { printf 'request-budget: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 2
}

usage() {
    sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
}

case ${1:-} in
-h | --help)
    usage
    exit 0
    ;;
esac
[[ $# -le 1 ]] || {
    usage >&2
    exit 2
}
command -v python3 >/dev/null || die "python3 is needed (JSON and audit-log processing)"

# ---------------------------------------------------------------- binaries

log "building the release binary and the generator"
cargo build --locked --release --bin kubectl-storage_doctor >&2
cargo build --locked --release -p storage-doctor-synth --bin synth >&2
TARGET_DIR=$(cargo metadata --locked --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
DOCTOR=$TARGET_DIR/release/kubectl-storage_doctor
SYNTH=$TARGET_DIR/release/synth
[[ -x $DOCTOR && -x $SYNTH ]] || die "cargo built no $DOCTOR or $SYNTH"
BASELINE=${BASELINE:-}
[[ -z $BASELINE || -x $BASELINE ]] || die "BASELINE=$BASELINE is not an executable"

# ---------------------------------------------------------------- the cluster

started_here=0
if [[ $# -eq 1 ]]; then
    CLUSTER=$(cd "$1" && pwd -P)
    [[ -f $CLUSTER/env ]] || die "$CLUSTER/env missing: start the cluster with scripts/live-cluster.sh start $CLUSTER"
    scripts/live-cluster.sh status "$CLUSTER" >&2 || die "the cluster in $CLUSTER is not running"
else
    scripts/live-cluster.sh build >/dev/null
    CLUSTER=$(mktemp -d "${TMPDIR:-/tmp}/request-budget.XXXXXX")
    started_here=1
fi

PROXY_PID=
cleanup() {
    local rc=$?
    if [[ -n $PROXY_PID ]]; then
        kill "$PROXY_PID" 2>/dev/null || true
        wait "$PROXY_PID" 2>/dev/null || true
    fi
    if [[ $started_here -eq 1 ]]; then
        if [[ ${KEEP:-0} == 1 ]]; then
            log "cluster left running: scripts/live-cluster.sh stop $CLUSTER"
        else
            scripts/live-cluster.sh stop "$CLUSTER" >/dev/null 2>&1 || true
            # About 400 MB (etcd, audit log, generated files, outputs): kept
            # only when something failed, to see why.
            if [[ $rc -eq 0 ]]; then
                rm -rf "$CLUSTER"
            else
                log "the cluster's files are kept in $CLUSTER"
            fi
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT

if [[ $started_here -eq 1 ]]; then
    log "starting a control plane in $CLUSTER"
    scripts/live-cluster.sh start "$CLUSTER" >/dev/null
fi
set +u
# shellcheck disable=SC1091 # written by live-cluster.sh start
source "$CLUSTER/env"
set -u
WORK=$CLUSTER/request-budget
mkdir -p "$WORK"
AUDIT=$LIVE_AUDIT_LOG
ADMIN=("$KUBECTL" --kubeconfig "$ADMIN_KUBECONFIG")
# kubectl as the least-privilege user, with its own discovery cache (warmed
# before each series: kubectl 1.20 keeps discovery for 10 minutes).
KDOC=("$KUBECTL" --kubeconfig "$DOCTOR_KUBECONFIG" --cache-dir "$WORK/kubectl-cache")
TOOL=("$DOCTOR" --kubeconfig "$DOCTOR_KUBECONFIG")
BASE_TOOL=("$BASELINE" --kubeconfig "$DOCTOR_KUBECONFIG")

# ---------------------------------------------------------------- helpers

now_ms() {
    local t=${EPOCHREALTIME/[.,]/}
    echo $((t / 1000))
}

# A request by the admin that the audit log records with a name of our own:
# what is between two of them is one measured run.
mark() {
    "${ADMIN[@]}" get --raw "/api/v1/namespaces/default/configmaps/$1" >/dev/null 2>&1 || true
}

# audit_count OFFSET BEGIN END: requests of user doctor between the two
# marks, reading the log from byte OFFSET (its size before BEGIN), and
# "count verb resource" of them in $WORK/last-audit.txt. Waits for END to
# reach the log, since the log backend writes after the response.
audit_count() {
    python3 - "$AUDIT" "$1" "$2" "$3" "$WORK/last-audit.txt" <<'EOF'
import collections, json, os, sys, time
path, offset, begin, end, detail = sys.argv[1:6]
offset = int(offset)
deadline = time.time() + 20
while True:
    inside, seen_end, n = False, False, 0
    kinds = collections.Counter()
    with open(path, encoding="utf-8", errors="replace") as f:
        # Rotated meanwhile (--audit-log-maxsize): the new file from its start.
        f.seek(offset if os.path.getsize(path) >= offset else 0)
        for line in f:
            if begin in line and '"ResponseComplete"' in line:
                inside, n, kinds = True, 0, collections.Counter()
                continue
            if not inside:
                continue
            if end in line and '"ResponseComplete"' in line:
                seen_end = True
                break
            e = json.loads(line)
            if e.get("stage") == "ResponseComplete" and e["user"]["username"] == "doctor":
                n += 1
                ref = e.get("objectRef") or {}
                kinds[f'{e["verb"]} {ref.get("resource") or e["requestURI"].split("?")[0]}'] += 1
    if seen_end:
        break
    if time.time() > deadline:
        sys.exit(f"audit log: no entry for {end} after 20 s")
    time.sleep(0.2)
with open(detail, "w") as out:
    for k, v in sorted(kinds.items()):
        print(v, k, file=out)
print(n)
EOF
}

# Each takes one string of space-separated numbers (a series).
median() { python3 -c 'import statistics, sys; print(round(statistics.median(float(x) for x in " ".join(sys.argv[1:]).split())))' "$@"; }
minmax() { python3 -c 'import sys; v = [int(x) for x in " ".join(sys.argv[1:]).split()]; print(f"{min(v)}–{max(v)}")' "$@"; }
# "N" when every run made the same number of requests, "min–max" otherwise.
same_or_range() { python3 -c 'import sys; v = sorted(set(" ".join(sys.argv[1:]).split()), key=int); print(v[0] if len(v) == 1 else f"{v[0]}–{v[-1]}")' "$@"; }

# run_measured NAME CMD...: one run of CMD, stdout to $WORK/NAME.out, stderr
# to $WORK/NAME.err; appends its wall time (ms) and audit count to the
# series NAME. A non-zero exit is fine (the tool exits 1 when something is
# broken); 2 and up from the tool, or a kubectl failure, is not.
declare -A TIMES AUDITS VTOTALS
RUN_SEQ=0
run_measured() {
    local name=$1 offset begin end t0 t1 rc=0 n
    shift
    RUN_SEQ=$((RUN_SEQ + 1))
    begin=request-budget-$$-$RUN_SEQ-begin
    end=request-budget-$$-$RUN_SEQ-end
    offset=$(stat -c %s "$AUDIT")
    mark "$begin"
    t0=$(now_ms)
    "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
    t1=$(now_ms)
    mark "$end"
    if [[ $rc -ge 2 || ($rc -eq 1 && $1 != "$DOCTOR" && $1 != "$BASELINE") ]]; then
        tail -n 5 "$WORK/$name.err" >&2
        die "$name: $* exited $rc"
    fi
    n=$(audit_count "$offset" "$begin" "$end")
    TIMES[$name]+="$((t1 - t0)) "
    AUDITS[$name]+="$n "
    if [[ $1 == "$DOCTOR" || ($1 == "$BASELINE" && -n $BASELINE) ]]; then
        local v
        v=$(sed -n 's/^storage-doctor: \([0-9]*\) requests\{0,1\} in [0-9]* ms$/\1/p' "$WORK/$name.err" | tail -n1)
        [[ -n $v ]] || die "$name: no request total on stderr (-v)"
        VTOTALS[$name]+="$v "
    fi
}

# series NAME RUNS CMD...: a warm-up run (its audit count kept as NAME.cold),
# then RUNS timed runs.
series() {
    local name=$1 runs=$2 i
    shift 2
    run_measured "$name.cold" "$@"
    cp "$WORK/last-audit.txt" "$WORK/$name.cold.audit.txt"
    for ((i = 0; i < runs; i++)); do
        run_measured "$name" "$@"
    done
    cp "$WORK/last-audit.txt" "$WORK/$name.audit.txt"
    log "$name: $(median "${TIMES[$name]}") ms median of ${TIMES[$name]}; audit requests ${AUDITS[$name]}${VTOTALS[$name]:+; -v totals ${VTOTALS[$name]}}"
}

# The tool's summary and its broken pods, from a JSON report.
report_summary() {
    python3 - "$1" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["summary"]
pods = sum(1 for f in r["findings"] if f["subject"]["kind"] == "Pod" and f["severity"] in ("error", "critical"))
print(f'{s["subjects"]} {s["broken"]} {s["warnings"]} {s["info"]} {pods}')
EOF
}

# ---------------------------------------------------------------- load

load_cluster() {
    local synth=$WORK/synth
    mkdir -p "$synth"
    log "generating $PODS pods, $CLAIMS claims, $VOLUMES volumes, $NODES nodes, $EVENTS events"
    local size=(--pods "$PODS" --claims "$CLAIMS" --volumes "$VOLUMES" --nodes "$NODES" --events "$EVENTS")
    "$SYNTH" "${size[@]}" --for-create --list-injected -o "$synth/create.json" 2>"$synth/create.txt"
    # The same cluster with the fields a server sets: the statuses the
    # kubelet and the attacher play below.
    "$SYNTH" "${size[@]}" --compact --no-managed-fields -o "$synth/status.json" 2>/dev/null
    head -n1 "$synth/create.txt" >&2

    # Lists of 500 in dependency order: namespaces; cluster-scoped objects;
    # claims; pods; then the workloads, which adopt the pods already there
    # (created first, a ReplicaSet or StatefulSet would make pods of its
    # own); events last. VolumeAttachments are left to the attach/detach
    # controller, which names them its own way.
    python3 - "$synth/create.json" "$synth" <<'EOF'
import json, sys
src, out = sys.argv[1:3]
items = json.load(open(src))["items"]
phase = {"StorageClass": 1, "CSIDriver": 1, "Node": 1, "CSINode": 1, "PersistentVolume": 1,
         "PersistentVolumeClaim": 2, "Pod": 3, "ReplicaSet": 4, "Deployment": 5,
         "StatefulSet": 5, "Event": 6}
builtin = {"default", "kube-system", "kube-public", "kube-node-lease"}
spaces = sorted({i["metadata"]["namespace"] for i in items if "namespace" in i["metadata"]} - builtin)
def write(name, chunk):
    json.dump({"apiVersion": "v1", "kind": "List", "items": chunk}, open(f"{out}/{name}.json", "w"))
write("0-namespaces", [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in spaces])
groups = {}
for i in items:
    if i["kind"] in phase:
        groups.setdefault(phase[i["kind"]], []).append(i)
for p, chunk in sorted(groups.items()):
    for c in range(0, len(chunk), 500):
        write(f"{p}-{c // 500:03d}", chunk[c:c + 500])
EOF
    local t0=$SECONDS f ns
    "${ADMIN[@]}" apply -f examples/rbac.yaml >/dev/null
    "${ADMIN[@]}" create clusterrolebinding storage-doctor-doctor \
        --clusterrole=storage-doctor --user=doctor --dry-run=client -o yaml |
        "${ADMIN[@]}" apply -f - >/dev/null
    "${ADMIN[@]}" create -f "$synth/0-namespaces.json" >/dev/null
    # Pods are refused until their namespace has its default ServiceAccount.
    for ns in $(python3 -c 'import json, sys; print(" ".join(i["metadata"]["name"] for i in json.load(open(sys.argv[1]))["items"]))' "$synth/0-namespaces.json"); do
        until "${ADMIN[@]}" -n "$ns" get serviceaccount default >/dev/null 2>&1; do sleep 0.5; done
    done
    # --validate=false: kubectl 1.20 rejects fields newer than itself
    # (CSIDriver seLinuxMount); the server drops them.
    for f in "$synth"/[1-5]-*.json; do
        "${ADMIN[@]}" create --validate=false -f "$f" >/dev/null
    done
    log "loaded everything but the events in $((SECONDS - t0)) s; events, 3 kubectl at a time"
    find "$synth" -name '6-*.json' -print0 | sort -z |
        xargs -0 -P 3 -n 1 "${ADMIN[@]}" create --validate=false -f >/dev/null
    log "loaded in $((SECONDS - t0)) s"
}

# The kubelet's and the external-attacher's part, through `kubectl proxy`
# (the admin's credentials stay with kubectl).
play_node_side() {
    : >"$WORK/proxy.out"
    "${ADMIN[@]}" proxy --port=0 >"$WORK/proxy.out" 2>&1 &
    PROXY_PID=$!
    local port="" i
    for ((i = 0; i < 100; i++)); do
        port=$(sed -n 's/^Starting to serve on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/proxy.out")
        [[ -z $port ]] || break
        sleep 0.1
    done
    [[ -n $port ]] || die "kubectl proxy did not start: $(cat "$WORK/proxy.out")"
    python3 - "http://127.0.0.1:$port" "$WORK/synth/status.json" <<'EOF'
import json, sys, time, urllib.error, urllib.request
from concurrent.futures import ThreadPoolExecutor
base, status_file = sys.argv[1:3]
items = json.load(open(status_file))["items"]

def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=None if body is None else json.dumps(body).encode())
    if body is not None:
        req.add_header("Content-Type", "application/merge-patch+json")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        if e.code == 404:  # deleted meanwhile by a controller
            return None
        raise

def patch_all(calls):
    with ThreadPoolExecutor(4) as pool:
        return sum(1 for r in pool.map(lambda c: call("PATCH", *c), calls) if r is not None)

def log(msg):
    print(f"request-budget: {msg}", file=sys.stderr, flush=True)

# Kubelets: node status (capacity, conditions, addresses).
nodes = [i for i in items if i["kind"] == "Node"]
node_calls = [(f"/api/v1/nodes/{n['metadata']['name']}/status", {"status": n["status"]}) for n in nodes]
log(f"kubelet: {patch_all(node_calls)} node statuses")

# Pods of a StatefulSet carry the revision of the set that made them;
# without it the controller would replace each running pod by a new one.
sets = [i for i in items if i["kind"] == "StatefulSet"]
revision = {}
deadline = time.time() + 120
while len(revision) < len(sets) and time.time() < deadline:
    for s in sets:
        m = s["metadata"]
        got = call("GET", f"/apis/apps/v1/namespaces/{m['namespace']}/statefulsets/{m['name']}")
        rev = (got or {}).get("status", {}).get("updateRevision")
        if rev:
            revision[(m["namespace"], m["name"])] = rev
    if len(revision) < len(sets):
        time.sleep(2)
labels = []
for p in (i for i in items if i["kind"] == "Pod"):
    m = p["metadata"]
    for o in m.get("ownerReferences", []):
        rev = revision.get((m["namespace"], o["name"])) if o["kind"] == "StatefulSet" else None
        if rev:
            labels.append((f"/api/v1/namespaces/{m['namespace']}/pods/{m['name']}",
                           {"metadata": {"labels": {"controller-revision-hash": rev,
                                                    "statefulset.kubernetes.io/pod-name": m["name"]}}}))
log(f"statefulsets: {len(revision)}/{len(sets)} revisions, {patch_all(labels)} pods labelled")

# Kubelets: the status of every pod that has a node (the scheduler's
# answers for the others are the cluster's own).
pods = [i for i in items if i["kind"] == "Pod" and i["spec"].get("nodeName")]
pod_calls = [(f"/api/v1/namespaces/{p['metadata']['namespace']}/pods/{p['metadata']['name']}/status",
              {"status": p["status"]}) for p in pods]
log(f"kubelet: {patch_all(pod_calls)} pod statuses")

# External attacher: each VolumeAttachment the attach/detach controller
# creates gets the generator's answer for its volume and node (attached,
# or the attach error), or attached. Until none has come for 20 s.
answer = {(v["spec"]["source"]["persistentVolumeName"], v["spec"]["nodeName"]): v["status"]
          for v in items if v["kind"] == "VolumeAttachment"}
done, last_new, deadline = set(), time.time(), time.time() + 300
while time.time() - last_new < 20 and time.time() < deadline:
    todo = []
    for va in call("GET", "/apis/storage.k8s.io/v1/volumeattachments")["items"]:
        name = va["metadata"]["name"]
        if name in done:
            continue
        key = (va["spec"]["source"].get("persistentVolumeName"), va["spec"]["nodeName"])
        todo.append((f"/apis/storage.k8s.io/v1/volumeattachments/{name}/status",
                     {"status": answer.get(key, {"attached": True})}))
        done.add(name)
    if todo:
        patch_all(todo)
        last_new = time.time()
    time.sleep(2)
log(f"attacher: {len(done)} VolumeAttachments answered ({len(answer)} in the generated cluster)")
EOF
    kill "$PROXY_PID" 2>/dev/null || true
    wait "$PROXY_PID" 2>/dev/null || true
    PROXY_PID=
}

# Until three scans 10 s apart agree on the summary (the controllers have
# done what they do with the loaded objects), at most 5 minutes.
settle() {
    local last="" same=0 s deadline=$((SECONDS + 300))
    while [[ $SECONDS -lt $deadline ]]; do
        "${TOOL[@]}" -A -o json >"$WORK/settle.json" 2>/dev/null || [[ $? -eq 1 ]] || die "the tool failed while settling"
        s=$(report_summary "$WORK/settle.json")
        if [[ $s == "$last" ]]; then
            same=$((same + 1))
            [[ $same -lt 2 ]] || {
                log "settled: subjects broken warnings info broken-pods = $s"
                return 0
            }
        else
            same=0
            last=$s
            log "settling: subjects broken warnings info broken-pods = $s"
        fi
        sleep 10
    done
    log "not settled after 5 minutes; measuring anyway"
}

# Each step once per cluster: a DIR given again is measured as it is.
if [[ -f $WORK/loaded ]]; then
    log "$CLUSTER is loaded already ($WORK/loaded)"
else
    load_cluster
    touch "$WORK/loaded"
fi
if [[ ! -f $WORK/played ]]; then
    play_node_side
    touch "$WORK/played"
fi
settle

# ---------------------------------------------------------------- measure

count_objects() {
    # "kind count" for each kind of the scan, as the admin sees it now (0
    # for a kind the server does not serve).
    local k
    for k in "${KINDS[@]}"; do
        printf '%s %s\n' "$k" "$("${ADMIN[@]}" get "$k" -A --no-headers 2>/dev/null | wc -l)"
    done
}

# The requests of a `-v` log by what they read.
requests_by_kind() {
    python3 - "$1" <<'EOF'
import re, sys
events = lists = gets = 0
for line in open(sys.argv[1]):
    m = re.match(r"storage-doctor: #\d+ GET (\S+)", line)
    if not m:
        continue
    path = m.group(1).split("?")[0]
    if path == "/version":
        gets += 1
    elif path.endswith("/events"):
        events += 1
    else:
        lists += 1
print(f"{gets} /version, {lists} LISTs of objects and {events} LISTs of events")
EOF
}

# The bytes of the answers to the GETs of a `-v` log, read again as the
# admin (JSON, uncompressed).
answer_bytes() {
    local path total=0 n
    while read -r path; do
        n=$("${ADMIN[@]}" get --raw "$path" 2>/dev/null | wc -c) || n=0
        total=$((total + n))
    done < <(sed -n 's/^storage-doctor: #[0-9]* GET \(\S*\) → 200.*/\1/p' "$1")
    echo "$total"
}

# Peak resident memory (KiB) of one run of CMD.
peak_kib() {
    /usr/bin/time -f '%M' -o "$WORK/time.txt" "$@" >/dev/null 2>&1 || true
    tail -n1 "$WORK/time.txt"
}

# "n rule, ..." of the broken pods of a report, by the rank-1 rule.
broken_pod_rules() {
    python3 - "$1" <<'EOF'
import collections, json, sys
r = json.load(open(sys.argv[1]))
c = collections.Counter(f["causes"][0]["rule"] for f in r["findings"]
                        if f["subject"]["kind"] == "Pod" and f["severity"] in ("error", "critical"))
print(", ".join(f"{n} {rule}" for rule, n in c.most_common()))
EOF
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
MEASURE_START=$SECONDS
count_objects >"$WORK/objects.txt"
log "objects: $(tr '\n' ' ' <"$WORK/objects.txt")"

# The kinds of the scan that this server serves (1.20 serves no
# csistoragecapacities; cronjobs only as batch/v1beta1, which kubectl reads
# and the tool, asking batch/v1, gets a 404 for).
served=$("${KDOC[@]}" api-resources -o name 2>/dev/null | sed 's/\..*//' | sort -u)
GET_KINDS=()
SKIPPED_KINDS=()
for k in "${KINDS[@]}"; do
    full=$k
    case $k in pvc) full=persistentvolumeclaims ;; pv) full=persistentvolumes ;; esac
    if grep -qx "$full" <<<"$served"; then GET_KINDS+=("$k"); else SKIPPED_KINDS+=("$k"); fi
done
GET_LIST=$(
    IFS=,
    echo "${GET_KINDS[*]}"
)

# a. the scan
log "a. kubectl-storage_doctor -A -o json, $RUNS runs"
series scan "$RUNS" "${TOOL[@]}" -A -o json -v
cp "$WORK/scan.out" "$WORK/scan.json"
SCAN_KINDS=$(requests_by_kind "$WORK/scan.err")
SCAN_BYTES=$(answer_bytes "$WORK/scan.err")
SCAN_PEAK=$(peak_kib "${TOOL[@]}" -A -o json)
log "a. $SCAN_KINDS; answers $SCAN_BYTES bytes; peak memory $SCAN_PEAK KiB"
if [[ -n $BASELINE ]]; then
    log "a0. the baseline $BASELINE, $RUNS runs"
    series scan0 "$RUNS" "${BASE_TOOL[@]}" -A -o json -v
    BASE_KINDS=$(requests_by_kind "$WORK/scan0.err")
    BASE_BYTES=$(answer_bytes "$WORK/scan0.err")
    BASE_PEAK=$(peak_kib "${BASE_TOOL[@]}" -A -o json)
fi
read -r SUBJECTS BROKEN WARNINGS INFOS BROKEN_PODS < <(report_summary "$WORK/scan.json")
GAPS=$(python3 -c 'import json, sys; print(", ".join("%s (%s)" % (g["resource"], g["reason"]) for g in json.load(open(sys.argv[1]))["gaps"]) or "none")' "$WORK/scan.json")

# b. kubectl's plain fetch of the same lists
log "b. kubectl get $GET_LIST -A -o json, $RUNS runs"
series get "$RUNS" "${KDOC[@]}" get "$GET_LIST" -A -o json

# c. by hand: describe each broken pod and each of its claims
python3 - "$WORK/scan.json" >"$WORK/triage.txt" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
for f in r["findings"]:
    s = f["subject"]
    if s["kind"] != "Pod" or f["severity"] not in ("error", "critical"):
        continue
    print("pod", s["namespace"], s["name"])
    claims = []
    for link in f["chain"]:
        if link["kind"] == "PersistentVolumeClaim" and link["name"] not in claims:
            claims.append(link["name"])
    for c in claims:
        print("pvc", s["namespace"], c)
EOF
TRIAGE_PODS=$(grep -c '^pod ' "$WORK/triage.txt" || true)
TRIAGE_CLAIMS=$(grep -c '^pvc ' "$WORK/triage.txt" || true)
triage() {
    local kind ns name failed=0
    while read -r kind ns name; do
        # A claim that does not exist is looked for all the same.
        "${KDOC[@]}" -n "$ns" describe "$kind" "$name" </dev/null || [[ $kind == pvc ]] || failed=1
    done <"$WORK/triage.txt"
    return "$failed"
}
log "c. by hand: describe $TRIAGE_PODS pods and $TRIAGE_CLAIMS claims, $TRIAGE_RUNS passes"
series triage "$TRIAGE_RUNS" triage

# d. one target: a broken pod of the namespace with the most pods (the
# target read lists the pods and claims of its namespace)
read -r TARGET_NS TARGET_POD TARGET_NS_PODS < <(python3 - "$WORK/scan.json" "$WORK/synth/create.json" <<'EOF'
import collections, json, sys
r = json.load(open(sys.argv[1]))
count = collections.Counter(i["metadata"]["namespace"] for i in json.load(open(sys.argv[2]))["items"] if i["kind"] == "Pod")
pods = [f["subject"] for f in r["findings"] if f["subject"]["kind"] == "Pod" and f["severity"] in ("error", "critical")]
best = max(pods, key=lambda s: (count[s["namespace"]], s["namespace"], s["name"]))
print(best["namespace"], best["name"], count[best["namespace"]])
EOF
)
log "d. pod/$TARGET_POD -n $TARGET_NS ($TARGET_NS_PODS pods in the namespace), $RUNS runs each"
series target "$RUNS" "${TOOL[@]}" -n "$TARGET_NS" "pod/$TARGET_POD" -o json -v
series describe "$RUNS" "${KDOC[@]}" -n "$TARGET_NS" describe pod "$TARGET_POD"
series target_consistent "$RUNS" "${TOOL[@]}" -n "$TARGET_NS" "pod/$TARGET_POD" -o json -v --consistent
if [[ -n $BASELINE ]]; then
    series target0 "$RUNS" "${BASE_TOOL[@]}" -n "$TARGET_NS" "pod/$TARGET_POD" -o json -v
fi

# e. more broken pods, the same objects: a clean-up gone wrong deletes the
# StorageClass of the StatefulSets' claims, then the claims of running
# StatefulSet pods, and force-deletes those pods. The StatefulSet controller
# makes each pod and its claim again; the claim names a class that is gone,
# so the pod cannot be scheduled. One pod per StatefulSet: an OrderedReady
# set makes no pod after one that is not Ready. The pods and claims number
# the same as before; one class less, and the volumes of the deleted claims
# are detached.
WANT_MORE=$((BROKEN_PODS * 3 / 2))
"${ADMIN[@]}" get pods -A -o json >"$WORK/pods.json"
"${ADMIN[@]}" get pvc -A -o json >"$WORK/claims.json"
python3 - "$WORK/scan.json" "$WANT_MORE" "$WORK/pods.json" "$WORK/claims.json" >"$WORK/break.txt" <<'EOF'
import collections, json, sys
report, want, pods, claims = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
reported = {(f["subject"].get("namespace"), f["subject"]["name"]) for f in json.load(open(report))["findings"]}
class_of = {(c["metadata"]["namespace"], c["metadata"]["name"]): c["spec"].get("storageClassName")
            for c in json.load(open(claims))["items"]}
picked, sets = [], set()
for p in sorted(json.load(open(pods))["items"], key=lambda p: (p["metadata"]["namespace"], p["metadata"]["name"])):
    m = p["metadata"]
    owner = [o["name"] for o in m.get("ownerReferences", []) if o["kind"] == "StatefulSet"]
    mine = [v["persistentVolumeClaim"]["claimName"] for v in p["spec"].get("volumes", []) if "persistentVolumeClaim" in v]
    if not owner or not mine or p["status"].get("phase") != "Running":
        continue
    if (m["namespace"], m["name"]) in reported or (m["namespace"], owner[0]) in sets:
        continue
    sets.add((m["namespace"], owner[0]))
    picked.append((m["namespace"], m["name"], mine))
    if len(picked) >= want:
        break
classes = collections.Counter(class_of.get((ns, c)) for ns, _, mine in picked for c in mine)
print("class", classes.most_common(1)[0][0], "-")
for ns, pod, mine in picked:
    print(ns, pod, " ".join(mine))
EOF
read -r _ BREAK_CLASS _ <"$WORK/break.txt"
log "e. deleting StorageClass $BREAK_CLASS, then the claims of $(($(wc -l <"$WORK/break.txt") - 1)) running StatefulSet pods, and the pods"
"${ADMIN[@]}" delete storageclass "$BREAK_CLASS" --ignore-not-found >/dev/null
while read -r ns pod claims; do
    [[ $ns != class ]] || continue
    # shellcheck disable=SC2086 # one or more claim names
    "${ADMIN[@]}" -n "$ns" delete pvc $claims --wait=false >/dev/null
    "${ADMIN[@]}" -n "$ns" delete pod "$pod" --grace-period=0 --force >/dev/null 2>&1
done <"$WORK/break.txt"
# Until the controllers have made every pod again and two scans 10 s apart
# agree, at most 4 minutes.
PODS_BEFORE=$(awk '$1 == "pods" { print $2 }' "$WORK/objects.txt")
deadline=$((SECONDS + 240))
last=""
while :; do
    sleep 10
    "${TOOL[@]}" -A -o json >"$WORK/settle.json" 2>/dev/null || [[ $? -eq 1 ]] || die "the tool failed"
    read -r _ _ _ _ now_broken < <(report_summary "$WORK/settle.json")
    pods_now=$("${ADMIN[@]}" get pods -A --no-headers | wc -l)
    log "e. $now_broken broken pods, $pods_now pods"
    if [[ $pods_now -eq $PODS_BEFORE && $now_broken == "$last" ]] || [[ $SECONDS -ge $deadline ]]; then
        break
    fi
    last=$now_broken
done
count_objects >"$WORK/objects2.txt"
log "e. kubectl-storage_doctor -A -o json again, $RUNS runs"
series scan2 "$RUNS" "${TOOL[@]}" -A -o json -v
cp "$WORK/scan2.out" "$WORK/scan2.json"
read -r _ BROKEN2 _ _ BROKEN_PODS2 < <(report_summary "$WORK/scan2.json")

# f. how far the watch cache trails a write: a ConfigMap created, then
# listed with resourceVersion=0 (field-selected by name) until it shows.
log "f. watch cache lag, 20 writes"
: >"$WORK/proxy.out"
"${ADMIN[@]}" proxy --port=0 >"$WORK/proxy.out" 2>&1 &
PROXY_PID=$!
port=""
for ((i = 0; i < 100; i++)); do
    port=$(sed -n 's/^Starting to serve on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/proxy.out")
    [[ -z $port ]] || break
    sleep 0.1
done
[[ -n $port ]] || die "kubectl proxy did not start: $(cat "$WORK/proxy.out")"
LAG=$(
    python3 - "http://127.0.0.1:$port" <<'EOF'
import json, statistics, sys, time, urllib.request
base = sys.argv[1]
def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=None if body is None else json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)
lags = []
for i in range(20):
    name = f"cache-lag-{time.time_ns()}"
    call("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": name}})
    written = time.monotonic()
    while not call("GET", "/api/v1/namespaces/default/configmaps?resourceVersion=0"
                   f"&fieldSelector=metadata.name%3D{name}")["items"]:
        pass
    lags.append((time.monotonic() - written) * 1000)
    call("DELETE", f"/api/v1/namespaces/default/configmaps/{name}")
print(f"{statistics.median(lags):.1f} ms median, {max(lags):.1f} ms at most")
EOF
)
kill "$PROXY_PID" 2>/dev/null || true
wait "$PROXY_PID" 2>/dev/null || true
PROXY_PID=
log "f. the watch cache trails a write by $LAG"

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
MEASURE_SECONDS=$((SECONDS - MEASURE_START))
RULES=$(broken_pod_rules "$WORK/scan.json")
RULES2=$(broken_pod_rules "$WORK/scan2.json")
# The counts that changed between (a) and (e).
CHANGED=$(awk 'NR == FNR { before[$1] = $2; next }
    before[$1] != $2 { printf "%s%s %s → %s", (n++ ? ", " : ""), $1, before[$1], $2 }' \
    "$WORK/objects.txt" "$WORK/objects2.txt")

# ---------------------------------------------------------------- report

row() {
    # row WHAT COMMAND NAME
    local what=$1 cmd=$2 name=$3 v="—"
    [[ -z ${VTOTALS[$name]:-} ]] || v=$(same_or_range "${VTOTALS[$name]}")
    # shellcheck disable=SC2016 # the backquotes are Markdown's
    printf '| %s | `%s` | %s | %s | %s (%s) |\n' "$what" "$cmd" "$v" \
        "$(same_or_range "${AUDITS[$name]}")" "$(median "${TIMES[$name]}")" "$(minmax "${TIMES[$name]}")"
}
med() { median "${TIMES[$1]}"; }
aud() { median "${AUDITS[$1]}"; }
verdict() { if [[ $1 -le $2 ]]; then echo met; else echo "not met"; fi; }
version_of() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]]["gitVersion"])' "$1"; }

{
    echo "Cluster: kube-apiserver $("${ADMIN[@]}" version -o json 2>/dev/null | version_of serverVersion) on loopback (scripts/live-cluster.sh), $(nproc) CPUs shared by the control plane and the clients; load average (1, 5, 15 min) $LOAD_BEFORE before and $LOAD_AFTER after the $MEASURE_SECONDS s of measures."
    echo "Every command ran as user \`doctor\` (only the ClusterRole \`storage-doctor\` of examples/rbac.yaml); kubectl $("$KUBECTL" version --client -o json | version_of clientVersion), discovery cache warm; release build of kubectl-storage_doctor."
    echo
    echo "Objects: $(awk '$2 > 0 { printf "%s%s %s", (n++ ? ", " : ""), $2, $1 }' "$WORK/objects.txt")."
    echo "Scan (a): $SUBJECTS subjects, $BROKEN broken ($BROKEN_PODS pods: $RULES), $WARNINGS warnings, $INFOS info; gaps: $GAPS."
    echo "Scan (e), after deleting StorageClass $BREAK_CLASS and $(($(wc -l <"$WORK/break.txt") - 1)) running StatefulSet pods with their claims (made again by the controller): $BROKEN2 broken ($BROKEN_PODS2 pods: $RULES2); object counts changed: ${CHANGED:-none}."
    echo
    echo "| measure | command | requests (\`-v\`) | requests (audit log) | wall ms, median (min–max) |"
    echo "|---|---|---:|---:|---:|"
    [[ -z $BASELINE ]] || row "a0. scan by the baseline, $RUNS runs" "$(basename "$BASELINE") -A -o json" scan0
    row "a. scan, $RUNS runs" "kubectl-storage_doctor -A -o json" scan
    row "b. kubectl, the same lists, $RUNS runs" "kubectl get $GET_LIST -A -o json" get
    row "c. by hand: $TRIAGE_PODS broken pods and their $TRIAGE_CLAIMS claims, $TRIAGE_RUNS passes" "kubectl describe pod X; kubectl describe pvc Y (each)" triage
    [[ -z $BASELINE ]] || row "d0. one target by the baseline, $RUNS runs" "$(basename "$BASELINE") -n $TARGET_NS pod/$TARGET_POD -o json" target0
    row "d. one target, $RUNS runs" "kubectl-storage_doctor -n $TARGET_NS pod/$TARGET_POD -o json" target
    row "d. one target, consistent reads, $RUNS runs" "kubectl-storage_doctor -n $TARGET_NS pod/$TARGET_POD -o json --consistent" target_consistent
    row "d. one describe, $RUNS runs" "kubectl describe pod $TARGET_POD -n $TARGET_NS" describe
    row "e. scan, $BROKEN2 broken ($BROKEN_PODS2 pods), $RUNS runs" "kubectl-storage_doctor -A -o json" scan2
    echo
    echo "- (a) reads $SCAN_KINDS; its answers hold $SCAN_BYTES bytes of JSON; its peak memory is $SCAN_PEAK KiB."
    [[ -z $BASELINE ]] || echo "- (a0) reads $BASE_KINDS; its answers hold $BASE_BYTES bytes of JSON; its peak memory is $BASE_PEAK KiB."
    echo "- (f) the watch cache, which serves every LIST of (a) and (d), trails a write by $LAG."
    echo "- First runs, not in the table: scan $(aud scan.cold) requests, kubectl get $(aud get.cold), describe $(aud describe.cold)."
    echo "- (b) lists ${#GET_KINDS[@]} kinds; not served by this server: ${SKIPPED_KINDS[*]:-none}. (d): $TARGET_NS holds $TARGET_NS_PODS pods."
    echo
    echo "| target | measured | |"
    echo "|---|---|---|"
    if [[ $(same_or_range "${AUDITS[scan]} ${AUDITS[scan2]}") != *–* ]]; then
        same=met
    else
        same="not met"
    fi
    echo "| requests do not depend on how many objects are broken | $(same_or_range "${AUDITS[scan]}") requests with $BROKEN_PODS broken pods, $(same_or_range "${AUDITS[scan2]}") with $BROKEN_PODS2 | $same |"
    echo "| scan no slower than kubectl's fetch of the same lists | $(med scan) ms vs $(med get) ms ($(aud scan) vs $(aud get) requests) | $(verdict "$(med scan)" "$(med get)") |"
    echo "| one target within 1.5× one \`kubectl describe pod\` | $(med target) ms vs $(med describe) ms ($(aud target) vs $(aud describe) requests) | $(verdict "$(med target)" "$(($(med describe) * 3 / 2))") |"
    echo "| scan: at most 40 requests and 1,000 ms median | $(aud scan) requests, $(med scan) ms | $(verdict "$(aud scan)" 40), $(verdict "$(med scan)" 1000) |"
    echo "| scan: peak memory within 2× the bytes of its answers | $SCAN_PEAK KiB vs $((SCAN_BYTES / 1024)) KiB | $(verdict "$SCAN_PEAK" "$((SCAN_BYTES * 2 / 1024))") |"
} | tee "$WORK/results.md"
if [[ $started_here -eq 0 || ${KEEP:-0} == 1 ]]; then
    log "results in $WORK/results.md; what each series requested (last run) in $WORK/*.audit.txt"
fi
