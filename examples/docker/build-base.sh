#!/usr/bin/env bash
# Builds the base image of this example without a registry: a root
# filesystem holding busybox (Debian's busybox-static) and a static mlrun,
# imported with `docker import`. Usage: build-base.sh [TAG]
set -euo pipefail
tag=${1:-mlrun-example-base:latest}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
busybox=$(command -v busybox || true)
if [ -z "$busybox" ] || ! file -L "$busybox" 2>/dev/null | grep -q 'statically linked'; then
  busybox=/bin/busybox
fi
[ -x "$busybox" ] || { echo "build-base: install busybox-static (apt-get install busybox-static)" >&2; exit 1; }
# Built once per state of mlrun's source and busybox: several builders at
# once (test packages running side by side) take turns, and find the image
# up to date rather than replacing it under each other's feet (a project
# image's tag hashes its base image's id).
key=""
if git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
  key=$(cd "$repo" && { git ls-files -z -- '*.go' go.mod go.sum; git ls-files -z --others --exclude-standard -- '*.go'; } |
    xargs -0 sha256sum | cat - "$busybox" | sha256sum | cut -c1-32)
  exec 9>"${TMPDIR:-/tmp}/mlrun-build-base.lock"
  flock 9
  if docker image inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$tag" 2>/dev/null | grep -qx "MLRUN_BASE_KEY=$key"; then
    echo "up to date: $tag"
    exit 0
  fi
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/bin "$root"/usr/local/bin "$root"/tmp "$root"/etc "$root"/root
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
echo 'root:x:0:' > "$root/etc/group"
# mlrun, linked statically so it runs on busybox (SQLite is C, hence cgo).
(cd "$repo" && CGO_ENABLED=1 go build -tags 'osusergo netgo sqlite_omit_load_extension' \
  -ldflags '-s -w -extldflags -static' -o "$root/usr/local/bin/mlrun" ./cmd/mlrun)
tar -C "$root" -c . | docker import \
  -c 'ENV PATH=/usr/local/bin:/bin' -c "ENV MLRUN_BASE_KEY=$key" -c 'WORKDIR /' -c 'CMD ["sh"]' - "$tag" >/dev/null
echo "built $tag"
