#!/usr/bin/python3
"""Checks the Containerfile without a container engine: the rootfs stage unpacks a Debian
package for every shared library the built binary needs (ldd + dpkg -S), the runtime stage is
that root on an empty image (no shell, no package manager), the base images are build
arguments whose defaults stay Debian 12, the build stage installs the -dev package of every
library CMakeLists.txt asks pkg-config for, the image runs as a numeric non-root user with the
binary itself as ENTRYPOINT and carries the OCI labels, and .containerignore keeps build
trees, history and keys out of the build context. tests/install/image_test.sh builds and runs
the image.

Environment: COCO_BIN, COCO_SRC (see tests/CMakeLists.txt)."""

import json
import os
import re
import shlex
import subprocess
import sys

BIN = os.environ["COCO_BIN"]
SRC = os.environ["COCO_SRC"]
# Sanitizer builds link these; the image is built without sanitizers.
SANITIZER_LIBS = ("libasan.", "libubsan.", "liblsan.", "libtsan.")
SHELLS = {"sh", "bash", "dash", "/bin/sh", "/bin/bash", "/bin/dash", "/usr/bin/env"}

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
    return cond


def run(args):
    return subprocess.run(args, capture_output=True, text=True)


def parse_containerfile(path):
    """Returns stages: [{'from': image, 'name': alias, 'instrs': [(KEYWORD, args)]}]."""
    with open(path) as f:
        text = f.read()
    # Join continuation lines, drop comments.
    lines, cur = [], ""
    for raw in text.splitlines():
        s = raw.strip()
        if not cur and (not s or s.startswith("#")):
            continue
        if s.startswith("#"):
            continue
        if s.endswith("\\"):
            cur += s[:-1] + " "
            continue
        lines.append(cur + s)
        cur = ""
    if cur:
        lines.append(cur)
    stages, args_before = [], {}
    for line in lines:
        kw, _, args = line.partition(" ")
        kw = kw.upper()
        if kw == "ARG" and not stages:
            name, _, default = args.strip().partition("=")
            args_before[name] = default
        elif kw == "FROM":
            parts = args.split()
            alias = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
            image = parts[0]
            m = re.fullmatch(r"\$\{?(\w+)\}?", image)
            arg = m.group(1) if m else None
            if arg:
                check(arg in args_before, f"Containerfile: FROM {image} without a global ARG")
                image = args_before.get(arg, "")
            stages.append({"from": image, "arg": arg, "name": alias, "instrs": []})
        elif check(stages, f"Containerfile: {kw} before FROM"):
            stages[-1]["instrs"].append((kw, args.strip()))
    return stages


def apt_packages(stage):
    """Packages named by `apt-get install` in the stage's RUN instructions."""
    pkgs = []
    for kw, args in stage["instrs"]:
        if kw != "RUN":
            continue
        for cmd in re.split(r"&&|;|\|\|", args):
            words = shlex.split(cmd)
            words = [w for w in words if "=" not in w or w.startswith("-")]  # VAR=x prefixes
            if len(words) >= 2 and words[0] in ("apt-get", "apt") and "install" in words:
                after = words[words.index("install") + 1:]
                pkgs += [w for w in after if not w.startswith("-")]
    return pkgs


def unpacked_packages(stage):
    """The packages the rootfs stage unpacks: its packages="..." list."""
    m = re.search(r'packages="([^"]*)"', stage_text(stage))
    return m.group(1).split() if m else []


def instrs_of(stage):
    return stage["instrs"]


def stage_text(stage):
    return "\n".join(f"{kw} {args}" for kw, args in stage["instrs"])


def dpkg_package(path):
    """The Debian package that ships path (tries the usrmerge twins and the real path)."""
    cands = [path, os.path.realpath(path)]
    for p in list(cands):
        if p.startswith("/usr/lib/"):
            cands.append(p[len("/usr"):])
        elif p.startswith("/lib/") or p.startswith("/lib64/"):
            cands.append("/usr" + p)
    for p in cands:
        r = run(["dpkg", "-S", p])
        if r.returncode == 0:
            return r.stdout.split(":", 1)[0].strip()
    return None


def depends_closure(pkgs):
    """pkgs plus everything they Depend or Pre-Depend on, as installed here."""
    seen, todo = set(), list(pkgs)
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        r = run(["dpkg-query", "-W", "-f=${Depends}, ${Pre-Depends}", p])
        if r.returncode != 0:
            continue
        for alt in r.stdout.split(","):
            for choice in alt.split("|"):
                name = choice.strip().split(" ")[0].split(":")[0]
                if name:
                    todo.append(name)
    return seen


