#!/usr/bin/env bash
# A real Kubernetes 1.20 control plane on loopback, for the live tests of
# `kubectl storage-doctor`: etcd, kube-apiserver, kube-controller-manager and
# kube-scheduler, plus three Node objects with no kubelet behind them.
#
#   scripts/live-cluster.sh build        build (once) and cache the binaries
#   scripts/live-cluster.sh start DIR    start a fresh cluster whose state lives in DIR
#   scripts/live-cluster.sh stop DIR     stop it
#   scripts/live-cluster.sh status DIR   say which components run
#
# The binaries come from Debian bookworm's source package `kubernetes`
# (1.20.2, Go dependencies vendored) built with Debian's golang-go; etcd is
# Debian's etcd-server. Everything listens on 127.0.0.1 only. Build work and
# binaries live in ${STORAGE_DOCTOR_CACHE:-$HOME/.cache/storage-doctor}, never
# in the checkout.
#
# After `start DIR`, `source DIR/env` gives KUBECONFIG (the admin user, group
# system:masters), VIEWER_KUBECONFIG and DOCTOR_KUBECONFIG (users `viewer`
# and `doctor`, no rights until a test grants some), the kubectl and server binaries, the server URL and CA.
# DIR/audit.log records every request at Metadata level.
#
# With LIVE_CLUSTER_KUBELET_ADDRESS set (a documentation-range address such
# as 192.0.2.10, on the loopback of a network namespace the caller made with
# `unshare -n`: the API server refuses to proxy to loopback and link-local
# node addresses), the API server advertises that address, trusts the
# cluster CA for kubelet serving certificates and reaches nodes by their
# InternalIP; DIR/pki/kubelet.crt and kubelet.key are issued for it, for a
# kubelet stand-in (tests/live/kubelet-standin.py), and DIR/env exports
# LIVE_KUBELET_ADDRESS.
#
# LIVE_CLUSTER_CONTROLLER_MANAGER_FLAGS adds flags to kube-controller-manager
# (split at spaces), for example
# `--feature-gates=CSIMigration=true,CSIMigrationAWS=true` so that the PV
# controller hands `kubernetes.io/aws-ebs` claims to `ebs.csi.aws.com`;
# DIR/env exports it again.
set -euo pipefail

