#!/usr/bin/env bash
# compare/run.sh: run pathvet and gosec on the analyzer test cases and
# count, per rule package, what each found, missed and falsely reported.
#
# The cases are the packages of internal/checks/testdata/src: a line with
# a "// want" comment is a true positive, every other line must stay
# silent. They are copied into a scratch module (the canon and confine
# stand-ins under a replace), so both tools see ordinary module code.
#
# Usage: compare/run.sh [path to gosec]   (from cmd/pathvet; gosec is
# installed in a separate step: go install github.com/securego/gosec/v2/cmd/gosec@v2.30.0)
# Needs python3 for the counting.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
gosec="${1:-$(go env GOPATH)/bin/gosec}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

GOWORK=off go build -o "$scratch/pathvet" .
src=internal/checks/testdata/src
mkdir -p "$scratch/m" "$scratch/stubs"
cp -r "$src/github.com/pathguard/pathguard/." "$scratch/stubs/"
printf 'module github.com/pathguard/pathguard\n\ngo 1.25\n' >"$scratch/stubs/go.mod"
for d in "$src"/*/; do
	name="$(basename "$d")"
	[ "$name" = github.com ] && continue
	mkdir -p "$scratch/m/$name"
	cp "$d"/*.go "$scratch/m/$name/"
done
cat >"$scratch/m/go.mod" <<'MOD'
module example.com/cases

go 1.25

require github.com/pathguard/pathguard v0.0.0

replace github.com/pathguard/pathguard => ../stubs
MOD
(
	cd "$scratch/m"
	export GOWORK=off GOFLAGS=-mod=mod
	"$scratch/pathvet" -json ./... >"$scratch/pathvet.json" 2>"$scratch/pathvet.err" || true
	"$gosec" -quiet -fmt=json -out="$scratch/gosec.json" ./... 2>"$scratch/gosec.err" || true
)
"$gosec" -version | head -1
python3 - "$scratch" <<'PY'
import json, os, re, sys
root = sys.argv[1]
m = os.path.join(root, "m")
# Rules of gosec that are about paths, archives and decompression.
GOSEC = {"G110", "G122", "G304", "G305", "G703"}
want = {}
for pkg in sorted(os.listdir(m)):
    d = os.path.join(m, pkg)
    if not os.path.isdir(d):
        continue
    for f in os.listdir(d):
        if f.endswith(".go"):
            for i, line in enumerate(open(os.path.join(d, f)), 1):
                want.setdefault(pkg, {})[(f, i)] = "// want" in line
def key(path, line):
    rel = os.path.relpath(os.path.realpath(path), os.path.realpath(m))
    pkg, f = rel.split(os.sep, 1)
    return pkg, (f, int(line))
pv, gs, msgs = {}, {}, {}
for pkgs in json.load(open(os.path.join(root, "pathvet.json"))).values():
    for ds in pkgs.values():
        if isinstance(ds, dict):
            continue
        for d in ds:
            path, line = d["posn"].rsplit(":", 2)[:2]
            p, k = key(path, line)
            pv.setdefault(p, set()).add(k)
            msgs.setdefault((p, k), []).append("pathvet: " + d["message"][:90])
for iss in json.load(open(os.path.join(root, "gosec.json"))).get("Issues") or []:
    if iss["rule_id"] not in GOSEC:
        continue
    p, k = key(iss["file"], iss["line"].split("-")[0])
    gs.setdefault(p, set()).add(k)
    msgs.setdefault((p, k), []).append("gosec %s: %s" % (iss["rule_id"], iss["details"][:80]))
print("| case package | true positives | pathvet found | pathvet missed | pathvet reports on other lines | gosec found | gosec missed | gosec reports on other lines |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
tot = [0] * 7
for pkg in sorted(want):
    tp = {k for k, v in want[pkg].items() if v}
    row = [len(tp)]
    for rep in (pv.get(pkg, set()), gs.get(pkg, set())):
        row += [len(rep & tp), len(tp - rep), len(rep - tp)]
    tot = [a + b for a, b in zip(tot, row)]
    print("| %s | %s |" % (pkg, " | ".join(map(str, row))))
print("| all | %s |" % " | ".join(map(str, tot)))
if os.environ.get("VERBOSE"):
    for (p, k), ms in sorted(msgs.items()):
        mark = "want" if want[p].get(k) else "NOT WANTED"
        for msg in ms:
            print("%s/%s:%d [%s] %s" % (p, k[0], k[1], mark, msg), file=sys.stderr)
PY
