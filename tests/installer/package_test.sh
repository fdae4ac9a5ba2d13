#!/usr/bin/env bash
# The .deb end to end (issue 8): builds the packages with CPack from a configured build folder,
# checks their contents and metadata (dpkg-deb; lintian errors fail the test), installs the main
# package (for real with dpkg when run as root, else unpacked into a scratch root), runs
# `memlong --version`, `memlong generate` with the default model and the GUI's smoke test in
# offscreen mode from the installed paths, then removes it and checks nothing is left behind.
#   tests/installer/package_test.sh BUILD_DIR
set -euo pipefail
build="$(cd "$1" && pwd)"
work="$(mktemp -d)"
installed_for_real=0
cleanup() {
  if [ "$installed_for_real" = 1 ]; then dpkg -r memlong-desktop >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "package_test: FAIL: $*" >&2; exit 1; }

# 1. Build the packages.
(cd "$build" && cpack -G DEB -B "$work/pkg" >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; fail "cpack"; }
deb="$(ls "$work"/pkg/memlong-desktop_*.deb 2>/dev/null | head -n 1)"
[ -f "$deb" ] || { ls -la "$work/pkg"; fail "no memlong-desktop_*.deb was made"; }
echo "package_test: built $(basename "$deb") ($(du -h "$deb" | cut -f1))"

# 2. Contents.
dpkg-deb --contents "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$work/contents"
for f in /usr/bin/memlong /usr/bin/memlong-desktop /usr/bin/memlong-fetch-models \
  /usr/lib/memlong/memlong-parse-worker \
  /usr/share/applications/org.memlong.MemLongDesktop.desktop \
  /usr/share/metainfo/org.memlong.MemLongDesktop.metainfo.xml \
  /usr/share/icons/hicolor/scalable/apps/memlong-desktop.svg \
  /usr/share/icons/hicolor/48x48/apps/memlong-desktop.png \
  /usr/share/icons/hicolor/256x256/apps/memlong-desktop.png \
  /usr/share/man/man1/memlong.1.gz /usr/share/man/man1/memlong-desktop.1.gz \
  /usr/share/memlong/prompts/default/qa_text_user.txt \
  /usr/share/memlong/translations/memlong_ko.qm \
  /usr/share/doc/memlong-desktop/copyright /usr/share/doc/memlong-desktop/changelog.gz; do
  grep -qx "$f" "$work/contents" || fail "$f is not in the package"
done
! grep -q '^/usr/local' "$work/contents" || fail "files under /usr/local"
! grep -qE '\.(gguf|safetensors|bin)$' "$work/contents" || fail "a model file is bundled"
! grep -q 'libmemlong_cuda' "$work/contents" || fail "the CUDA module belongs in memlong-desktop-cuda"

# 3. Metadata: Depends computed by dpkg-shlibdeps (each library the binaries link).
depends="$(dpkg-deb -f "$deb" Depends)"
echo "package_test: Depends: $depends"
for lib in libc6 libstdc++6 libqt6widgets6 libqt6gui6 libqt6core6 libsqlite3-0 libpoppler-cpp0v5 \
  libzip4 libxml2 libsentencepiece0 libutf8proc2 libuchardet0; do
  echo "$depends" | grep -q "\b$lib\b" || fail "Depends lacks $lib"
done
[ "$(dpkg-deb -f "$deb" Package)" = memlong-desktop ] || fail "package name"
[ -n "$(dpkg-deb -f "$deb" Description)" ] || fail "no description"
if command -v lintian >/dev/null 2>&1; then
  lintian --tag-display-limit 0 "$deb" >"$work/lintian.txt" 2>&1 || true
  cat "$work/lintian.txt"
  ! grep -q '^E: ' "$work/lintian.txt" || fail "lintian reports errors"
else
  echo "package_test: lintian is not installed; its check did not run"
fi
if command -v desktop-file-validate >/dev/null 2>&1; then
  dpkg-deb -x "$deb" "$work/peek"
  desktop-file-validate "$work/peek/usr/share/applications/org.memlong.MemLongDesktop.desktop" ||
    fail "desktop entry"
fi

# 4. Install.
if [ "$(id -u)" = 0 ] && ! dpkg -s memlong-desktop >/dev/null 2>&1; then
  dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -i (missing Depends?)"; }
  installed_for_real=1
  root=""
  echo "package_test: installed with dpkg"
else
  dpkg-deb -x "$deb" "$work/root"
  root="$work/root"
  echo "package_test: unpacked into a scratch root (not root, or already installed)"
fi

# 5. Run from the installed paths, away from the source tree (resources must come from
# /usr/share/memlong, models from the user's models folder).
cd "$work"
unset MEMLONG_RESOURCES_DIR
"$root/usr/bin/memlong" --version | grep -q "memlong 0.1.0" || fail "memlong --version"
"$root/usr/bin/memlong-desktop" --version | grep -q "0.1.0" || fail "memlong-desktop --version"
# The parser helper starts with the package's libraries and explains itself (exit 2) when run
# by hand.
set +e
worker_said="$("$root/usr/lib/memlong/memlong-parse-worker" 2>&1)"
worker_rc=$?
set -e
[ "$worker_rc" = 2 ] && echo "$worker_said" | grep -q "document parser helper" ||
  fail "memlong-parse-worker (exit $worker_rc): $worker_said"
out="$("$root/usr/bin/memlong" generate -p "Name a colour." -n 8 -q)" || fail "memlong generate"
[ -n "$out" ] || fail "memlong generate printed nothing"
echo "package_test: generate said: $out"
QT_QPA_PLATFORM=offscreen "$root/usr/bin/memlong-desktop" --smoke-test --library "$work/library" ||
  fail "memlong-desktop --smoke-test (offscreen)"

# 6. Remove.
if [ "$installed_for_real" = 1 ]; then
  dpkg -r memlong-desktop >/dev/null || fail "dpkg -r"
  installed_for_real=0
  for f in /usr/bin/memlong /usr/bin/memlong-desktop /usr/share/memlong /usr/lib/memlong; do
    [ ! -e "$f" ] || fail "$f is left after dpkg -r"
  done
  dpkg -s memlong-desktop >/dev/null 2>&1 && fail "still registered after dpkg -r"
fi
echo "package_test: OK"