def ldd_libs(binary):
    r = run(["ldd", binary])
    check(r.returncode == 0, f"ldd {binary} failed: {r.stderr}")
    libs = []
    for line in r.stdout.splitlines():
        m = re.match(r"\s*(\S+)\s+=>\s+(\S+)", line) or re.match(r"\s*(/\S+)\s+\(", line)
        if not m:
            continue
        path = m.group(m.lastindex)
        check(path != "not", f"ldd: {line.strip()}")
        libs.append(path)
    return libs


def needed(binary):
    r = run(["objdump", "-p", binary])
    return re.findall(r"^\s*NEEDED\s+(\S+)", r.stdout, re.M)


def main():
    stages = parse_containerfile(os.path.join(SRC, "Containerfile"))
    if not check(len(stages) >= 3, "Containerfile: want build, rootfs and runtime stages"):
        print("\n".join(failures))
        return 1
    build, rootfs, runtime = stages[0], stages[-2], stages[-1]
    check(re.fullmatch(r"(docker\.io/(library/)?)?debian:12(-slim)?", build["from"]),
          f"build stage FROM {build['from']}, want debian:12")
    check(re.fullmatch(r"(docker\.io/(library/)?)?debian:12-slim", rootfs["from"]),
          f"rootfs stage FROM {rootfs['from']}, want debian:12-slim")
    check(build["arg"] and rootfs["arg"], "the base images are not build arguments")
    check(runtime["from"] == "scratch", f"runtime stage FROM {runtime['from']}, want scratch")
    check(not any(k == "RUN" for k, _ in runtime["instrs"]),
          "runtime stage: RUN needs a shell, the image has none")

    # Build stage: CMake, tests off, a release build, the -dev packages CMakeLists.txt needs.
    btext = stage_text(build)
    check(re.search(r"-DCOCO_TESTS=OFF", btext), "build stage: configure with -DCOCO_TESTS=OFF")
    check(re.search(r"-DCMAKE_BUILD_TYPE=(Release|RelWithDebInfo)\b", btext),
          "build stage: CMAKE_BUILD_TYPE Release or RelWithDebInfo")
    check("COCO_SANITIZE=ON" not in btext, "build stage: no sanitizers in the image")
    bpkgs = set(apt_packages(build))
    # What a configure with COCO_TESTS=OFF reads: the top level and the benchmarks.
    cmake = ""
    for name in ["CMakeLists.txt"] + [os.path.join("bench", n) for n in
                                      sorted(os.listdir(os.path.join(SRC, "bench")))
                                      if n.endswith((".cmake", ".txt"))]:
        with open(os.path.join(SRC, name)) as f:
            cmake += f.read()
    modules = re.findall(r"pkg_check_modules\(\s*\w+\s+REQUIRED\s+(?:IMPORTED_TARGET\s+)?(\S+)\)",
                         cmake)
    if re.search(r"find_package\(OpenSSL", cmake):
        modules.append("openssl")
    check(modules, "CMakeLists.txt: no pkg-config modules found (parser out of date?)")
    for mod in modules:
        r = run(["pkg-config", "--path", mod])
        pc = r.stdout.strip()
        pkg = dpkg_package(pc) if r.returncode == 0 and pc else None
        if check(pkg, f"pkg-config module {mod}: no Debian package found here"):
            check(pkg in bpkgs, f"build stage does not install {pkg} (for {mod})")
    for tool in ("cmake", "pkg-config"):
        check(tool in bpkgs, f"build stage does not install {tool}")
    check(bpkgs & {"gcc", "build-essential", "clang"}, "build stage installs no compiler")

    # Runtime stage: every shared library of the binary comes from an installed package.
    # The libraries are the binary's direct ones and theirs, leaving out sanitizer runtimes
    # (and what only they pull in): the image is built without sanitizers.
    rpkgs = unpacked_packages(rootfs)
    check(rpkgs, 'rootfs stage: no packages="..." list')
    rtext = stage_text(rootfs)
    for want in ("dpkg-deb -x", "var/lib/dpkg/status.d", "apt-cache depends --recurse"):
        check(want in rtext, f"rootfs stage: no {want}")
    check(not apt_packages(rootfs), "rootfs stage: apt-get install changes the builder, not the image")
    closure = depends_closure(rpkgs)
    resolved = {os.path.basename(p): p for p in ldd_libs(BIN)}
    direct = [n for n in needed(BIN) if not n.startswith(SANITIZER_LIBS)]
    # clang links its sanitizer runtimes statically; they add libgcc_s for unwinding.
    if "__asan_init" in run(["nm", "-D", BIN]).stdout:
        direct = [n for n in direct if not n.startswith("libgcc_s.")]
    check(direct, f"objdump -p {BIN}: no NEEDED entries")
    libs = set()
    for soname in direct:
        if check(soname in resolved, f"ldd does not resolve {soname}"):
            libs.add(resolved[soname])
            libs.update(ldd_libs(resolved[soname]))
    for lib in sorted(libs):
        pkg = dpkg_package(lib)
        if check(pkg, f"{lib}: no Debian package ships it"):
            check(pkg in closure, f"{lib} ({pkg}) is not installed in the runtime stage")
    # Direct dependencies are named explicitly, not left to another package's Depends.
    for soname in direct:
        pkg = dpkg_package(resolved.get(soname, soname))
        check(pkg in rpkgs, f"rootfs stage should name {pkg} (the binary links {soname})")
    check("ca-certificates" not in rpkgs, "runtime: ca-certificates not needed")
    for bad in ("dash", "bash", "dpkg", "apt", "coreutils", "busybox"):
        check(bad not in rpkgs, f"rootfs stage: {bad} does not belong in the image")
    check(re.search(r"\bbase-files\b", rtext), "rootfs stage: base-files (os-release) missing")
    labels = " ".join(a for k, a in instrs_of(runtime) if k == "LABEL")
    for key in ("version", "source", "licenses"):
        check(f"org.opencontainers.image.{key}=" in labels, f"runtime: no {key} label")
    check('org.opencontainers.image.licenses="Apache-2.0"' in labels, "runtime: licenses label")
    version = re.search(r"project\(coco-webhook VERSION (\S+)", cmake)
    check(version and re.search(r"\bARG VERSION=" + re.escape(version.group(1)) + r"\b",
                                stage_text(runtime)),
          "runtime: ARG VERSION default differs from project() in CMakeLists.txt")

    # User, entrypoint, command.
    instrs = runtime["instrs"]
    users = [a for k, a in instrs if k == "USER"]
    if check(users, "runtime: no USER"):
        uid, _, gid = users[-1].partition(":")
        check(uid.isdigit() and int(uid) != 0 and (not gid or gid.isdigit()),
              f"runtime: USER {users[-1]} must be numeric and not root")
        check(uid == "65532", f"runtime: USER {uid}, want 65532")
    entry = [a for k, a in instrs if k == "ENTRYPOINT"]
    binary_path = None
    if check(entry, "runtime: no ENTRYPOINT"):
        try:
            ep = json.loads(entry[-1])
        except ValueError:
            ep = None
        if check(isinstance(ep, list) and ep, "runtime: ENTRYPOINT must be the exec (JSON) form"):
            check(ep[0] not in SHELLS and os.path.basename(ep[0]) not in SHELLS,
                  f"runtime: ENTRYPOINT {ep} runs a shell")
            check(os.path.basename(ep[0]) == "coco-webhook", "runtime: ENTRYPOINT is not the binary")
            binary_path = ep[0]
    cmd = [a for k, a in instrs if k == "CMD"]
    check(cmd and cmd[-1].replace(" ", "") == '["serve"]', 'runtime: CMD must be ["serve"]')
    copies = [a for k, a in instrs if k == "COPY"]
    check(any(a.startswith("--from=") and binary_path and a.split()[-1] == binary_path
              for a in copies), f"runtime: the binary is not copied to {binary_path}")
    check(not any(k == "RUN" and re.search(r"\b(gcc|cmake|make)\b", a) for k, a in instrs),
          "runtime: build tools installed")

    # The build context.
    path = os.path.join(SRC, ".containerignore")
    if check(os.path.exists(path), ".containerignore missing"):
        with open(path) as f:
            ignored = {line.strip() for line in f if line.strip() and not line.startswith("#")}
        for want in (".git", "build", "certs"):
            check(want in ignored or want + "/" in ignored, f".containerignore: add {want}")
        check(any(p.startswith("build") and "*" in p for p in ignored),
              ".containerignore: ignore every build directory (build-*)")

    if failures:
        print("\n".join(failures))
        print(f"{len(failures)} failure(s)")
        return 1
    print("Containerfile: runtime libraries, user and entrypoint check out")
    return 0


if __name__ == "__main__":
    sys.exit(main())