K8S_VERSION=1.20.2
CACHE_ROOT=${STORAGE_DOCTOR_CACHE:-$HOME/.cache/storage-doctor}
[[ $CACHE_ROOT == /* ]] || CACHE_ROOT=$PWD/$CACHE_ROOT
K8S_CACHE=$CACHE_ROOT/k8s-$K8S_VERSION
BIN_DIR=$K8S_CACHE/bin
BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
# Stop order; start order is the reverse.
COMPONENTS=(kube-scheduler kube-controller-manager kube-apiserver etcd)
BUILD_PACKAGES=(golang-go rsync make dpkg-dev xz-utils golang-github-modern-go-reflect2-dev)
# reflect2 1.0.2 as Debian ships it (see "vendor fix" in cmd_build)
REFLECT2_SRC=/usr/share/gocode/src/github.com/modern-go/reflect2
RUNTIME_PACKAGES=(etcd-server curl openssl ca-certificates)
SRC_LIST=/etc/apt/sources.list.d/storage-doctor-deb-src.sources
START_TIMEOUT=${LIVE_CLUSTER_START_TIMEOUT:-180}

log() { printf 'live-cluster: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 2; }

usage() {
    cat <<EOF
usage: $0 build | start DIR | stop DIR | status DIR

  build        build kube-apiserver, kube-controller-manager, kube-scheduler and
               kubectl $K8S_VERSION into $BIN_DIR
               (does nothing when they are already there)
  start DIR    start etcd and the control plane on 127.0.0.1 with state in DIR;
               writes DIR/admin.kubeconfig, DIR/viewer.kubeconfig and DIR/env
  stop DIR     stop every process started for DIR
  status DIR   print whether each component runs (exit 0 if all do)
EOF
}

as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

# ---------------------------------------------------------------- packages

APT_UPDATED=0
apt_update() {
    if [[ $APT_UPDATED -eq 0 ]]; then
        log "apt-get update"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        APT_UPDATED=1
    fi
}

installed() { [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) == "install ok installed" ]]; }

ensure_packages() {
    local missing=() p
    for p in "$@"; do
        installed "$p" || missing+=("$p")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    apt_update
    log "apt-get install ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

have_k8s_source() {
    local out
    out=$(apt-cache showsrc kubernetes 2>/dev/null || true)
    [[ $out =~ (^|$'\n')Version:\ [^$'\n']*$K8S_VERSION ]]
}

ensure_deb_src() {
    have_k8s_source && return 0
    apt_update # the lists may only be stale
    have_k8s_source && return 0
    if [[ ! -e $SRC_LIST ]]; then
        log "adding a deb-src entry for Debian bookworm main ($SRC_LIST)"
        as_root tee "$SRC_LIST" >/dev/null <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    fi
    APT_UPDATED=0
    apt_update
    have_k8s_source || die "apt-cache showsrc kubernetes finds no $K8S_VERSION source package"
}

# ---------------------------------------------------------------- build

have_binaries() {
    local b
    for b in "${BINARIES[@]}"; do
        [[ -x $BIN_DIR/$b ]] || return 1
    done
}

print_binaries() {
    local b
    for b in "${BINARIES[@]}"; do
        echo "$BIN_DIR/$b"
    done
}

cmd_build() {
    if have_binaries; then
        log "binaries already built in $BIN_DIR"
        print_binaries
        return 0
    fi
    local started=$SECONDS
    ensure_packages "${BUILD_PACKAGES[@]}" "${RUNTIME_PACKAGES[@]}"

    local src=$K8S_CACHE/src tree=$K8S_CACHE/kubernetes-$K8S_VERSION
    mkdir -p "$src" "$BIN_DIR"

    # 1. the Debian source package (downloaded once)
    local dsc
    dsc=$(find "$src" -maxdepth 1 -name "kubernetes_*$K8S_VERSION*.dsc" | sort | tail -n1)
    if [[ -z $dsc ]]; then
        ensure_deb_src
        log "apt-get source --download-only kubernetes (into $src)"
        (cd "$src" && apt-get source --download-only kubernetes >&2)
        dsc=$(find "$src" -maxdepth 1 -name "kubernetes_*$K8S_VERSION*.dsc" | sort | tail -n1)
        [[ -n $dsc ]] || die "apt-get source gave no kubernetes $K8S_VERSION .dsc in $src"
    fi

    # 2. unpacked tree (Debian's patches applied), linked into a GOPATH
    if [[ ! -e $tree/.unpacked ]]; then
        rm -rf "$tree" "$tree.tmp"
        log "unpacking $(basename "$dsc")"
        dpkg-source --no-copy -x "$dsc" "$tree.tmp" >&2
        touch "$tree.tmp/.unpacked"
        mv "$tree.tmp" "$tree"
    fi
    mkdir -p "$tree/.go/src/k8s.io"
    ln -sfn ../../.. "$tree/.go/src/k8s.io/kubernetes"

    # 3. vendor fix: Kubernetes 1.20 vendors github.com/modern-go/reflect2
    # v1.0.1, whose map iteration faults under Go >= 1.18 (modern-go/reflect2
    # issue 24): built with bookworm's Go 1.19, kube-apiserver dies with
    # "fatal error: fault" in UnsafeIterate on the first node status PATCH.
    # v1.0.2 fixes it with the same API; Debian ships it as a -dev package.
    local vendored=$tree/vendor/github.com/modern-go/reflect2
    if [[ ! -e $vendored/go_above_118.go ]]; then
        [[ -e $REFLECT2_SRC/go_above_118.go ]] \
            || die "$REFLECT2_SRC is not reflect2 >= 1.0.2 (package golang-github-modern-go-reflect2-dev)"
        log "replacing vendored reflect2 v1.0.1 with $REFLECT2_SRC (1.0.2)"
        rm -f "$vendored"/*.go "$vendored"/*.s
        cp "$REFLECT2_SRC"/*.go "$REFLECT2_SRC"/*.s "$vendored"/
        rm -f "$vendored"/*_test.go
    fi

    # 4. make (about 5-10 minutes on 2 cores)
    local what="" b
    for b in "${BINARIES[@]}"; do what+="cmd/$b "; done
    log "make WHAT=\"${what% }\" (log: $K8S_CACHE/build.log)"
    mkdir -p "$K8S_CACHE/home" "$K8S_CACHE/go-build"
    (
        cd "$tree"
        env GOPATH="$tree/.go" CGO_ENABLED=0 GOFLAGS= \
            GOCACHE="$K8S_CACHE/go-build" HOME="$K8S_CACHE/home" \
            PATH="/usr/lib/go/bin:$PATH" \
            make WHAT="${what% }"
    ) >"$K8S_CACHE/build.log" 2>&1 || {
        tail -n 40 "$K8S_CACHE/build.log" >&2
        die "make failed; full log in $K8S_CACHE/build.log"
    }

    # 5. cache the binaries, then drop the build tree and Go build cache
    for b in "${BINARIES[@]}"; do
        [[ -x $tree/_output/bin/$b ]] || die "make did not produce _output/bin/$b"
        install -m 0755 "$tree/_output/bin/$b" "$BIN_DIR/.$b.tmp"
        mv -f "$BIN_DIR/.$b.tmp" "$BIN_DIR/$b"
    done
    {
        echo "source: $(basename "$dsc")"
        echo "go: $(/usr/lib/go/bin/go version 2>/dev/null || go version)"
        echo "vendor fix: github.com/modern-go/reflect2 from $(dpkg-query -W -f='${Package} ${Version}' golang-github-modern-go-reflect2-dev)"
        echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    } >"$BIN_DIR/BUILD-INFO"
    if [[ ${STORAGE_DOCTOR_KEEP_BUILD:-0} != 1 ]]; then
        rm -rf "$tree" "${K8S_CACHE:?}/go-build" "${K8S_CACHE:?}/home"
    fi
    log "built in $((SECONDS - started))s: $("$BIN_DIR/kubectl" version --client --short 2>/dev/null || true)"
    print_binaries
}

# ---------------------------------------------------------------- helpers for a cluster dir

abs_dir() { mkdir -p "$1" && (cd "$1" && pwd -P); }

# pid of a component if it is running for this DIR (guards against pid reuse)
running_pid() {
    local dir=$1 name=$2 pid
    [[ -f $dir/$name.pid ]] || return 1
    pid=$(<"$dir/$name.pid")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/cmdline ]] || return 1
    # a zombie is not running
    [[ $(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null) != Z ]] || return 1
    local cmdline
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ $cmdline == *"$dir/"* ]] || return 1
    echo "$pid"
}

# TCP ports this machine uses now (any state, v4 and v6)
used_ports() {
    local f l
    for f in /proc/net/tcp /proc/net/tcp6; do
        [[ -r $f ]] || continue
        while read -r _ l _; do
            [[ $l == *:* ]] || continue
            echo $((16#${l##*:}))
        done <"$f"
    done
}

# pick_port VAR: a free port below the ephemeral range, not handed out before
PICKED_PORTS=" "
pick_port() {
    local used p
    used=" $(used_ports | sort -u | tr '\n' ' ') "
    for p in $(shuf -i 20000-32000 -n 200); do
        if [[ $used != *" $p "* && $PICKED_PORTS != *" $p "* ]]; then
            PICKED_PORTS+="$p "
            printf -v "$1" '%s' "$p"
            return 0
        fi
    done
    die "no free port found"
}

# launch DIR NAME CMD...: detached from this shell, pid to DIR/NAME.pid
launch() {
    local dir=$1 name=$2
    shift 2
    setsid "$@" </dev/null >"$dir/$name.log" 2>&1 &
    echo $! >"$dir/$name.pid"
}

wait_for() {
    # wait_for DIR DESCRIPTION COMPONENTS-THAT-MUST-STAY-UP -- CMD...
    local dir=$1 what=$2 deadline=$((SECONDS + START_TIMEOUT)) c
    shift 2
    local watch=()
    while [[ $1 != -- ]]; do watch+=("$1"); shift; done
    shift
    until "$@" >/dev/null 2>&1; do
        for c in "${watch[@]}"; do
            running_pid "$dir" "$c" >/dev/null || die "$c exited while waiting for $what; see $dir/$c.log"
        done
        [[ $SECONDS -lt $deadline ]] || die "timed out after ${START_TIMEOUT}s waiting for $what"
        sleep 0.5
    done
}

# ---------------------------------------------------------------- start

write_kubeconfig() {
    local file=$1 user=$2 token=$3 server=$4 ca=$5 ns=${6:-default}
    (umask 077 && cat >"$file") <<EOF
apiVersion: v1
kind: Config
clusters:
- name: storage-doctor-live
  cluster:
    server: $server
    certificate-authority-data: $(base64 -w0 <"$ca")
users:
- name: $user
  user:
    token: $token
contexts:
- name: live-$user
  context:
    cluster: storage-doctor-live
    user: $user
    namespace: $ns
current-context: live-$user
EOF
}

make_pki() {
    local pki=$1 kubelet_address=${2:-}
    mkdir -p "$pki"
    (
        cd "$pki"
        umask 077
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 -sha256 \
            -keyout ca.key -out ca.crt -subj "/CN=storage-doctor-live-ca" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -sha256 \
            -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver" 2>/dev/null
        cat >apiserver.ext <<'EOF'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc
EOF
        openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
            -days 30 -sha256 -extfile apiserver.ext -out apiserver.crt 2>/dev/null
        if [[ -n $kubelet_address ]]; then
            sed -i "s/^subjectAltName=IP:127.0.0.1,/subjectAltName=IP:127.0.0.1,IP:$kubelet_address,/" apiserver.ext
            openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
                -days 30 -sha256 -extfile apiserver.ext -out apiserver.crt 2>/dev/null
            openssl req -newkey rsa:2048 -nodes -sha256 \
                -keyout kubelet.key -out kubelet.csr -subj "/CN=kubelet-standin" 2>/dev/null
            printf '%s\n' "basicConstraints=critical,CA:FALSE" \
                "keyUsage=critical,digitalSignature,keyEncipherment" \
                "extendedKeyUsage=serverAuth" \
                "subjectAltName=IP:$kubelet_address" >kubelet.ext
            openssl x509 -req -in kubelet.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
                -days 30 -sha256 -extfile kubelet.ext -out kubelet.crt 2>/dev/null
            chmod 644 kubelet.crt
        fi
        openssl genrsa -out sa.key 2048 2>/dev/null
        openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
        chmod 644 ca.crt apiserver.crt sa.pub
    )
}

admin_curl() {
    # admin_curl DIR ARGS... (URL paths relative to the apiserver)
    local dir=$1
    shift
    curl -sS --fail --cacert "$dir/pki/ca.crt" -H "Authorization: Bearer $(<"$dir/pki/admin.token")" "$@"
}

create_nodes() {
    local dir=$1 server=$2 kubectl=$3 now n zone
    now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    for n in node-a:zone-a node-b:zone-a node-c:zone-b; do
        zone=${n#*:}
        n=${n%%:*}
        "$kubectl" --kubeconfig "$dir/admin.kubeconfig" create -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $n
  labels:
    kubernetes.io/hostname: $n
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    topology.kubernetes.io/zone: $zone
  annotations:
    volumes.kubernetes.io/controller-managed-attach-detach: "true"
spec: {}
EOF
        # No kubelet: the Ready condition goes straight onto the status subresource.
        admin_curl "$dir" -o /dev/null -X PATCH \
            -H 'Content-Type: application/merge-patch+json' \
            "$server/api/v1/nodes/$n/status" --data-binary @- <<EOF
{"status": {
  "capacity":    {"cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "100Gi"},
  "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "100Gi"},
  "conditions": [
    {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory",
     "message": "kubelet has sufficient memory available", "lastHeartbeatTime": "$now", "lastTransitionTime": "$now"},
    {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure",
     "message": "kubelet has no disk pressure", "lastHeartbeatTime": "$now", "lastTransitionTime": "$now"},
    {"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID",
     "message": "kubelet has sufficient PID available", "lastHeartbeatTime": "$now", "lastTransitionTime": "$now"},
    {"type": "Ready", "status": "True", "reason": "KubeletReady",
     "message": "kubelet is posting ready status", "lastHeartbeatTime": "$now", "lastTransitionTime": "$now"}
  ],
  "addresses": [{"type": "Hostname", "address": "$n"}],
  "nodeInfo": {"machineID": "", "systemUUID": "", "bootID": "", "kernelVersion": "",
    "osImage": "storage-doctor live test node", "containerRuntimeVersion": "containerd://1.4.0",
    "kubeletVersion": "v$K8S_VERSION", "kubeProxyVersion": "v$K8S_VERSION",
    "operatingSystem": "linux", "architecture": "amd64"}
}}
EOF
    done
}

cmd_start() {
    local dir c
    dir=$(abs_dir "$1")
    have_binaries || die "no binaries in $BIN_DIR; run '$0 build' first"
    local need_runtime=0
    for c in etcd curl openssl; do command -v "$c" >/dev/null 2>&1 || need_runtime=1; done
    [[ $need_runtime -eq 0 ]] || ensure_packages "${RUNTIME_PACKAGES[@]}"
    local etcd_bin
    etcd_bin=$(command -v etcd)

    for c in "${COMPONENTS[@]}"; do
        if running_pid "$dir" "$c" >/dev/null; then
            die "$c is already running for $dir; run '$0 stop $dir' first"
        fi
    done
    if [[ -n $(ls -A "$dir") && ! -e $dir/.live-cluster ]]; then
        die "$dir is not empty and holds no earlier live cluster; use an empty or new directory"
    fi
    # a fresh cluster every time: drop the state of an earlier run in this DIR
    rm -rf "$dir/etcd" "$dir/pki" "$dir/certs" "$dir"/*.log "$dir"/*.pid "$dir"/*.kubeconfig \
        "$dir/env" "$dir/audit-policy.yaml" "$dir/ports"
    touch "$dir/.live-cluster"

    # On failure below: show what the components said and stop what started.
    # shellcheck disable=SC2064
    trap "start_failed '$dir'" EXIT

    local etcd_port etcd_peer_port api_port cm_port sched_port
    pick_port etcd_port
    pick_port etcd_peer_port
    pick_port api_port
    pick_port cm_port
    pick_port sched_port
    local server=https://127.0.0.1:$api_port
    cat >"$dir/ports" <<EOF
etcd=$etcd_port
etcd-peer=$etcd_peer_port
kube-apiserver=$api_port
kube-controller-manager=$cm_port
kube-scheduler=$sched_port
EOF
    echo "$api_port" >"$dir/apiserver.port"

    log "certificates and keys in $dir/pki"
    local kubelet_address=${LIVE_CLUSTER_KUBELET_ADDRESS:-}
    local advertise=127.0.0.1 kubelet_flags=()
    if [[ -n $kubelet_address ]]; then
        [[ $kubelet_address =~ ^192\.0\.2\.[0-9]+$ ]] \
            || die "LIVE_CLUSTER_KUBELET_ADDRESS must be in 192.0.2.0/24 (documentation range), not $kubelet_address"
        advertise=$kubelet_address
        kubelet_flags=(--kubelet-certificate-authority "$dir/pki/ca.crt"
            --kubelet-preferred-address-types InternalIP)
    fi
    make_pki "$dir/pki" "$kubelet_address"
    local pki=$dir/pki t
    for t in admin viewer doctor controller-manager scheduler; do
        (umask 077 && openssl rand -hex 24 >"$pki/$t.token")
    done
    (
        umask 077
        cat >"$pki/tokens.csv" <<EOF
$(<"$pki/admin.token"),admin,uid-admin,"system:masters"
$(<"$pki/viewer.token"),viewer,uid-viewer
$(<"$pki/doctor.token"),doctor,uid-doctor
$(<"$pki/controller-manager.token"),system:kube-controller-manager,uid-kube-controller-manager
$(<"$pki/scheduler.token"),system:kube-scheduler,uid-kube-scheduler
EOF
    )
    write_kubeconfig "$dir/admin.kubeconfig" admin "$(<"$pki/admin.token")" "$server" "$pki/ca.crt"
    write_kubeconfig "$dir/viewer.kubeconfig" viewer "$(<"$pki/viewer.token")" "$server" "$pki/ca.crt"
    write_kubeconfig "$dir/doctor.kubeconfig" doctor "$(<"$pki/doctor.token")" "$server" "$pki/ca.crt"
    write_kubeconfig "$dir/controller-manager.kubeconfig" system:kube-controller-manager \
        "$(<"$pki/controller-manager.token")" "$server" "$pki/ca.crt" kube-system
    write_kubeconfig "$dir/scheduler.kubeconfig" system:kube-scheduler \
        "$(<"$pki/scheduler.token")" "$server" "$pki/ca.crt" kube-system
    cat >"$dir/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
EOF

    log "etcd on 127.0.0.1:$etcd_port"
    launch "$dir" etcd "$etcd_bin" \
        --name live --data-dir "$dir/etcd" \
        --listen-client-urls "http://127.0.0.1:$etcd_port" \
        --advertise-client-urls "http://127.0.0.1:$etcd_port" \
        --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" \
        --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
        --initial-cluster "live=http://127.0.0.1:$etcd_peer_port" \
        --initial-cluster-state new --log-level warn
    wait_for "$dir" "etcd health" etcd -- \
        bash -c "curl -sf http://127.0.0.1:$etcd_port/health | grep -q '\"health\":\"true\"'"

    log "kube-apiserver on $server"
    launch "$dir" kube-apiserver "$BIN_DIR/kube-apiserver" \
        --etcd-servers "http://127.0.0.1:$etcd_port" \
        --bind-address 127.0.0.1 --advertise-address "$advertise" \
        "${kubelet_flags[@]}" \
        --secure-port "$api_port" --insecure-port 0 \
        --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
        --client-ca-file "$pki/ca.crt" \
        --token-auth-file "$pki/tokens.csv" \
        --authorization-mode RBAC \
        --anonymous-auth=false \
        --service-account-key-file "$pki/sa.pub" \
        --service-account-signing-key-file "$pki/sa.key" \
        --service-account-issuer https://kubernetes.default.svc.cluster.local \
        --service-cluster-ip-range 10.96.0.0/16 \
        --endpoint-reconciler-type none \
        --disable-admission-plugins TaintNodesByCondition \
        --audit-policy-file "$dir/audit-policy.yaml" \
        --audit-log-path "$dir/audit.log" \
        --audit-log-maxbackup 2 --audit-log-maxsize 200 \
        --cert-dir "$dir/certs" \
        --v 1
    wait_for "$dir" "kube-apiserver /readyz" etcd kube-apiserver -- \
        bash -c "curl -sf --cacert '$pki/ca.crt' -H 'Authorization: Bearer $(<"$pki/admin.token")' \
            '$server/readyz' | grep -qx ok"

    log "kube-controller-manager (127.0.0.1:$cm_port) and kube-scheduler (127.0.0.1:$sched_port)"
    local cm_extra=()
    read -r -a cm_extra <<<"${LIVE_CLUSTER_CONTROLLER_MANAGER_FLAGS:-}"
    launch "$dir" kube-controller-manager "$BIN_DIR/kube-controller-manager" \
        --kubeconfig "$dir/controller-manager.kubeconfig" \
        --authentication-kubeconfig "$dir/controller-manager.kubeconfig" \
        --authorization-kubeconfig "$dir/controller-manager.kubeconfig" \
        --bind-address 127.0.0.1 --secure-port "$cm_port" --port 0 \
        --cert-dir "$dir/certs/controller-manager" \
        --leader-elect=false \
        --controllers '*,-nodelifecycle' \
        --use-service-account-credentials \
        --service-account-private-key-file "$pki/sa.key" \
        --root-ca-file "$pki/ca.crt" \
        --service-cluster-ip-range 10.96.0.0/16 \
        "${cm_extra[@]}" \
        --v 1
    launch "$dir" kube-scheduler "$BIN_DIR/kube-scheduler" \
        --kubeconfig "$dir/scheduler.kubeconfig" \
        --authentication-kubeconfig "$dir/scheduler.kubeconfig" \
        --authorization-kubeconfig "$dir/scheduler.kubeconfig" \
        --bind-address 127.0.0.1 --secure-port "$sched_port" --port 0 \
        --cert-dir "$dir/certs/scheduler" \
        --leader-elect=false \
        --v 1
    wait_for "$dir" "kube-controller-manager /healthz" "${COMPONENTS[@]}" -- \
        bash -c "curl -skf https://127.0.0.1:$cm_port/healthz | grep -qx ok"
    wait_for "$dir" "kube-scheduler /healthz" "${COMPONENTS[@]}" -- \
        bash -c "curl -skf https://127.0.0.1:$sched_port/healthz | grep -qx ok"

    local kubectl=$BIN_DIR/kubectl
    wait_for "$dir" "the token of service account default/default" "${COMPONENTS[@]}" -- \
        bash -c "'$kubectl' --kubeconfig '$dir/admin.kubeconfig' -n default \
            get serviceaccount default -o 'jsonpath={.secrets[0].name}' | grep -q ."

    log "nodes node-a, node-b (zone-a) and node-c (zone-b)"
    create_nodes "$dir" "$server" "$kubectl"

    {
        printf '# source this file: the live storage-doctor test cluster in %s\n' "$dir"
        printf 'export LIVE_CLUSTER_DIR=%q\n' "$dir"
        [[ -z $kubelet_address ]] || printf 'export LIVE_KUBELET_ADDRESS=%q\n' "$kubelet_address"
        printf 'export LIVE_CLUSTER_CONTROLLER_MANAGER_FLAGS=%q\n' "${cm_extra[*]}"
        printf 'export KUBECONFIG=%q\n' "$dir/admin.kubeconfig"
        printf 'export ADMIN_KUBECONFIG=%q\n' "$dir/admin.kubeconfig"
        printf 'export VIEWER_KUBECONFIG=%q\n' "$dir/viewer.kubeconfig"
        printf 'export DOCTOR_KUBECONFIG=%q\n' "$dir/doctor.kubeconfig"
        printf 'export LIVE_APISERVER_URL=%q\n' "$server"
        printf 'export LIVE_CA_FILE=%q\n' "$pki/ca.crt"
        printf 'export LIVE_AUDIT_LOG=%q\n' "$dir/audit.log"
        printf 'export LIVE_BIN_DIR=%q\n' "$BIN_DIR"
        printf 'export KUBECTL=%q\n' "$kubectl"
        printf 'export KUBE_APISERVER=%q\n' "$BIN_DIR/kube-apiserver"
        printf 'export KUBE_CONTROLLER_MANAGER=%q\n' "$BIN_DIR/kube-controller-manager"
        printf 'export KUBE_SCHEDULER=%q\n' "$BIN_DIR/kube-scheduler"
        printf 'export ETCD=%q\n' "$etcd_bin"
        # shellcheck disable=SC2016 # $PATH is for the shell that sources the file
        printf 'export PATH=%q:"$PATH"\n' "$BIN_DIR"
    } >"$dir/env"

    trap - EXIT
    log "ready: $server (source $dir/env)"
    echo "$dir/env"
}

start_failed() {
    local rc=$? dir=$1 c
    [[ $rc -ne 0 ]] || return 0
    for c in "${COMPONENTS[@]}"; do
        if [[ -s $dir/$c.log ]]; then
            log "---- last lines of $dir/$c.log"
            tail -n 15 "$dir/$c.log" >&2
        fi
    done
    log "start failed; stopping what was started"
    cmd_stop "$dir" || true
    exit "$rc"
}

# ---------------------------------------------------------------- stop / status

cmd_stop() {
    local dir c pid i
    [[ -d $1 ]] || die "no such directory: $1"
    dir=$(cd "$1" && pwd -P)
    for c in "${COMPONENTS[@]}"; do
        if pid=$(running_pid "$dir" "$c"); then
            kill -TERM "$pid" 2>/dev/null || true
            for ((i = 0; i < 100; i++)); do
                running_pid "$dir" "$c" >/dev/null || break
                sleep 0.2
            done
            if running_pid "$dir" "$c" >/dev/null; then
                log "$c (pid $pid) did not stop on SIGTERM; sending SIGKILL"
                kill -KILL "$pid" 2>/dev/null || true
                for ((i = 0; i < 50; i++)); do
                    running_pid "$dir" "$c" >/dev/null || break
                    sleep 0.2
                done
            fi
            log "stopped $c (pid $pid)"
        fi
        rm -f "$dir/$c.pid"
    done
}

cmd_status() {
    local dir c pid all=0 port
    [[ -d $1 ]] || die "no such directory: $1"
    dir=$(cd "$1" && pwd -P)
    for c in etcd kube-apiserver kube-controller-manager kube-scheduler; do
        if pid=$(running_pid "$dir" "$c"); then
            printf '%-24s running (pid %s)\n' "$c:" "$pid"
        else
            printf '%-24s not running\n' "$c:"
            all=1
        fi
    done
    if [[ -f $dir/apiserver.port && -f $dir/pki/admin.token ]]; then
        port=$(<"$dir/apiserver.port")
        if admin_curl "$dir" "https://127.0.0.1:$port/readyz" 2>/dev/null | grep -qx ok; then
            printf '%-24s ok (https://127.0.0.1:%s)\n' "readyz:" "$port"
        else
            printf '%-24s not ready (https://127.0.0.1:%s)\n' "readyz:" "$port"
            all=1
        fi
    fi
    return "$all"
}

# ---------------------------------------------------------------- main

main() {
    local cmd=${1:-}
    case $cmd in
    build)
        [[ $# -eq 1 ]] || { usage >&2; exit 2; }
        cmd_build
        ;;
    start | stop | status)
        [[ $# -eq 2 && -n $2 ]] || { usage >&2; exit 2; }
        "cmd_$cmd" "$2"
        ;;
    -h | --help | help)
        usage
        ;;
    *)
        usage >&2
        exit 2
        ;;
    esac
}

main "$@"
