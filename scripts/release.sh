#!/usr/bin/env bash
# Release archives and the krew manifest of kubectl storage-doctor.
#
#   scripts/release.sh [--target TRIPLE] [--allow-dirty] [--twice]
#                                          build the archive of one platform
#   scripts/release.sh setup [--target TRIPLE]
#                                          install what that build needs
#   scripts/release.sh manifest [--partial]
#                                          render plugin.yaml from .krew.yaml
#
# Build mode: `cargo build --locked --profile dist` for TRIPLE (default: the
# host), then packs the binary, LICENSE and README.md into
#   dist/kubectl-storage_doctor-vX.Y.Z-<os>-<arch>.tar.gz   (.zip on windows)
# with dist/<archive>.sha256 beside it, and prints both. It refuses a tree
# with uncommitted changes (--allow-dirty to build one anyway): the archive
# would hold code no commit has. Archives are byte-for-byte reproducible for
# a given commit and toolchain: fixed file order, owner and modes, mtimes at
# SOURCE_DATE_EPOCH (default: the commit's time) and no gzip timestamp, so
# the sha256 is that of the uploaded file.
#
# Targets and where they build:
#   x86_64-unknown-linux-gnu    linux/amd64    Linux
#   aarch64-unknown-linux-gnu   linux/arm64    Linux arm64, or Linux amd64 with
#                                              Debian's gcc-aarch64-linux-gnu
#   x86_64-pc-windows-gnu       windows/amd64  Linux with gcc-mingw-w64-x86-64
#   x86_64-apple-darwin         darwin/amd64   Linux (zig, cargo-zigbuild,
#   aarch64-apple-darwin        darwin/arm64   rcodesign), or a Mac
# `setup --target TRIPLE` installs what a target needs on this host (as root:
# rustup's standard library, Debian's cross compilers, or for the darwin
# targets on Linux zig from PyPI and cargo-zigbuild and rcodesign from
# crates.io, at the versions below, as the archive's bytes depend on them).
#
# The darwin binaries cross-link on Linux without Apple's SDK: zig provides
# libSystem, and the binary uses nothing of Apple's frameworks (on macOS the
# TLS stack trusts the kubeconfig's CA, or else the bundled Mozilla roots;
# see Cargo.toml). Crates still name Security and CoreFoundation to the
# linker, so scripts/macos-frameworks/ holds stubs of them that export no
# symbol: a symbol of theirs in use fails the link, and -dead_strip_dylibs
# drops the unused frameworks from the binary. Each darwin binary gets the
# minimum macOS version set below (MACOSX_DEPLOYMENT_TARGET), an ad hoc
# signature (rcodesign; Apple silicon runs no unsigned code), and
# scripts/check-macho.py checks its header, architecture, minimum version,
# libraries and signature before it is packed: a bad binary stops the build.
#
# --twice builds the archive a second time in a fresh target folder and
# fails unless both are the same bytes: the reproducibility check of a
# release.
#
# Manifest mode: fills each platform's uri and sha256 in .krew.yaml (the
# krew-release-bot template) from dist/*.sha256 and writes plugin.yaml; it
# refuses when a platform's archive has not been built, unless --partial,
# which leaves such platforms out (a manifest for local installs and tests
# until the missing archives exist).
#
# Written for bash 3.2 too, the one macOS ships.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=kubectl-storage_doctor
DIST=dist
TEMPLATE=.krew.yaml
MANIFEST=plugin.yaml
# The darwin cross toolchain on Linux, pinned: the binaries' bytes depend on it.
ZIG_VERSION=0.17.1
CARGO_ZIGBUILD_VERSION=0.24.1
APPLE_CODESIGN_VERSION=0.29.0

