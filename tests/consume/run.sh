#!/usr/bin/env bash
# Consumption tests: a tiny downstream program built against sepal three ways:
# installed + pkg-config, as a Meson subproject, installed + CMake find_package.
#   run.sh SEPAL_SOURCE_DIR
set -euo pipefail
src=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
step() { printf '== %s\n' "$*"; }

step "install sepal into a private prefix"
meson setup "$work/build" "$src" --prefix="$work/prefix" -Dtests=disabled -Dexamples=disabled \
  -Dbenchmarks=disabled >"$work/setup.log" || { cat "$work/setup.log"; exit 1; }
meson install -C "$work/build" --quiet
pc=$(dirname "$(find "$work/prefix" -name sepal.pc | head -n 1)")
[[ -n $pc ]] || { echo "sepal.pc not installed"; exit 1; }
test -f "$work/prefix/include/sepal/sepal.hpp" || { echo "headers not installed"; exit 1; }
for h in net.hpp net/udp_server.hpp net/udp_client.hpp net/batch_io.hpp net/detail/route.hpp; do
  test -f "$work/prefix/include/sepal/$h" || { echo "net header $h not installed"; exit 1; }
done

step "pkg-config"
export PKG_CONFIG_PATH="$pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
# shellcheck disable=SC2046
c++ $(pkg-config --cflags sepal) "$here/main.cpp" -o "$work/consumer-pc" $(pkg-config --libs sepal)
"$work/consumer-pc"

step "Meson subproject"
cp -r "$here/meson_project" "$work/mp"
cp "$here/main.cpp" "$work/main.cpp"
mkdir -p "$work/mp/subprojects"
ln -s "$src" "$work/mp/subprojects/sepal"
meson setup "$work/mp/build" "$work/mp" --wrap-mode=nodownload >"$work/mp.log" || { cat "$work/mp.log"; exit 1; }
# sepal's own tests must not be configured inside a consumer
if meson introspect --tests "$work/mp/build" | grep -q '"name"'; then echo "sepal tests leaked into consumer"; exit 1; fi
ninja -C "$work/mp/build" >/dev/null
"$work/mp/build/consumer"

step "CMake find_package"
cp -r "$here/cmake_project" "$work/cp"
cmake -S "$work/cp" -B "$work/cp/build" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_CXX_STANDARD=20 >/dev/null
cmake --build "$work/cp/build" >/dev/null
"$work/cp/build/consumer"
echo "consumption tests passed"
