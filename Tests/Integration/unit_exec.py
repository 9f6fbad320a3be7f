"""Runs a command line of a systemd unit the way systemd would, without systemd.

Usage (as root, inside the lab's router namespace, under `unshare --mount`):
  unit_exec.py UNIT [--dropin FILE] [--user NAME] [--append ARGS] [--command LINE] {ExecStart}

From the unit (and drop-in) it applies what the worker would live under: ExecStartPre=+
lines run first as root (with the service user's name mapped to NAME's group); a private
/run with RuntimeDirectory owned by the user; /proc with ProtectProc=/ProcSubset=; UMask;
then setpriv with User's ids, CapabilityBoundingSet, AmbientCapabilities and
NoNewPrivileges; then the SystemCallFilter (groups expanded by `systemd-analyze
syscall-filter`, SystemCallErrorNumber as the action) through libseccomp; then exec.
Prints nothing of its own; fails loudly on anything it cannot apply.
"""
import errno, grp, os, pwd, shlex, subprocess, sys


def parse(paths):
    settings = {}
    for path in paths:
        section = None
        for raw in open(path):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("["):
                section = line
                continue
            if section != "[Service]":
                continue
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


def last(settings, key, default=None):
    values = settings.get(key)
    return values[-1] if values else default


def expand(group, seen=None):
    seen = set() if seen is None else seen
    if not group.startswith("@"):
        return {group}
    if group in seen:
        return set()
    seen.add(group)
    out = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager", group],
                         check=True, capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines()[1:]:
        item = line.strip()
        if not item or item.startswith("#"):
            continue
        names |= expand(item, seen)
    return names


def seccomp_then_exec(unit_files, command):
    import seccomp
    settings = parse(unit_files)
    # systemd.exec(5): the first line sets the kind of list; each later line adds to it or
    # takes from it, in order (so a call denied by a group can be allowed again after it).
    lines = settings.get("SystemCallFilter", [])
    allowed = bool(lines) and not lines[0].startswith("~")
    rules = set()
    for value in lines:
        names = set().union(*(expand(item) for item in value.lstrip("~").split()))
        if value.startswith("~") == (not allowed):
            rules |= names
        else:
            rules -= names
    number = last(settings, "SystemCallErrorNumber", "EPERM")
    action = seccomp.ERRNO(getattr(errno, number)) if allowed else seccomp.ALLOW
    f = seccomp.SyscallFilter(action)
    loaded = 0
    for name in sorted(rules):
        try:
            f.add_rule(seccomp.ALLOW if allowed else seccomp.ERRNO(getattr(errno, number)), name)
            loaded += 1
        except (RuntimeError, ValueError, OSError):
            pass  # not a syscall on this architecture / libseccomp
    f.load()
    os.execvp(command[0], command)


def main():
    args = sys.argv[1:]
    if args[0] == "--seccomp-then-exec":
        split = args.index("--")
        return seccomp_then_exec(args[1:split], args[split + 1:])
    unit, rest = args[0], args[1:]
    files, user, append, replace = [unit], "nobody", [], None
    while len(rest) > 1:
        flag, value, rest = rest[0], rest[1], rest[2:]
        if flag == "--dropin":
            files.append(value)
        elif flag == "--user":
            user = value
        elif flag == "--append":
            append = shlex.split(value)
        elif flag == "--command":  # a probe in place of the unit's line
            replace = value
    which = rest[0]
    settings = parse(files)
    account = pwd.getpwnam(user)
    group = grp.getgrgid(account.pw_gid).gr_name
    service_user = last(settings, "User", "root")

    # A private /run, as the service would see the host's, with its RuntimeDirectory.
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755", "tmpfs", "/run"], check=True)
    if os.environ.get("UNIT_EXEC_LOCK_MODE"):
        # The host's iptables lock, as root left it.
        fd = os.open("/run/xtables.lock", os.O_CREAT | os.O_RDONLY, 0o600)
        os.close(fd)
        os.chmod("/run/xtables.lock", int(os.environ["UNIT_EXEC_LOCK_MODE"], 8))
    for name in (last(settings, "RuntimeDirectory") or "").split():
        os.makedirs("/run/" + name, mode=int(last(settings, "RuntimeDirectoryMode", "0755"), 8), exist_ok=True)
        os.chown("/run/" + name, account.pw_uid, account.pw_gid)
    options = []
    if last(settings, "ProtectProc"):
        options.append("hidepid=" + last(settings, "ProtectProc"))
    if last(settings, "ProcSubset"):
        options.append("subset=" + last(settings, "ProcSubset"))
    if options:
        subprocess.run(["mount", "-t", "proc", "-o", ",".join(options), "proc", "/proc"], check=True)

    # ExecStartPre=+ lines: full privileges, before the worker. Also before ExecStopPost,
    # which under systemd finds what they left (this /run is new for every call).
    if which in ("ExecStart", "ExecStopPost"):
        for line in settings.get("ExecStartPre", []):
            if line.startswith("+"):
                command = line[1:].replace(service_user, group)
                subprocess.run(shlex.split(command), check=True)

    line = last(settings, which)
    # $VARIABLES come from EnvironmentFile= (/etc/default/mssclamp), absent here: empty.
    command = [w for w in shlex.split(replace or line.lstrip("-+!")) if not w.startswith("$")] + append
    ambient = " ".join(settings.get("AmbientCapabilities", [])).split()
    bounding = " ".join(settings.get("CapabilityBoundingSet", [])).split()
    caps = lambda names: ",".join("+" + n.lower().removeprefix("cap_") for n in names)
    setpriv = ["setpriv", "--reuid", str(account.pw_uid), "--regid", str(account.pw_gid), "--clear-groups"]
    if bounding:
        setpriv += ["--bounding-set", "-all," + caps(bounding)]
    if ambient:
        setpriv += ["--inh-caps", "-all," + caps(ambient), "--ambient-caps", caps(ambient)]
    if last(settings, "NoNewPrivileges") == "yes":
        setpriv += ["--no-new-privs"]
    umask = last(settings, "UMask")
    if umask:
        os.umask(int(umask, 8))
    os.execvp("setpriv", setpriv + [sys.executable, os.path.abspath(__file__), "--seccomp-then-exec"]
              + files + ["--"] + command)


main()