log() { printf 'release: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 2
}
usage() {
  sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

version() {
  local id
  id=$(cargo pkgid --offline 2>/dev/null || cargo pkgid)
  printf '%s\n' "${id##*[#@]}"
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

# Prints "os arch" in krew's words for a Rust target triple.
platform_of() {
  case $1 in
    x86_64-unknown-linux-gnu) echo "linux amd64" ;;
    aarch64-unknown-linux-gnu) echo "linux arm64" ;;
    x86_64-pc-windows-gnu | x86_64-pc-windows-msvc) echo "windows amd64" ;;
    x86_64-apple-darwin) echo "darwin amd64" ;;
    aarch64-apple-darwin) echo "darwin arm64" ;;
    *) return 1 ;;
  esac
}

# The minimum macOS version of a darwin target: the first one for Apple
# silicon, and Rust's own minimum for Intel Macs.
macos_min() {
  case $1 in
    aarch64-apple-darwin) echo 11.0 ;;
    x86_64-apple-darwin) echo 10.12 ;;
    *) return 1 ;;
  esac
}

# The Mach-O architecture name of a darwin target.
macho_arch() {
  case $1 in
    aarch64-*) echo arm64 ;;
    x86_64-*) echo x86_64 ;;
  esac
}

have() { command -v "$1" >/dev/null 2>&1; }

# zig on PATH, or the one PyPI's ziglang package installed.
zig_version() {
  if have zig; then
    zig version
  else
    python3 -m ziglang version 2>/dev/null
  fi
}

# Installs what building TRIPLE on this host needs.
cmd_setup() {
  local host target=""
  case ${1:-} in
    '') ;;
    --target) target=${2:-} ;;
    --target=*) target=${1#--target=} ;;
    *) usage ;;
  esac
  host=$(rustc -vV | sed -n 's/^host: //p')
  target=${target:-$host}
  platform_of "$target" >/dev/null || die "no krew platform for target $target"
  if [[ $target != "$host" ]]; then
    rustup target add "$target"
  fi
  case $target in
    aarch64-unknown-linux-gnu | x86_64-pc-windows-gnu)
      [[ $target != "$host" ]] || return 0
      local pkg=gcc-aarch64-linux-gnu
      [[ $target != *windows* ]] || pkg="gcc-mingw-w64-x86-64 zip"
      apt-get update
      # shellcheck disable=SC2086 # two words for windows
      apt-get install -y $pkg
      ;;
    *-apple-darwin)
      [[ $host != *-apple-darwin ]] || return 0
      if [[ $(zig_version || true) != "$ZIG_VERSION" ]]; then
        python3 -m pip install "ziglang==$ZIG_VERSION"
      fi
      if [[ $(cargo-zigbuild --version 2>/dev/null || true) != "cargo-zigbuild $CARGO_ZIGBUILD_VERSION" ]]; then
        cargo install --locked "cargo-zigbuild@$CARGO_ZIGBUILD_VERSION"
      fi
      if [[ $(rcodesign --version 2>/dev/null || true) != *" $APPLE_CODESIGN_VERSION"* ]]; then
        cargo install --locked "apple-codesign@$APPLE_CODESIGN_VERSION"
      fi
      ;;
  esac
  log "ready to build $target: scripts/release.sh --target $target"
}

# Debian's cross compilers, for the targets that link C (ring) on another
# host; an environment that already names a linker or compiler wins.
set_cross_env() {
  local target=$1 host=$2 prefix upper lower
  [[ $target != "$host" ]] || return 0
  case $target in
    aarch64-unknown-linux-gnu) prefix=aarch64-linux-gnu ;;
    x86_64-pc-windows-gnu) prefix=x86_64-w64-mingw32 ;;
    *) return 0 ;;
  esac
  command -v "$prefix-gcc" >/dev/null 2>&1 ||
    die "$prefix-gcc not found: install the cross compiler for $target (see the top of $0)"
  upper=$(printf '%s' "$target" | tr 'a-z-' 'A-Z_')
  lower=$(printf '%s' "$target" | tr '-' '_')
  eval "export CARGO_TARGET_${upper}_LINKER=\${CARGO_TARGET_${upper}_LINKER:-$prefix-gcc}"
  eval "export CC_${lower}=\${CC_${lower}:-$prefix-gcc}"
  eval "export AR_${lower}=\${AR_${lower}:-$prefix-ar}"
}

