#!/usr/bin/env python3
"""Checks a macOS release binary of kubectl storage-doctor, on any OS.

    scripts/check-macho.py BINARY --arch arm64|x86_64 --minos X.Y
    scripts/check-macho.py --set-uuid BINARY

--set-uuid rewrites the binary's LC_UUID, in place, from a hash of its
bytes (the UUID and any code signature left out), as Apple's linker does:
zig's linker gives each link another UUID, and this makes the same code the
same file. Sign after it, as it changes the first page.

Fails (exit 1, one line per problem) unless BINARY is
  - a thin 64-bit Mach-O executable (MH_EXECUTE, position-independent) for
    the given architecture, with a main entry point;
  - built for macOS with exactly the given minimum version (LC_BUILD_VERSION
    or LC_VERSION_MIN_MACOSX);
  - loading only libraries of the system (/usr/lib/, /System/Library/), no
    @rpath or other relative ones, and libSystem among them;
  - code-signed over its whole content: an embedded signature whose
    CodeDirectory is SHA-256, covers the file up to the signature and whose
    page hashes match the bytes. Apple silicon runs no unsigned arm64 code;
    an ad hoc signature (no certificate) is what it needs at the least.
Prints what it found. Only the standard library: it runs where
scripts/release.sh runs.
"""

import argparse
import hashlib
import struct
import sys

MH_MAGIC_64 = 0xFEEDFACF
CPU_TYPES = {"x86_64": 0x01000007, "arm64": 0x0100000C}
MH_EXECUTE = 2
MH_PIE = 0x200000

LC_REQ_DYLD = 0x80000000
LC_LOAD_DYLIB = 0xC
LC_LOAD_WEAK_DYLIB = 0x18 | LC_REQ_DYLD
LC_REEXPORT_DYLIB = 0x1F | LC_REQ_DYLD
LC_LAZY_LOAD_DYLIB = 0x20
LC_LOAD_UPWARD_DYLIB = 0x23 | LC_REQ_DYLD
DYLIB_COMMANDS = {
    LC_LOAD_DYLIB,
    LC_LOAD_WEAK_DYLIB,
    LC_REEXPORT_DYLIB,
    LC_LAZY_LOAD_DYLIB,
    LC_LOAD_UPWARD_DYLIB,
}
LC_CODE_SIGNATURE = 0x1D
LC_VERSION_MIN_MACOSX = 0x24
LC_BUILD_VERSION = 0x32
LC_MAIN = 0x28 | LC_REQ_DYLD
LC_UUID = 0x1B
PLATFORM_MACOS = 1

CSMAGIC_EMBEDDED_SIGNATURE = 0xFADE0CC0
CSMAGIC_CODEDIRECTORY = 0xFADE0C02
CSSLOT_CODEDIRECTORY = 0
CS_HASHTYPE_SHA256 = 2
CS_ADHOC = 0x2

SYSTEM_PREFIXES = ("/usr/lib/", "/System/Library/")


def version_text(v):
    """X.Y.Z encoded as xxxx.yy.zz nibbles."""
    text = f"{v >> 16}.{(v >> 8) & 0xFF}"
    return text + (f".{v & 0xFF}" if v & 0xFF else "")


def cstring(data, start, end):
    raw = data[start:end]
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def check_signature(data, dataoff, datasize, problems, info):
    blob = data[dataoff : dataoff + datasize]
    if len(blob) < 12:
        problems.append("the code signature lies outside the file")
        return
    magic, _length, count = struct.unpack_from(">III", blob, 0)
    if magic != CSMAGIC_EMBEDDED_SIGNATURE:
        problems.append(f"the code signature is no embedded signature (magic {magic:#x})")
        return
    cd_offset = None
    for i in range(count):
        slot, offset = struct.unpack_from(">II", blob, 12 + 8 * i)
        if slot == CSSLOT_CODEDIRECTORY:
            cd_offset = offset
    if cd_offset is None:
        problems.append("the code signature has no CodeDirectory")
        return
    cd = blob[cd_offset:]
    (
        magic,
        _length,
        version,
        flags,
        hash_offset,
        ident_offset,
        n_special,
        n_code,
        code_limit,
        hash_size,
        hash_type,
        _platform,
        page_log2,
    ) = struct.unpack_from(">IIIIIIIIIBBBB", cd, 0)
    if magic != CSMAGIC_CODEDIRECTORY:
        problems.append(f"no CodeDirectory at the signature's slot 0 (magic {magic:#x})")
        return
    ident = cstring(cd, ident_offset, len(cd))
    kind = "ad hoc" if flags & CS_ADHOC else "with a certificate"
    info.append(
        f"signature: {kind}, identifier {ident}, CodeDirectory v{version:#x}, "
        f"{n_code} pages of {1 << page_log2} bytes"
    )
    if hash_type != CS_HASHTYPE_SHA256 or hash_size != 32:
        problems.append(f"the CodeDirectory hashes are not SHA-256 (type {hash_type})")
        return
    if code_limit != dataoff:
        problems.append(
            f"the signature covers {code_limit} bytes, not the {dataoff} before it"
        )
    page = 1 << page_log2
    expected_pages = (code_limit + page - 1) // page
    if n_code != expected_pages:
        problems.append(f"{n_code} page hashes for {expected_pages} pages")
        return
    for i in range(n_code):
        start = i * page
        digest = hashlib.sha256(data[start : min(start + page, code_limit)]).digest()
        at = hash_offset + i * hash_size
        if cd[at : at + hash_size] != digest:
            problems.append(f"page {i} (offset {start}) does not match its signed hash")
            return
    del n_special  # special slots (entitlements, requirements) are optional for ad hoc


