#!/usr/bin/env bash
# Builds a Python base image without a registry, for the tests of images
# that serve Python models: the host's /usr/bin/python3, its standard
# library, the Debian packages a served scikit-learn model imports
# (found by importing them) and the shared libraries all of that links,
# imported with `docker import`. Usage: python-base.sh TAG
set -euo pipefail
tag=$1
py=/usr/bin/python3
"$py" -c 'import sklearn, numpy, pandas' 2>/dev/null || { echo "python-base: apt-get install python3-sklearn python3-pandas" >&2; exit 1; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
# The package folders the serving worker loads: what is imported once a
# scikit-learn estimator has predicted on a DataFrame.
mapfile -t pkgs < <("$py" - <<'EOF'
import sys, pickle, numpy, pandas
import sklearn.linear_model, sklearn.ensemble, sklearn.tree, sklearn.pipeline, sklearn.preprocessing
m = sklearn.linear_model.ElasticNet().fit(numpy.ones((4, 2)), [1, 2, 3, 4])
m.predict(pandas.DataFrame(pickle.loads(pickle.dumps([[1.0, 2.0]]))))
roots = set()
for mod in list(sys.modules.values()):
    f = getattr(mod, "__file__", None) or ""
    if "/dist-packages/" in f:
        head, rest = f.split("/dist-packages/", 1)
        roots.add(head + "/dist-packages/" + rest.split("/")[0])
print("\n".join(sorted(roots)))
EOF
)
real=$(readlink -f "$py")
stdlib=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
# Debian's merged /usr: /lib, /lib64 and /bin are links into /usr, as here.
mkdir -p "$root/usr/lib" "$root/usr/lib64" "$root/usr/bin"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
ln -s usr/bin "$root/bin"
usr() { case $1 in /lib/* | /lib64/* | /bin/*) echo "/usr$1" ;; *) echo "$1" ;; esac; }
copy() { (cd / && for f in "$@"; do f=$(usr "$f"); cp -a --parents "${f#/}" "$root/"; done); }
copy "$real" "$stdlib" "${pkgs[@]}" /usr/share/zoneinfo # pandas reads the system time zones
ln -sf "$(basename "$real")" "$root/usr/bin/python3"
rm -rf "$root$stdlib/test" "$root$stdlib/idlelib" "$root$stdlib/tkinter" "$root$stdlib/ensurepip"
# Every shared library those binaries and extension modules need (and
# the links by which they are found), and the dynamic loader.
mapfile -t libs < <(find "$root/usr" -type f \( -name '*.so*' -o -path "$root$real" \) | sed "s#^$root##" |
  xargs -r ldd 2>/dev/null | awk '/=> \// {print $3} /^\t\/(usr\/)?lib/ {print $1}' | sort -u)
# A link and every link it goes through (Debian's alternatives: libblas.so.3
# -> /etc/alternatives/… -> the chosen BLAS).
chain() {
  local f=$1 t
  for _ in 1 2 3 4 5 6 7 8; do
    copy "$f"
    [ -L "$f" ] || return 0
    t=$(readlink "$f")
    case $t in /*) f=$t ;; *) f=$(dirname "$f")/$t ;; esac
  done
}
for l in "${libs[@]}" /lib64/ld-linux-x86-64.so.2; do chain "$l"; done
mkdir -p "$root/tmp" "$root/etc"
chmod 1777 "$root/tmp"
tar -C "$root" -c . | docker import -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' -c 'WORKDIR /' - "$tag" >/dev/null
echo "built $tag ($(du -sh "$root" | cut -f1))"
