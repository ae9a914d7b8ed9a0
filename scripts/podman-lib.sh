# Sourced by tests/install/image_test.sh and scripts/fresh-check.sh: podman with everything it
# keeps under one work folder, and a Debian 12 minbase made by debootstrap (no registry needed).
#   podman_setup WORK      sets P (the podman command line) and exports CONTAINERS_CONF, TMPDIR
#   debian_base WORK TAR   makes TAR (debootstrap --variant=minbase bookworm) unless it exists
#   debian_mirror          prints the Debian bookworm mirror of this machine's apt sources
# Both functions return non-zero with a message on stderr when they cannot.

podman_setup() {
    local work=$1 driver err
    mkdir -p "$work/tmp"
    # runc with cgroupfs (no systemd, and crun refuses hybrid cgroups), limits that need no
    # CAP_SYS_RESOURCE, events in a file.
    cat >"$work/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
    export CONTAINERS_CONF=$work/containers.conf
    export TMPDIR=$work/tmp
    # overlay where the kernel allows it (fast), vfs otherwise (e.g. inside another container).
    for driver in overlay vfs; do
        P=(podman --root "$work/storage-$driver" --runroot "$work/runroot-$driver" --storage-driver "$driver")
        PODMAN_DRIVER=$driver
        if err=$("${P[@]}" images 2>&1 >/dev/null); then
            return 0
        fi
        echo "note: podman's $driver storage does not work here (${err##*$'\n'})" >&2
    done
    echo "podman does not work here" >&2
    return 1
}

debian_mirror() {
    python3 - <<'PY'
import glob, re
uris = []
for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    for stanza in re.split(r"\n\s*\n", open(path).read()):
        fields = dict(re.findall(r"^(\w[\w-]*):\s*(.*)$", stanza, re.M))
        if "deb" in fields.get("Types", "").split() and "bookworm" in fields.get("Suites", "").split():
            uris += fields.get("URIs", "").split()
for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for line in lines:
        m = re.match(r"\s*deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+bookworm\s", line + " ")
        if m:
            uris.append(m.group(1))
print(uris[0] if uris else "")
PY
}

debian_base() {
    local work=$1 tar=$2 mirror
    [ -s "$tar" ] && return 0
    mirror=$(debian_mirror)
    [ -n "$mirror" ] || {
        echo "no Debian bookworm mirror in /etc/apt/sources.list{,.d}" >&2
        return 1
    }
    echo "debootstrap --variant=minbase bookworm from $mirror" >&2
    rm -rf "$work/rootfs"
    if ! debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
        echo "debootstrap failed: $(tail -5 "$work/debootstrap.log")" >&2
        return 1
    fi
    tar -C "$work/rootfs" --numeric-owner -cf "$tar.part" . || {
        echo "tar of the base failed" >&2
        return 1
    }
    mv "$tar.part" "$tar"
    rm -rf "$work/rootfs"
}