def check(path, arch, minos):
    problems, info = [], []
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 32:
        return [f"{path}: too short for a Mach-O file"], info
    magic, cputype, _sub, filetype, ncmds, sizeofcmds, flags, _res = struct.unpack_from(
        "<IIIIIIII", data, 0
    )
    if magic != MH_MAGIC_64:
        return [f"not a thin little-endian 64-bit Mach-O file (magic {magic:#x})"], info
    want_cpu = CPU_TYPES[arch]
    got_arch = {v: k for k, v in CPU_TYPES.items()}.get(cputype, f"cputype {cputype:#x}")
    info.append(f"Mach-O 64-bit executable, {got_arch}, {ncmds} load commands")
    if cputype != want_cpu:
        problems.append(f"built for {got_arch}, not {arch}")
    if filetype != MH_EXECUTE:
        problems.append(f"file type {filetype}, not an executable")
    if not flags & MH_PIE:
        problems.append("not position-independent (MH_PIE)")

    dylibs, versions, has_main, signature = [], [], False, None
    at = 32
    end = 32 + sizeofcmds
    for _ in range(ncmds):
        if at + 8 > end:
            problems.append("load commands run past their size")
            break
        cmd, size = struct.unpack_from("<II", data, at)
        if size < 8 or at + size > end:
            problems.append(f"a load command of bad size {size}")
            break
        if cmd in DYLIB_COMMANDS:
            (name_off,) = struct.unpack_from("<I", data, at + 8)
            dylibs.append(cstring(data, at + name_off, at + size))
        elif cmd == LC_BUILD_VERSION:
            platform, v_min, v_sdk = struct.unpack_from("<III", data, at + 8)
            if platform != PLATFORM_MACOS:
                problems.append(f"built for platform {platform}, not macOS")
            versions.append(v_min)
            info.append(f"macOS {version_text(v_min)} or newer (SDK {version_text(v_sdk)})")
        elif cmd == LC_VERSION_MIN_MACOSX:
            v_min, v_sdk = struct.unpack_from("<II", data, at + 8)
            versions.append(v_min)
            info.append(f"macOS {version_text(v_min)} or newer (SDK {version_text(v_sdk)})")
        elif cmd == LC_MAIN:
            has_main = True
        elif cmd == LC_CODE_SIGNATURE:
            signature = struct.unpack_from("<II", data, at + 8)
        at += size

    want = [int(p) for p in minos.split(".")] + [0, 0]
    want_v = (want[0] << 16) | (want[1] << 8) | want[2]
    if not versions:
        problems.append("no minimum macOS version (LC_BUILD_VERSION)")
    elif any(v != want_v for v in versions):
        got = ", ".join(version_text(v) for v in versions)
        problems.append(f"minimum macOS version {got}, not {version_text(want_v)}")
    if not has_main:
        problems.append("no entry point (LC_MAIN)")
    for lib in dylibs:
        info.append(f"loads {lib}")
        if not lib.startswith(SYSTEM_PREFIXES):
            problems.append(f"loads {lib}, which no Mac has: only /usr/lib and /System/Library")
    if not any(lib.startswith("/usr/lib/libSystem") for lib in dylibs):
        problems.append("does not load libSystem")
    if signature is None:
        problems.append("not code-signed (no LC_CODE_SIGNATURE)")
    else:
        dataoff, datasize = signature
        if dataoff + datasize != len(data):
            problems.append("the code signature is not at the end of the file")
        check_signature(data, dataoff, datasize, problems, info)
    return problems, info


def set_uuid(path):
    with open(path, "rb") as f:
        data = bytearray(f.read())
    _magic, _cpu, _sub, _type, ncmds, _size, _flags, _res = struct.unpack_from("<IIIIIIII", data, 0)
    at, uuid_at, end = 32, None, len(data)
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", data, at)
        if cmd == LC_UUID:
            uuid_at = at + 8
        elif cmd == LC_CODE_SIGNATURE:
            end = struct.unpack_from("<I", data, at + 8)[0]
        at += size
    if uuid_at is None:
        raise SystemExit(f"check-macho: error: {path}: no LC_UUID")
    data[uuid_at : uuid_at + 16] = bytes(16)
    uuid = bytearray(hashlib.sha256(bytes(data[:end])).digest()[:16])
    uuid[6] = (uuid[6] & 0x0F) | 0x50  # a name-based UUID (version 5 layout)
    uuid[8] = (uuid[8] & 0x3F) | 0x80
    data[uuid_at : uuid_at + 16] = uuid
    with open(path, "wb") as f:
        f.write(data)
    print(f"check-macho: LC_UUID {uuid.hex()}")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--set-uuid":
        set_uuid(sys.argv[2])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("binary")
    parser.add_argument("--arch", required=True, choices=sorted(CPU_TYPES))
    parser.add_argument("--minos", required=True, help="the minimum macOS version, e.g. 11.0")
    args = parser.parse_args()
    problems, info = check(args.binary, args.arch, args.minos)
    for line in info:
        print(f"check-macho: {line}")
    for line in problems:
        print(f"check-macho: error: {args.binary}: {line}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
