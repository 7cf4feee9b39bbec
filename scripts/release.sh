#!/usr/bin/env bash
# Release archives and the krew manifest of kubectl storage-doctor.
#
#   scripts/release.sh [--target TRIPLE] [--allow-dirty]
#                                          build the archive of one platform
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
#   x86_64-apple-darwin         darwin/amd64   macOS (needs Apple's SDK)
#   aarch64-apple-darwin        darwin/arm64   macOS (needs Apple's SDK)
# A cross target needs `rustup target add TRIPLE` first. The darwin archives
# come from running this script on a Mac (both targets build on either kind
# of Mac); copy their .sha256 files into dist/ before `manifest`.
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
  epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 315619200)}
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

cmd_build() {
  local host target="" dirty=no platform os arch ver name ext exe="" target_dir binary
  local archive sha
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
      *) usage ;;
    esac
  done
  host=$(rustc -vV | sed -n 's/^host: //p')
  target=${target:-$host}
  platform=$(platform_of "$target") || die "no krew platform for target $target"
  os=${platform% *}
  arch=${platform#* }
  # The TLS stack links Apple's Security and CoreFoundation frameworks.
  [[ $os != darwin || $host == *-apple-darwin ]] ||
    die "$target builds on a Mac only: it links frameworks of Apple's SDK"
  if [[ $target != "$host" ]] && command -v rustup >/dev/null 2>&1; then
    rustup target list --installed | grep -qx "$target" ||
      die "the Rust standard library for $target is missing: rustup target add $target"
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
  # The host's build goes where a plain `cargo build --profile dist` puts it.
  if [[ $target == "$host" ]]; then
    cargo build --locked --profile dist
    binary=$target_dir/dist/$BIN$exe
  else
    cargo build --locked --profile dist --target "$target"
    binary=$target_dir/$target/dist/$BIN$exe
  fi
  [[ -f $binary ]] || die "cargo built no $binary"

  mkdir -p "$DIST"
  archive=$PWD/$DIST/$name
  pack "$archive" "$ext" "$binary" "$BIN$exe"
  sha=$(sha256_of "$archive")
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
      log "build each with scripts/release.sh [--target TRIPLE]; the darwin ones on"
      log "a Mac, then copy their .sha256 files into $DIST/ (or pass --partial)"
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
  -h | --help) usage ;;
  *) cmd_build "$@" ;;
esac