# Copies the files into a fresh staging folder with fixed modes and mtimes,
# then archives them in the given order.
pack() {
  local archive=$1 kind=$2 binary=$3 name=$4 stage stamp epoch
  # Outside git: 1980-01-02, as zip stores no time before 1980.
  # The last commit of anything but plugin.yaml: committing the manifest of
  # these archives leaves them the same bytes.
  epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct -- . ':(exclude)plugin.yaml' 2>/dev/null || echo 315619200)}
  stamp=$(date -u -d "@$epoch" +%Y%m%d%H%M.%S 2>/dev/null || date -u -r "$epoch" +%Y%m%d%H%M.%S)
  stage=$(mktemp -d "${TMPDIR:-/tmp}/storage-doctor-release.XXXXXX")
  # shellcheck disable=SC2064 # expand now: stage is local
  trap "rm -rf '$stage'" EXIT
  cp "$binary" "$stage/$name"
  cp LICENSE README.md "$stage/"
  chmod 0755 "$stage/$name"
  chmod 0644 "$stage/LICENSE" "$stage/README.md"
  (cd "$stage" && TZ=UTC touch -t "$stamp" "$name" LICENSE README.md)
  rm -f "$archive"
  case $kind in
    tar.gz)
      if tar --version 2>/dev/null | grep -q 'GNU tar'; then
        (cd "$stage" && tar --format=ustar --owner=0 --group=0 --numeric-owner \
          -cf - "$name" LICENSE README.md) | gzip -9 -n >"$archive"
      else
        # bsdtar (macOS): no extended attributes or resource forks either.
        (cd "$stage" && COPYFILE_DISABLE=1 tar --format=ustar --uid 0 --gid 0 \
          --uname '' --gname '' --no-xattrs --no-mac-metadata \
          -cf - "$name" LICENSE README.md) | gzip -9 -n >"$archive"
      fi
      ;;
    zip)
      # -X: no uid/gid or extra timestamps; DOS times are local, hence UTC.
      (cd "$stage" && TZ=UTC zip -q -X -D "$archive" "$name" LICENSE README.md)
      ;;
  esac
  rm -rf "$stage"
  trap - EXIT
}

# Builds the dist binary of TARGET into TARGET_DIR and prints its path; a
# darwin one signed and checked.
build_binary() {
  local target=$1 host=$2 target_dir=$3 exe=$4 binary signed upper
  if [[ $target == *-apple-darwin ]]; then
    export MACOSX_DEPLOYMENT_TARGET
    MACOSX_DEPLOYMENT_TARGET=$(macos_min "$target")
  fi
  if [[ $target == *-apple-darwin && $host != *-apple-darwin ]]; then
    upper=$(printf '%s' "$target" | tr 'a-z-' 'A-Z_')
    export "CARGO_TARGET_${upper}_RUSTFLAGS=-C link-arg=-F$PWD/scripts/macos-frameworks -C link-arg=-Wl,-dead_strip_dylibs"
    CARGO_TARGET_DIR=$target_dir cargo zigbuild --locked --profile dist --target "$target" >&2
  elif [[ $target == "$host" ]]; then
    # The host's build goes where a plain `cargo build --profile dist` puts it.
    CARGO_TARGET_DIR=$target_dir cargo build --locked --profile dist >&2
  else
    CARGO_TARGET_DIR=$target_dir cargo build --locked --profile dist --target "$target" >&2
  fi
  if [[ $target == "$host" ]]; then
    binary=$target_dir/dist/$BIN$exe
  else
    binary=$target_dir/$target/dist/$BIN$exe
  fi
  [[ -f $binary ]] || die "cargo built no $binary"
  [[ $target == *-apple-darwin ]] || {
    printf '%s\n' "$binary"
    return 0
  }
  # Ad hoc signature, after the linker and strip are done with the file.
  signed=$(dirname "$binary")/signed/$BIN
  mkdir -p "$(dirname "$signed")"
  rm -f "$signed"
  if have rcodesign; then
    cp "$binary" "$signed"
    python3 scripts/check-macho.py --set-uuid "$signed" >&2
    rcodesign sign --binary-identifier "$BIN" "$signed" >&2
    # (`rcodesign verify` rejects every ad hoc signature, reading its empty
    # CMS blob as a broken one: check-macho.py checks the hashes instead.)
    rcodesign print-signature-info "$signed" >/dev/null ||
      die "rcodesign cannot read the signature of $signed"
  else
    [[ $host == *-apple-darwin ]] ||
      die "rcodesign not found: scripts/release.sh setup --target $target"
    cp "$binary" "$signed"
    python3 scripts/check-macho.py --set-uuid "$signed" >&2
    codesign --force --sign - "$signed" >&2
    codesign --verify --strict "$signed" >&2
  fi
  python3 scripts/check-macho.py "$signed" --arch "$(macho_arch "$target")" \
    --minos "$MACOSX_DEPLOYMENT_TARGET" >&2 || die "$signed fails the macOS checks"
  printf '%s\n' "$signed"
}

cmd_build() {
  local host target="" dirty=no twice=no platform os arch ver name ext exe="" target_dir binary
  local archive sha again again_sha
  while [[ $# -gt 0 ]]; do
    case $1 in
      --target)
        [[ $# -ge 2 ]] || usage
        target=$2
        shift 2
        ;;
      --target=*)
        target=${1#--target=}
        shift
        ;;
      --allow-dirty)
        dirty=yes
        shift
        ;;
      --twice)
        twice=yes
        shift
        ;;
      *) usage ;;
    esac
  done
  host=$(rustc -vV | sed -n 's/^host: //p')
  target=${target:-$host}
  platform=$(platform_of "$target") || die "no krew platform for target $target"
  os=${platform% *}
  arch=${platform#* }
  if [[ $target != "$host" ]] && command -v rustup >/dev/null 2>&1; then
    rustup target list --installed | grep -qx "$target" ||
      die "the Rust standard library for $target is missing: scripts/release.sh setup --target $target"
  fi
  if [[ $os == darwin && $host != *-apple-darwin ]]; then
    have cargo-zigbuild && [[ -n $(zig_version || true) ]] && have rcodesign ||
      die "cross-linking $target needs zig, cargo-zigbuild and rcodesign: scripts/release.sh setup --target $target"
    [[ $(zig_version) == "$ZIG_VERSION" ]] ||
      log "warning: zig $(zig_version), not $ZIG_VERSION: the binary may differ from the released one"
  fi
  if [[ $os == darwin ]]; then
    have python3 || die "python3 is needed to check the darwin binary"
  fi
  set_cross_env "$target" "$host"
  if [[ $dirty == no ]] && git rev-parse --is-inside-work-tree >/dev/null 2>&1 &&
    ! git diff --quiet HEAD --; then
    die "uncommitted changes (git status); commit them or pass --allow-dirty"
  fi

  ext=tar.gz
  if [[ $os == windows ]]; then
    ext=zip
    exe=.exe
  fi
  ver=v$(version)
  name=$BIN-$ver-$os-$arch.$ext

  log "building $BIN $ver for $target ($os/$arch)"
  target_dir=$(cargo metadata --locked --format-version 1 --no-deps |
    sed 's/.*"target_directory":"\([^"]*\)".*/\1/')
  binary=$(build_binary "$target" "$host" "$target_dir" "$exe")

  mkdir -p "$DIST"
  archive=$PWD/$DIST/$name
  pack "$archive" "$ext" "$binary" "$BIN$exe"
  sha=$(sha256_of "$archive")
  if [[ $twice == yes ]]; then
    # A fresh target folder: every crate compiled and linked again.
    log "building $target again in $target_dir/reproduce to compare"
    rm -rf "$target_dir/reproduce"
    binary=$(build_binary "$target" "$host" "$target_dir/reproduce" "$exe")
    again=$target_dir/reproduce/$name
    pack "$again" "$ext" "$binary" "$BIN$exe"
    again_sha=$(sha256_of "$again")
    rm -rf "$target_dir/reproduce"
    [[ $again_sha == "$sha" ]] ||
      die "not reproducible: $name is $sha, then $again_sha"
    log "reproducible: both builds give $sha"
  fi
  printf '%s  %s\n' "$sha" "$name" >"$archive.sha256"
  printf '%s\n%s\n' "$DIST/$name" "$sha"
}

# Replaces {{ .TagName }} and each {{addURIAndSha "URL" .TagName }} line the
# way krew-release-bot does, the sha256 coming from dist/ instead of the
# published release. With --partial, a platform whose archive is missing is
# left out (its entry runs from "  - selector:" to the next line indented
# less than four spaces) instead of stopping.
cmd_manifest() {
  local partial=no
  case $* in
    '') ;;
    --partial) partial=yes ;;
    *) usage ;;
  esac
  [[ -f $TEMPLATE ]] || die "no $TEMPLATE"
  local tag out line indent url file sha_file sha actual missing="" entry="" drop=no
  local re='^( *)\{\{ *addURIAndSha "([^"]+)" \.TagName *\}\}$'
  tag=v$(version)
  out=$(mktemp "${TMPDIR:-/tmp}/storage-doctor-plugin.XXXXXX")
  # shellcheck disable=SC2064 # expand now: out is local
  trap "rm -f '$out'" EXIT
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line//\{\{ .TagName \}\}/$tag}
    if [[ $line == '  - selector:' || $line != '    '* ]]; then
      [[ $drop == yes ]] || printf '%s' "$entry" >>"$out"
      entry=""
      drop=no
    fi
    if [[ $line =~ $re ]]; then
      indent=${BASH_REMATCH[1]}
      url=${BASH_REMATCH[2]}
      file=${url##*/}
      sha_file=$DIST/$file.sha256
      if [[ ! -f $sha_file ]]; then
        missing="$missing $file"
        drop=yes
        continue
      fi
      sha=$(cut -d' ' -f1 "$sha_file")
      [[ $sha =~ ^[0-9a-f]{64}$ ]] || die "$sha_file holds no sha256"
      if [[ -f $DIST/$file ]]; then
        actual=$(sha256_of "$DIST/$file")
        [[ $actual == "$sha" ]] || die "$DIST/$file does not match $sha_file"
      fi
      line=$(printf '%suri: %s\n%ssha256: %s' "$indent" "$url" "$indent" "$sha")
    elif [[ $line == *'{{'* ]]; then
      die "$TEMPLATE: a template action this script does not know: $line"
    fi
    entry="$entry$line"$'\n'
  done <"$TEMPLATE"
  [[ $drop == yes ]] || printf '%s' "$entry" >>"$out"
  if [[ -n $missing ]]; then
    log "no archive built for:$missing"
    if [[ $partial == no ]]; then
      log "build each with scripts/release.sh [--target TRIPLE] (or pass --partial)"
      die "$MANIFEST not written"
    fi
    log "--partial: $MANIFEST leaves those platforms out"
  fi
  cat "$out" >"$MANIFEST"
  rm -f "$out"
  trap - EXIT
  log "wrote $MANIFEST for $tag"
}

case ${1:-} in
  manifest)
    shift
    cmd_manifest "$@"
    ;;
  setup)
    shift
    cmd_setup "$@"
    ;;
  -h | --help) usage ;;
  *) cmd_build "$@" ;;
esac
